using AttentionLab.Diagnostics;
using AttentionLab.IO;
using AttentionLab.Kernels;
using AttentionLab.Models;

namespace AttentionLab.Tests.Models;

/// <summary>
/// GPT-2 with 16-bit streamed weights against fixtures/half_weights.json (make_half_weight_fixtures.py: the Hugging
/// Face GPT-2 forward in float64 with the same matrices rounded by torch to bfloat16 / float16). The 16-bit model's
/// weights are then exactly the reference's and only the float32 arithmetic differs, so the tolerance is the float32
/// parity one of <see cref="Gpt2FixtureTests"/>: rtol 1e-5, atol 1e-6 on logits.
/// </summary>
public sealed class HalfWeightModelTests : IDisposable
{
    private const double LogitsRtol = 1e-5, LogitsAtol = 1e-6;
    private const string File = "half_weights.json";
    private static string TinyDirectory => Path.Combine(Fixtures.Directory, "gpt2_tiny");
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "attnlab-half-" + Guid.NewGuid().ToString("N"));

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true); }

    public static TheoryData<WeightFormat> Formats() => new() { WeightFormat.BF16, WeightFormat.F16 };

    private static string Key(WeightFormat f) => f.Name();

    [Theory]
    [MemberData(nameof(Formats))]
    public void LoadedAsSixteenBitReproducesTorchsRoundedWeightLogits(WeightFormat format)
    {
        var model = DecoderFolder.Load(TinyDirectory, format: format);
        Assert.Equal(format, model.WeightFormat);
        var root = Fixtures.Load(File);
        var (x, _) = Gpt2FixtureTests.Batch();
        model.Forward(x, 2, 16);                                                                 // 32 rows: the widened-panel path
        Close.Assert(model.Logits, Fixtures.Doubles(Fixtures.Get(root, $"{Key(format)}.logits")), LogitsRtol, LogitsAtol, "logits");
        // torch's rounding (nearest, ties to even) is ours, weight for weight
        var wte = model.WeightValues(model.Layout.TokenEmbedding);
        var fc = model.WeightValues(model.Layout.Blocks[0].MlpWeight);
        Assert.Equal(Fixtures.Doubles(Fixtures.Get(root, $"{Key(format)}.wte_first8")), wte.Take(8).Select(f => (double)f));
        Assert.Equal(Fixtures.Doubles(Fixtures.Get(root, $"{Key(format)}.c_fc_first8")), fc.Take(8).Select(f => (double)f));
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void TokenByTokenWithTheKvCacheReproducesTheSameLogits(WeightFormat format)
    {
        // one row per step: the few-row kernels that widen in registers, and the 16-bit token lookup
        AssertTokenByToken(DecoderFolder.Load(TinyDirectory).WithWeightFormat(format),
            Fixtures.Doubles(Fixtures.Get(Fixtures.Load(File), $"{Key(format)}.logits")));
    }

    /// <summary>The fixture batch (2 × 16) one token at a time through the KV cache, each step's logits against the
    /// reference's at rtol 1e-5, atol 1e-6 (also used by <see cref="Q8WeightModelTests"/>).</summary>
    internal static void AssertTokenByToken(DecoderModel model, double[] expected)
    {
        var (x, _) = Gpt2FixtureTests.Batch();
        int v = model.Config.VocabSize;
        for (int b = 0; b < 2; b++)
        {
            var cache = model.CreateCache();
            for (int t = 0; t < 16; t++)
            {
                var logits = model.ForwardCached(x.AsSpan(b * 16 + t, 1), cache);
                Close.Assert(logits, expected.AsSpan((b * 16 + t) * v, v), LogitsRtol, LogitsAtol, $"logits at ({b}, {t})");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void AccuracyReportAgreesWithTorchsFigures(WeightFormat format)
    {
        var reference = DecoderFolder.Load(TinyDirectory);
        var candidate = reference.WithWeightFormat(format);
        var root = Fixtures.Load(File);
        var (x, _) = Gpt2FixtureTests.Batch();
        var report = WeightFormatAccuracy.Measure(reference, candidate, x.AsSpan(0, 16), x[..5], greedyTokens: 40);
        Assert.Equal(format, report.Format);
        Assert.Equal(16, report.Positions);
        // the first sequence only; torch's figures are over both, so the fixture's max bounds ours and its mean is a
        // figure of the same size. Our logits carry float32 rounding (≤ 1e-6 here) on a max error of ~1e-3 (BF16)
        // or ~2e-4 (F16): max_abs to 1e-2 relative of torch's over the same positions, recomputed here from its logits.
        var z32 = Fixtures.Doubles(Fixtures.Get(root, "f32.logits"));
        var z16 = Fixtures.Doubles(Fixtures.Get(root, $"{Key(format)}.logits"));
        int v = reference.Config.VocabSize;
        double maxAbs = 0, scale = 0, kl = 0;
        for (int t = 0; t < 16; t++)
        {
            for (int j = 0; j < v; j++) { maxAbs = Math.Max(maxAbs, Math.Abs(z16[t * v + j] - z32[t * v + j])); scale = Math.Max(scale, Math.Abs(z32[t * v + j])); }
            kl += WeightFormatAccuracy.KullbackLeibler(z32.AsSpan(t * v, v).ToArray().Select(d => (float)d).ToArray(),
                                                        z16.AsSpan(t * v, v).ToArray().Select(d => (float)d).ToArray());
        }
        Assert.InRange(report.MaxAbsError, maxAbs * 0.99, maxAbs * 1.01);
        Assert.InRange(report.MaxRelativeError, maxAbs / scale * 0.99, maxAbs / scale * 1.01);
        Assert.InRange(report.MeanKl, kl / 16 * 0.9, kl / 16 * 1.1);
        Assert.True(report.MaxAbsError <= Fixtures.Get(root, $"{Key(format)}.max_abs").GetDouble() * 1.01);
        // greedy: the report's first difference is where the two continuations part, or none
        Assert.Equal(40, report.Greedy.Length);
        int first = report.FirstGreedyDifference ?? 40;
        Assert.Equal(report.ReferenceGreedy.Take(first), report.Greedy.Take(first));
        if (report.FirstGreedyDifference is int d) Assert.NotEqual(report.ReferenceGreedy[d], report.Greedy[d]);
        Assert.Equal(new TextGenerator(reference).Greedy(x[..5], 40), report.ReferenceGreedy);
    }

    [Fact]
    public void ABf16ModelSavedStaysBf16AndLoadsWithoutAFloat32Copy()
    {
        var bf16 = DecoderFolder.Load(TinyDirectory).WithWeightFormat(WeightFormat.BF16);
        DecoderFolder.Save(bf16, _dir);
        Assert.Equal(WeightFormat.BF16, DecoderFolder.ReadWeightFormat(_dir));
        var header = SafeTensors.ReadHeader(Path.Combine(_dir, DecoderFolder.WeightsFileName)).Entries.ToDictionary(e => e.Name, e => e.DType);
        Assert.Equal("BF16", header["transformer.h.1.mlp.c_proj.weight"]);
        Assert.Equal("BF16", header["transformer.wte.weight"]);
        Assert.Equal("F32", header["transformer.wpe.weight"]);
        Assert.Equal("F32", header["transformer.h.0.ln_1.bias"]);
        Assert.Contains("\"bfloat16\"", System.IO.File.ReadAllText(Path.Combine(_dir, "config.json")));

        var loaded = DecoderFolder.Load(_dir);                                               // the folder's dtype by default
        Assert.Equal(WeightFormat.BF16, loaded.WeightFormat);
        foreach (var (view, matrix) in bf16.Weights16!.All)
        {
            Assert.Equal(((HalfMatrix)matrix).Bits, ((HalfMatrix)loaded.Weights16!.Find(view)!).Bits);
            // the 16-bit matrices live only in the store: their arena range was never written
            Assert.True(loaded.Parameters[view].IndexOfAnyExcept(0f) < 0, $"{view.Name} has float32 values in the arena");
        }
        Assert.Equal(bf16.Parameters[bf16.Layout.Blocks[0].AttentionBias!].ToArray(), loaded.Parameters[loaded.Layout.Blocks[0].AttentionBias!].ToArray());
        var (x, _) = Gpt2FixtureTests.Batch();
        bf16.Forward(x, 2, 16);
        loaded.Forward(x, 2, 16);
        Assert.Equal(bf16.Logits.ToArray(), loaded.Logits.ToArray());

        // asked for float32 (or for training), the same folder widens exactly
        var wide = DecoderFolder.Load(_dir, format: WeightFormat.F32);
        Assert.Equal(WeightFormat.F32, wide.WeightFormat);
        Assert.Equal(bf16.WeightValues(bf16.Layout.TokenEmbedding), wide.Parameters[wide.Layout.TokenEmbedding].ToArray());
        Assert.Equal(WeightFormat.F32, DecoderFolder.Load(_dir, training: true).WeightFormat);
        // and half the bytes per token: every streamed matrix at 2 bytes
        Assert.InRange(loaded.WeightBytesPerToken() / (double)wide.WeightBytesPerToken(), 0.5, 0.6);
    }

    [Fact]
    public void ABf16LlamaFamilyFolderLoadsAsBf16AndMatchesItsFloat32Widening()
    {
        // qwen2_tiny_bf16 stores BF16 matrices: by default it stays BF16; its float32 load holds exactly the same values
        string dir = Path.Combine(Fixtures.Directory, "llama", "qwen2_tiny_bf16");
        Assert.Equal(WeightFormat.BF16, DecoderFolder.ReadWeightFormat(dir));
        var bf16 = DecoderFolder.Load(dir);
        var f32 = DecoderFolder.Load(dir, format: WeightFormat.F32);
        Assert.Equal(WeightFormat.BF16, bf16.WeightFormat);
        Assert.Equal(WeightFormat.F32, f32.WeightFormat);
        foreach (var (view, _) in bf16.Weights16!.All) Assert.Equal(f32.Parameters[view].ToArray(), bf16.WeightValues(view));
        int[] ids = [1, 5, 9, 2, 7, 3];
        f32.Forward(ids, 1, ids.Length);
        bf16.Forward(ids, 1, ids.Length);
        Close.Assert(bf16.Logits, f32.Logits, LogitsRtol, LogitsAtol, "logits");
        var cache = bf16.CreateCache();
        for (int t = 0; t < ids.Length; t++)                                                      // the one-row kernels
            Close.Assert(bf16.ForwardCached(ids.AsSpan(t, 1), cache), f32.Logits.Slice(t * f32.Config.VocabSize, f32.Config.VocabSize), LogitsRtol, LogitsAtol, $"cached logits at {t}");
    }

    [Fact]
    public void SixteenBitModelsRefuseTrainingInitializationAndOtherDevices()
    {
        var bf16 = new DecoderModel(DecoderConfig.Tiny, training: false);
        bf16.InitializeWeights(1);
        var half = bf16.WithWeightFormat(WeightFormat.BF16);
        Assert.Throws<InvalidOperationException>(() => half.InitializeWeights(2));
        Assert.Throws<InvalidOperationException>(() => half.Backward());
        var f16Overflow = new DecoderModel(DecoderConfig.Tiny, training: false);
        f16Overflow.Parameters[f16Overflow.Layout.Blocks[0].MlpWeight][3] = 1e6f;
        Assert.Throws<OverflowException>(() => f16Overflow.WithWeightFormat(WeightFormat.F16));
    }
}
