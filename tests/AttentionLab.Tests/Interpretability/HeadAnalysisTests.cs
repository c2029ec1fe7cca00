using AttentionLab.Hooks;
using AttentionLab.Interpretability;
using AttentionLab.Tests.Generation;

namespace AttentionLab.Tests.Interpretability;

/// <summary>Ablation, the neuron view and the attention-sink experiment against their definitions.</summary>
public class HeadAnalysisTests
{
    private static readonly int[] Ids = [3, 14, 15, 9, 26, 5, 35, 8, 9, 7];

    [Fact]
    public void Zero_ablation_of_each_head_equals_a_full_forward_with_that_head_zeroed()
    {
        var model = TinyGpt2.Random(51);
        var result = HeadAblation.Run(model, Ids, AblationKind.Zero);
        float plain = model.RunWithHooks(Ids, new HookSet());
        Assert.Equal(plain, result.BaseLoss, 5);
        for (int l = 0; l < 2; l++)
            for (int h = 0; h < 4; h++)
            {
                float direct = model.RunWithHooks(Ids, new HookSet().ZeroHead(l, h));
                Assert.Equal(direct, result.Loss[l * 4 + h], 5);
                Assert.Equal(direct - plain, result[l, h], 4);
            }
        Assert.Contains(result.Delta, d => Math.Abs(d) > 1e-3);
    }

    [Fact]
    public void Mean_ablation_writes_the_head_s_mean_over_the_reference_batch()
    {
        var model = TinyGpt2.Random(52);
        int[][] reference = [Ids, [1, 2, 3, 4, 5, 6]];
        var means = HeadAblation.MeanOutputs(model, reference);
        var (_, a) = model.RunWithCache(reference[0], n => n == "blocks.1.attn.hook_z");
        var (_, b) = model.RunWithCache(reference[1], n => n == "blocks.1.attn.hook_z");
        int c = 32, d = 8, h = 3, i = 5;
        double sum = 0;
        for (int r = 0; r < 10; r++) sum += a["blocks.1.attn.hook_z"].Data[r * c + h * d + i];
        for (int r = 0; r < 6; r++) sum += b["blocks.1.attn.hook_z"].Data[r * c + h * d + i];
        Assert.Equal(sum / 16, means[1 * c + h * d + i], 5);
        var result = HeadAblation.Run(model, Ids, AblationKind.Mean, reference);
        float direct = model.RunWithHooks(Ids, HeadAblation.Hook(model.Config, 1, 3, means));
        Assert.Equal(direct, result.Loss[1 * 4 + 3], 5);
        Assert.NotEqual(HeadAblation.Run(model, Ids, AblationKind.Zero).Loss[7], result.Loss[7]);
    }

    [Fact]
    public void The_neuron_view_s_products_sum_to_the_hooked_score()
    {
        var model = TinyGpt2.Random(53);
        var view = NeuronView.Run(model, Ids, layer: 1, head: 2, query: 7, key: 3);
        Assert.Equal(8, view.Products.Length);
        for (int j = 0; j < 8; j++) Assert.Equal(view.Query[j] * view.Key[j], view.Products[j]);
        Assert.Equal(1 / MathF.Sqrt(8), view.Scale, 6);
        Assert.Equal(view.Score, view.Scaled.Sum(), 5);                                  // Σ q∘k·scale is the score softmax read
        Assert.Equal(view.RawScore * view.Scale, view.Score, 5);
        Assert.True(float.IsNegativeInfinity(view.Scores[8]));                             // causal: the future is hidden
        var softmax = new float[8];
        System.Numerics.Tensors.TensorPrimitives.SoftMax(view.Scores.AsSpan(0, 8), softmax);
        for (int j = 0; j < 8; j++) Assert.Equal(softmax[j], view.Weights[j], 5);
        Assert.Throws<ArgumentException>(() => NeuronView.Run(model, Ids, 2, 0, 0, 0));
    }

    [Fact]
    public void Removing_the_first_key_moves_all_its_weight_and_changes_the_predictions()
    {
        var model = TinyGpt2.Random(54);
        var sinks = AttentionSinks.Run(model, Ids);
        var (_, cache) = model.RunWithCache(Ids, n => n == "blocks.0.attn.hook_pattern");
        var pattern = cache["blocks.0.attn.hook_pattern"].Data;
        double share = 0;
        for (int i = 1; i < 10; i++) share += pattern[(1 * 10 + i) * 10];
        Assert.Equal(share / 9, sinks.Share[1], 5);
        Assert.Equal(0f, sinks.Divergence[0]);
        Assert.Contains(sinks.Divergence, d => d > 1e-4);
        Assert.NotEqual(sinks.Loss, sinks.LossWithout);
        Assert.Equal(model.RunWithHooks(Ids, new HookSet()), sinks.Loss, 0.5f);          // loss over positions 1 … T−2, near the full mean
        Assert.InRange(sinks.SameTop, 0, 9);
    }
}

public class InductionScoreTests
{
    [Fact]
    public void Scores_are_the_mean_pattern_entries_the_definition_names()
    {
        var model = TinyGpt2.Random(55);
        var tokens = InductionHeads.RepeatedSequence(65, 6, seed: 4);
        Assert.Equal(tokens[..6], tokens[6..]);
        var result = InductionHeads.Score(model, tokens);
        var (_, cache) = model.RunWithCache(tokens, n => n == "blocks.1.attn.hook_pattern");
        var pattern = cache["blocks.1.attn.hook_pattern"].Data;                           // (1, H, 12, 12)
        double induction = 0, previous = 0;
        for (int i = 6; i < 12; i++) induction += pattern[(2 * 12 + i) * 12 + i - 5];
        for (int i = 1; i < 12; i++) previous += pattern[(2 * 12 + i) * 12 + i - 1];
        Assert.Equal(induction / 6, result.Induction[1 * 4 + 2], 5);
        Assert.Equal(previous / 11, result.PreviousToken[1 * 4 + 2], 5);
        var losses = new float[12];
        model.RunWithHooks(tokens, new AttentionLab.Hooks.HookSet());
        model.Losses.CopyTo(losses);
        Assert.Equal(losses[6..11].Average(), result.SecondHalfLoss, 5);
        Assert.Equal(losses[..6].Average(), result.FirstHalfLoss, 5);
        Assert.Throws<ArgumentException>(() => InductionHeads.Score(model, [1, 2, 3, 1, 2, 4]));
        float without = InductionHeads.SecondHalfLossWithout(model, tokens, 1, 2);
        model.RunWithHooks(tokens, new AttentionLab.Hooks.HookSet().ZeroHead(1, 2));
        Assert.Equal(model.Losses[6..11].ToArray().Average(), without, 5);
    }
}
