using AttentionLab.Hooks;
using AttentionLab.Attention;
using AttentionLab.Inspection;
using AttentionLab.Models;
using AttentionLab.Rendering;
using AttentionLab.Tests.Generation;

namespace AttentionLab.Tests.Inspection;

/// <summary>The model view's summary (<see cref="DecoderInspector.Overview"/>), the observer it reads each block's
/// weights through, and the fast entropy and role scores it uses.</summary>
public class AttentionOverviewTests
{
    private static readonly int[] Ids = [3, 14, 15, 9, 26, 5, 3, 14, 15, 9, 26, 8, 1, 3];

    public static TheoryData<string> Kernels => new() { "fast", "naive", "flash,tile:4", "window:3,global:1", "performer:16,seed:2" };

    /// <summary>Observing attention changes nothing the model computes (logits bit-identical), and the observed
    /// weights are exactly the ones <see cref="DecoderModel.AttentionWeights"/> materializes afterwards, for kernels
    /// that save their weights and kernels that do not, in inference and in training models.</summary>
    [Theory]
    [MemberData(nameof(Kernels))]
    public void Observed_weights_are_the_materialized_weights_and_change_nothing(string kernelName)
    {
        foreach (bool training in new[] { false, true })
        {
            var model = TinyGpt2.Random(5, AttentionKernels.Parse(kernelName));
            if (training) model = CopyToTraining(model);
            int T = Ids.Length;
            model.Forward(Ids, 1, T);
            var plain = model.Logits.ToArray();
            var observed = new float[model.Config.Layers][];
            var observe = new HookSet().Read(n => n.EndsWith(".attn.hook_pattern", StringComparison.Ordinal), (c, w) => observed[c.Layer] = w.ToArray());
            model.Forward(Ids, 1, T, default, new ForwardOptions { Hooks = observe });
            Assert.Equal(plain, model.Logits.ToArray());
            for (int l = 0; l < model.Config.Layers; l++)
                Assert.Equal(model.AttentionWeights(l), observed[l]);
        }
    }

    /// <summary>Thumbnails, entropies, roles, kept maps, loss and next tokens equal those of the full report
    /// (<see cref="DecoderInspector.Inspect"/>) on the same input: the maps bit-identical, the rest computed from them.</summary>
    [Theory]
    [MemberData(nameof(Kernels))]
    public void The_overview_equals_what_the_full_report_gives(string kernelName)
    {
        var model = TinyGpt2.Random(9, AttentionKernels.Parse(kernelName));
        var c = model.Config;
        int T = Ids.Length, L = c.Layers, H = c.Heads, S = 5;
        var report = DecoderInspector.Inspect(model, null, Ids, new InspectionOptions { IncludeLogits = false, TopK = 7 });
        var roles = HeadRoles.Compute(report);
        foreach (int? layer in new int?[] { null, 1 })
        {
            var o = DecoderInspector.Overview(model, null, Ids, new OverviewOptions { Layer = layer, ThumbnailSide = S, TopK = 7 });
            Assert.Equal(S, o.Side);
            Assert.Equal(report.Entropy, o.Entropy);
            Assert.Equal(roles, o.Roles);
            Assert.Equal(report.Loss, o.Loss);
            Assert.Equal(report.Next, o.Next);
            var thumbnail = new float[S * S];
            for (int l = 0; l < L; l++)
            {
                for (int h = 0; h < H; h++)
                {
                    AttentionThumbnail.MaxPool(report.Map(l, h), T, thumbnail, S);
                    Assert.Equal(thumbnail, o.Thumbnails.AsSpan((l * H + h) * S * S, S * S).ToArray());
                }
                if (layer is null || layer == l)
                    Assert.Equal(report.Attention.AsSpan(l * H * T * T, H * T * T).ToArray(), o.Maps(l).ToArray());
                else
                    Assert.Throws<ArgumentException>(() => o.Maps(l).ToArray());
            }
        }
    }

