using AttentionLab.Diagnostics;
using AttentionLab.IO;
using AttentionLab.Kernels;
using AttentionLab.Models;

namespace AttentionLab.Tests.Models;

/// <summary>
/// GPT-2 with Q8_0 streamed weights against fixtures/q8_weights.json (make_half_weight_fixtures.py: the Hugging Face
/// GPT-2 forward in float64 with every streamed matrix quantized by ggml's Q8_0 reference rule, written in torch). The
/// quants and scales must match torch's exactly, so the weights are the reference's and only the float32 arithmetic
/// differs: the tolerance is the float32 parity one of <see cref="Gpt2FixtureTests"/>, rtol 1e-5, atol 1e-6 on logits.
/// </summary>
public sealed class Q8WeightModelTests
{
    private const double LogitsRtol = 1e-5, LogitsAtol = 1e-6;
    private const string File = "q8_weights.json";
    private static string TinyDirectory => Path.Combine(Fixtures.Directory, "gpt2_tiny");

    [Fact]
    public void LoadedAsQ8ReproducesTorchsQuantizedWeightLogits()
    {
        var model = DecoderFolder.Load(TinyDirectory, format: WeightFormat.Q8_0);
        Assert.Equal(WeightFormat.Q8_0, model.WeightFormat);
        var root = Fixtures.Load(File);
        var (x, _) = Gpt2FixtureTests.Batch();
        model.Forward(x, 2, 16);                                                                 // 32 rows: the dequantized-panel path
        Close.Assert(model.Logits, Fixtures.Doubles(Fixtures.Get(root, "q8_0.logits")), LogitsRtol, LogitsAtol, "logits");
        // the quantization, byte for byte and scale for scale
        var wte = (Q8Matrix)model.Weights16!.Find(model.Layout.TokenEmbedding)!;
        var fc = (Q8Matrix)model.Weights16!.Find(model.Layout.Blocks[0].MlpWeight)!;
        Assert.Equal(Fixtures.Doubles(Fixtures.Get(root, "q8_0.wte_q64")), wte.Quants.Take(64).Select(q => (double)q));
        Assert.Equal(Fixtures.Doubles(Fixtures.Get(root, "q8_0.wte_d2")), wte.Scales.Take(2).Select(d => (double)d));
        Assert.Equal(Fixtures.Doubles(Fixtures.Get(root, "q8_0.c_fc_q64")), fc.Quants.Take(64).Select(q => (double)q));
        Assert.Equal(Fixtures.Doubles(Fixtures.Get(root, "q8_0.c_fc_d2")), fc.Scales.Take(2).Select(d => (double)d));
        Assert.Equal(Fixtures.Doubles(Fixtures.Get(root, "q8_0.c_fc_first8")), model.WeightValues(model.Layout.Blocks[0].MlpWeight).Take(8).Select(f => (double)f));
        // 36 bytes per 32 streamed weights, the rest float32
        long streamed = model.Weights16.All.Sum(e => (long)e.Matrix.Rows * e.Matrix.Cols);
        Assert.Equal(streamed / 32 * 36, model.Weights16.Bytes);
    }

    [Fact]
    public void TokenByTokenWithTheKvCacheReproducesTheSameLogits()
    {
        // one row per step: the few-row kernels (the Conv1D linears' axpy form, the tied head's dot form) and the row lookup
        HalfWeightModelTests.AssertTokenByToken(DecoderFolder.Load(TinyDirectory).WithWeightFormat(WeightFormat.Q8_0),
            Fixtures.Doubles(Fixtures.Get(Fixtures.Load(File), "q8_0.logits")));
    }

    [Fact]
    public void AccuracyReportAgreesWithTorchsFigures()
    {
        var reference = DecoderFolder.Load(TinyDirectory);
        var candidate = reference.WithWeightFormat(WeightFormat.Q8_0);
        var root = Fixtures.Load(File);
        var (x, _) = Gpt2FixtureTests.Batch();
        var report = WeightFormatAccuracy.Measure(reference, candidate, x.AsSpan(0, 16), x[..5], greedyTokens: 40);
        Assert.Equal(WeightFormat.Q8_0, report.Format);
        // over the first sequence only: torch's max over both sequences bounds ours; recomputed here from its logits
        var z32 = Fixtures.Doubles(Fixtures.Get(Fixtures.Load("half_weights.json"), "f32.logits"));
        var zq = Fixtures.Doubles(Fixtures.Get(root, "q8_0.logits"));
        int v = reference.Config.VocabSize;
        double maxAbs = 0;
        for (int i = 0; i < 16 * v; i++) maxAbs = Math.Max(maxAbs, Math.Abs(zq[i] - z32[i]));
        Assert.InRange(report.MaxAbsError, maxAbs * 0.99, maxAbs * 1.01);
        Assert.True(report.MaxAbsError <= Fixtures.Get(root, "q8_0.max_abs").GetDouble() * 1.01);
        int first = report.FirstGreedyDifference ?? 40;
        Assert.Equal(report.ReferenceGreedy.Take(first), report.Greedy.Take(first));
    }

    [Fact]
    public void AQ8ModelIsNotSavedAndAShapeWithoutWholeBlocksIsRefused()
    {
        var q8 = DecoderFolder.Load(TinyDirectory).WithWeightFormat(WeightFormat.Q8_0);
        string dir = Path.Combine(Path.GetTempPath(), "attnlab-q8-" + Guid.NewGuid().ToString("N"));
        var e = Assert.Throws<ArgumentException>(() => DecoderFolder.Save(q8, dir));
        Assert.Contains("no safetensors dtype", e.Message);
        Assert.False(Directory.Exists(dir));                                                     // nothing written
        var odd = new DecoderModel(new DecoderConfig { VocabSize = 11, ContextLength = 8, Layers = 1, Channels = 24, Heads = 2 }, training: false);
        odd.InitializeWeights(1);
        var refused = Assert.Throws<ArgumentException>(() => odd.WithWeightFormat(WeightFormat.Q8_0));
        Assert.Contains("blocks of 32", refused.Message);
        Assert.Equal(WeightFormat.Q8_0, WeightFormats.Parse("q8_0"));
        Assert.Equal("q8_0", WeightFormat.Q8_0.Name());
    }
}
