using AttentionLab.Hooks;
using AttentionLab.Interpretability;
using AttentionLab.Models;
using AttentionLab.Tests.Generation;

namespace AttentionLab.Tests.Interpretability;

/// <summary>The sanity identities of activation patching, and each shortcut pass against a full forward.</summary>
public class ActivationPatchingTests
{
    private static readonly int[] Clean = [3, 14, 15, 9, 26, 5, 35, 8, 9, 7];
    private static readonly int[] Corrupted = [3, 14, 40, 9, 26, 5, 35, 12, 9, 7];     // positions 2 and 7 changed

    private static ActivationPatching Prepare(int seed) =>
        ActivationPatching.Prepare(TinyGpt2.Random(seed), Clean, Corrupted, PatchMetric.LogitDifference(11, 30));

    [Fact]
    public void The_whole_residual_at_layer_0_recovers_exactly_1_and_nothing_recovers_exactly_0()
    {
        var patching = Prepare(31);
        Assert.NotEqual(patching.CleanMetric, patching.CorruptedMetric);
        Assert.Equal(1f, patching.Recovered(patching.PatchResidual(0, Enumerable.Range(0, Clean.Length).ToArray())));
        Assert.Equal(0f, patching.Recovered(patching.PatchResidual(0, [])));
        Assert.Equal(0f, patching.Recovered(patching.PatchResidual(1, [])));
        var model = TinyGpt2.Random(31);
        model.Forward(Clean, 1, Clean.Length);
        Assert.Equal(model.Logits[^model.Config.VocabSize..][11] - model.Logits[^model.Config.VocabSize..][30], patching.CleanMetric);
    }

    [Theory]
    [InlineData(PatchSite.ResidPre)]
    [InlineData(PatchSite.AttnOut)]
    [InlineData(PatchSite.MlpOut)]
    [InlineData(PatchSite.HeadZ)]
    public void Every_cell_equals_a_full_forward_with_the_same_replacement(PatchSite site)
    {
        var patching = Prepare(32);
        var sweep = patching.Sweep(site);
        int columns = site == PatchSite.HeadZ ? 4 : Clean.Length;
        Assert.Equal((2, columns), (sweep.Rows, sweep.Columns));
        for (int l = 0; l < 2; l++)
            for (int i = 0; i < columns; i++)
            {
                float direct = patching.Direct(patching.Hooks(site, l, i));
                Assert.Equal(direct, sweep.Metric[l * columns + i], 5);
                Assert.Equal(patching.Recovered(direct), sweep[l, i], 4);
            }
        if (site == PatchSite.ResidPre)
        {
            // positions the prompts share, before the first change, carry nothing: recovered 0 at every layer
            for (int l = 0; l < 2; l++) Assert.Equal(0f, sweep[l, 0], 6);
            Assert.NotEqual(0f, sweep[0, 2]);                                             // the changed token itself matters
        }
    }

    [Fact]
    public void Progress_counts_every_pass_and_bad_prompts_are_refused()
    {
        var patching = Prepare(33);
        var seen = new List<SweepProgress>();
        patching.Sweep(PatchSite.HeadZ, new SyncProgress(seen.Add));
        Assert.Equal(Enumerable.Range(0, 9).Select(i => new SweepProgress(i, 8)), seen);
        var model = TinyGpt2.Random(33);
        Assert.Contains("same number of tokens", Assert.Throws<ArgumentException>(() =>
            ActivationPatching.Prepare(model, Clean, Corrupted[..5], PatchMetric.Loss(3))).Message);
        Assert.Contains("two different", Assert.Throws<ArgumentException>(() =>
            ActivationPatching.Prepare(model, Clean, Corrupted, PatchMetric.LogitDifference(3, 3))).Message);
    }

    [Fact]
    public void A_loss_metric_is_the_target_s_negative_log_probability()
    {
        var model = TinyGpt2.Random(34);
        var patching = ActivationPatching.Prepare(model, Clean, Corrupted, PatchMetric.Loss(7));
        model.Forward(Clean, 1, Clean.Length);
        var last = model.Logits[^65..].ToArray();
        double lse = Math.Log(last.Sum(z => Math.Exp(z)));
        Assert.Equal(lse - last[7], patching.CleanMetric, 4);
        Assert.Equal(1f, patching.Recovered(patching.PatchResidual(0, Enumerable.Range(0, 10).ToArray())));
    }

    [Fact]
    public void ForwardFrom_equals_a_forward_whose_resid_pre_was_replaced()
    {
        var model = TinyGpt2.Random(35);
        var stream = new float[Clean.Length * model.Config.Channels];
        new Random(1).NextBytes(new byte[1]);
        for (int i = 0; i < stream.Length; i++) stream[i] = MathF.Sin(i * 0.37f);
        model.RunWithHooks(Clean, new HookSet().Edit("blocks.1.hook_resid_pre", (_, m) => stream.CopyTo(m.Span)));
        var direct = model.Logits.ToArray();
        model.ForwardFrom(1, stream, Clean, 1, Clean.Length);
        Assert.Equal(direct, model.Logits.ToArray());
        Assert.Throws<InvalidOperationException>(() => TrainingModel().Backward());
    }

    private static DecoderModel TrainingModel()
    {
        var model = new DecoderModel(DecoderConfig.Tiny);
        model.InitializeWeights(1);
        var targets = Clean[1..].Append(0).ToArray();
        model.ForwardFrom(0, new float[Clean.Length * 32], Clean, 1, Clean.Length, targets);
        return model;
    }

    private sealed class SyncProgress(Action<SweepProgress> report) : IProgress<SweepProgress>
    {
        public void Report(SweepProgress value) => report(value);
    }
}