    [Fact]
    public void Short_inputs_keep_whole_maps_as_thumbnails_and_bad_options_are_refused()
    {
        var model = TinyGpt2.Random(3);
        model.Forward(Ids, 1, Ids.Length);
        var before = model.Logits.ToArray();
        var o = DecoderInspector.Overview(model, null, Ids[..4], new OverviewOptions { ThumbnailSide = 64 });
        Assert.Equal(4, o.Side);
        Assert.Equal(o.LayerMaps, o.Thumbnails);              // every layer kept, S = T: the same floats
        Assert.Throws<ArgumentException>(() => DecoderInspector.Overview(model, null, Ids, new OverviewOptions { Layer = 2 }));
        Assert.Throws<ArgumentException>(() => DecoderInspector.Overview(model, null, Ids, new OverviewOptions { ThumbnailSide = 0 }));
        Assert.Throws<ArgumentException>(() => DecoderInspector.Overview(model, null, [], null));
        model.Forward(Ids, 1, Ids.Length);
        Assert.Equal(before, model.Logits.ToArray());         // the inspector leaves nothing behind on the model
    }

    /// <summary>The vectorized entropy equals the double-precision reference to 1e-6 relative (float logs and dot
    /// products over up to 300 terms), on causal, full and one-hot maps with exact zeros.</summary>
    [Fact]
    public void Fast_entropy_matches_the_double_reference()
    {
        var rng = new Random(11);
        foreach (int T in new[] { 1, 2, 7, 64, 300 })
            foreach (bool causal in new[] { false, true })
            {
                var map = new float[T * T];
                for (int i = 0; i < T; i++)
                {
                    int n = causal ? i + 1 : T;
                    double sum = 0;
                    var row = new double[n];
                    for (int j = 0; j < n; j++) sum += row[j] = rng.NextDouble() < 0.2 ? 0 : Math.Exp(4 * rng.NextDouble());
                    for (int j = 0; j < n; j++) map[i * T + j] = sum == 0 ? (j == 0 ? 1f : 0f) : (float)(row[j] / sum);
                }
                double expected = AttentionHeatmap.MeanEntropy(map, T);
                Assert.Equal(expected, HeadEntropy.Mean(map, T, T), Math.Max(1e-6 * expected, 1e-7));
            }
        var oneHot = new float[16];
        for (int i = 0; i < 4; i++) oneHot[i * 4 + i] = 1f;
        Assert.Equal(0.0, HeadEntropy.Mean(oneHot, 4, 4));
        Assert.Throws<ArgumentException>(() => HeadEntropy.Mean(oneHot, 3, 4));
    }

    /// <summary>The induction score walks only the earlier copies of each token; it equals the definition's double
    /// loop over every earlier key exactly (same terms, same order) on text with many repeats.</summary>
    [Fact]
    public void Induction_scores_equal_the_definitions_double_loop()
    {
        var rng = new Random(4);
        foreach (int T in new[] { 2, 3, 10, 50 })
        {
            var ids = Enumerable.Range(0, T).Select(_ => rng.Next(4)).ToArray();
            var map = Enumerable.Range(0, T * T).Select(_ => (float)rng.NextDouble()).ToArray();
            double induction = 0;
            int rows = 0;
            for (int i = 2; i < T; i++)
            {
                double mass = 0;
                bool repeats = false;
                for (int j = 0; j + 1 < i; j++)
                    if (ids[j] == ids[i]) { repeats = true; mass += map[i * T + j + 1]; }
                if (!repeats) continue;
                induction += mass;
                rows++;
            }
            var s = HeadRoles.Compute(map, ids);
            if (rows == 0) Assert.Null(s.Induction);
            else Assert.Equal(induction / rows, s.Induction!.Value);
        }
    }

    /// <summary>A training model with the same weights (its forward saves what backward needs).</summary>
    private static DecoderModel CopyToTraining(DecoderModel model)
    {
        var training = new DecoderModel(model.Config, model.Attention, training: true);
        model.Parameters.Data.CopyTo(training.Parameters.Data, 0);
        return training;
    }
}
