using AttentionLab.Interpretability;
using AttentionLab.Tests.Generation;

namespace AttentionLab.Tests.Interpretability;

public class LogitLensTests
{
    private static readonly int[] Ids = [3, 14, 15, 9, 26, 5, 35, 8, 9, 7];

    [Fact]
    public void At_the_last_layer_the_lens_is_the_model_s_logits_exactly()
    {
        var model = TinyGpt2.Random(21);
        var lens = LogitLens.Logits(model, Ids);
        model.Forward(Ids, 1, Ids.Length);
        Assert.Equal(model.Config.Layers + 1, lens.Length);
        Assert.Equal(model.Logits.ToArray(), lens[^1]);                                   // the head's own arithmetic, bit for bit
        Assert.NotEqual(lens[^1], lens[0]);                                               // earlier stages read another stream
    }

    [Fact]
    public void Cells_give_top_tokens_and_the_target_s_rank_from_the_same_probabilities()
    {
        var model = TinyGpt2.Random(22);
        int target = 9;
        var result = LogitLens.Run(model, Ids, target, top: 3, positions: [2, 9]);
        var logits = LogitLens.Logits(model, Ids);
        int v = model.Config.VocabSize;
        Assert.Equal(["blocks.0.hook_resid_pre", "blocks.1.hook_resid_pre", "blocks.1.hook_resid_post"], result.Stages);
        for (int s = 0; s < result.Stages.Length; s++)
            for (int i = 0; i < 2; i++)
            {
                var cell = result[s, i];
                var p = new float[v];
                System.Numerics.Tensors.TensorPrimitives.SoftMax(logits[s].AsSpan(result.Positions[i] * v, v), p);
                var order = Enumerable.Range(0, v).OrderByDescending(j => p[j]).ToArray();
                Assert.Equal(order.Take(3), cell.Top.Select(tp => tp.Token));
                Assert.Equal(p[order[0]], cell.Top[0].Probability, 5);
                Assert.Equal(Array.IndexOf(order, target) + 1, cell.TargetRank);
                Assert.Equal(p[target], cell.TargetProbability, 5);
            }
    }

    [Fact]
    public void Bad_arguments_are_refused_with_a_message()
    {
        var model = TinyGpt2.Random(23);
        Assert.Contains("outside", Assert.Throws<ArgumentException>(() => LogitLens.Run(model, Ids, target: 99)).Message);
        Assert.Contains("position", Assert.Throws<ArgumentException>(() => LogitLens.Run(model, Ids, positions: [10])).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => LogitLens.Run(model, [])).Message);
    }
}
