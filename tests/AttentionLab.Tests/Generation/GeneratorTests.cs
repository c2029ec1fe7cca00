using AttentionLab.Attention;
using AttentionLab.Inspection;
using AttentionLab.Models;

namespace AttentionLab.Tests.Generation;

/// <summary>
/// Generation and inspection run through the model's one forward path (<see cref="DecoderModel.Forward"/> and
/// <see cref="DecoderModel.ForwardCached"/>). Tolerance for float32 forward values: |a − b| ≤ 1e-6 + 1e-5·|b| (1e-5
/// relative as stated everywhere for forward values; the 1e-6 absolute floor covers values near 0, about 8 float32
/// ulps at magnitude 1).
/// </summary>
public class GeneratorTests
{
    private const double Rtol = 1e-5, Atol = 1e-6;

    private static int[] Ints(string path) =>
        Fixtures.Doubles(Fixtures.Get(Fixtures.Load("gpt2_tiny/reference.json"), path)).Select(d => (int)d).ToArray();

    [Theory]
    [InlineData("naive")]
    [InlineData("fast")]
    public void InferenceForwardMatchesPyTorchLogits(string kernel)
    {
        // fixture logits are (2, 16, 65) for inputs x (2, 16)
        var x = Ints("x");
        var expected = Fixtures.Doubles(Fixtures.Get(Fixtures.Load("gpt2_tiny/reference.json"), "logits"));
        var model = TinyGpt2.Load(AttentionKernels.Parse(kernel));
        model.Forward(x, 2, 16);
        Close.Assert(model.Logits, expected, Rtol, Atol, $"{kernel} logits");
    }

    [Theory]
    [InlineData("naive")]
    [InlineData("fast")]
    public void GreedyContinuationMatchesHuggingFace(string kernel)
    {
        var expected = Ints("greedy_from_first5_of_x0"); // 5 prompt tokens + 10 greedy tokens
        var prompt = expected[..5];
        var generator = new TextGenerator(TinyGpt2.Load(AttentionKernels.Parse(kernel)));
        foreach (bool cache in new[] { true, false })
            Assert.Equal(expected[5..], generator.Generate(prompt, 10, SamplingOptions.Greedy, useKvCache: cache).ToArray());
    }

    [Fact]
    public void CachedLogitsEqualAFullRecomputeOfTheWindowToFloatRounding()
    {
        // each step: the cache path (one new token against the cached keys) vs Forward over the whole sequence
        var model = TinyGpt2.Random(seed: 5);
        var full = TinyGpt2.Random(seed: 5);
        var cache = model.CreateCache();
        int[] tokens = [1, 2, 3, 60, 7, 7, 12, 40, 41, 5, 9, 33, 2, 0, 64, 18];
        var prefill = model.ForwardCached(tokens.AsSpan(0, 3), cache).ToArray();
        full.Forward(tokens.AsSpan(0, 3), 1, 3);
        Close.Assert(prefill, full.Logits.Slice(2 * 65, 65), Rtol, Atol, "prefill");
        for (int t = 3; t < tokens.Length; t++)
        {
            var cached = model.ForwardCached(tokens.AsSpan(t, 1), cache).ToArray();
            full.Forward(tokens.AsSpan(0, t + 1), 1, t + 1);
            var expected = full.Logits.Slice(t * 65, 65);
            Close.Assert(cached, expected, Rtol, Atol, $"position {t}");
            Assert.Equal(TokenSampler.ArgMax(expected), TokenSampler.ArgMax(cached));
        }
        Assert.Equal(tokens.Length, cache.Length);
    }

    [Fact]
    public void KvCacheGivesTheTokensOfAFullRecomputePastTheContext()
    {
        // 16-position model, 3-token prompt, 60 new tokens: the window slides 47 times
        var generator = new TextGenerator(TinyGpt2.Random(seed: 5));
        int[] prompt = [1, 2, 3];
        foreach (var sampling in new[] { SamplingOptions.Greedy, new SamplingOptions(Temperature: 1.0, TopK: 20, TopP: 0.9, Seed: 7) })
        {
            var cached = generator.Generate(prompt, 60, sampling, useKvCache: true).ToArray();
            var recomputed = generator.Generate(prompt, 60, sampling, useKvCache: false).ToArray();
            Assert.Equal(recomputed, cached);
        }
    }

    [Fact]
    public void CachedAttentionRowsEqualTheFullForwardsRows()
    {
        var model = TinyGpt2.Random(seed: 9);
        var full = TinyGpt2.Random(seed: 9);
        int[] tokens = [4, 8, 15, 16, 23, 42];
        var cache = model.CreateCache();
        model.ForwardCached(tokens.AsSpan(0, 5), cache);
        model.ForwardCached(tokens.AsSpan(5, 1), cache);
        full.Forward(tokens, 1, 6);
        for (int l = 0; l < 2; l++)
        {
            var row = model.AttentionWeights(l);   // (1, H, 1, 6): the new query against all six keys
            var all = full.AttentionWeights(l);    // (1, H, 6, 6)
            Assert.Equal(4 * 6, row.Length);
            for (int h = 0; h < 4; h++)
                Close.Assert(row.AsSpan(h * 6, 6), all.AsSpan((h * 6 + 5) * 6, 6), Rtol, Atol, $"layer {l} head {h}");
        }
    }

    [Fact]
    public void InspectionGivesCausalDistributionsAndTheNextTokens()
    {
        var model = TinyGpt2.Load();
        int T = 6;
        var report = DecoderInspector.Inspect(model, null, [1, 5, 9, 2, 7, 3]);
        Assert.Equal(2 * 4 * T * T, report.Attention.Length);
        for (int m = 0; m < 2 * 4; m++)
            for (int i = 0; i < T; i++)
            {
                double sum = 0;
                for (int j = 0; j < T; j++)
                {
                    float w = report.Attention[(m * T + i) * T + j];
                    if (j > i) Assert.Equal(0, w);
                    sum += w;
                }
                Assert.True(Math.Abs(sum - 1) <= 1e-6, $"map {m} row {i} sums to {sum}");
            }
        // the top next token is the argmax of the last row of the same forward's logits
        model.Forward([1, 5, 9, 2, 7, 3], 1, T);
        Assert.Equal(TokenSampler.ArgMax(model.Logits.Slice((T - 1) * 65, 65)), report.Next[0].Id);
        Assert.True(report.Next.Zip(report.Next.Skip(1)).All(p => p.First.Probability >= p.Second.Probability));
        Assert.NotNull(report.Loss);
    }

    [Fact]
    public void ZeroingAHeadChangesThePredictionAndGatesOfOneChangeNothing()
    {
        var model = TinyGpt2.Random(seed: 3);
        int[] ids = [1, 2, 3, 4, 5];
        var plain = DecoderInspector.Inspect(model, null, ids);
        var ones = DecoderInspector.Inspect(model, null, ids, new InspectionOptions { HeadGates = Enumerable.Repeat(1f, 8).ToArray() });
        Assert.Equal(plain.Logits, ones.Logits);
        var gates = Enumerable.Repeat(1f, 8).ToArray();
        gates[0] = 0;
        var ablated = DecoderInspector.Inspect(model, null, ids, new InspectionOptions { HeadGates = gates });
        Assert.NotEqual(plain.Logits, ablated.Logits);
        Assert.Equal(plain.Logits, DecoderInspector.Inspect(model, null, ids).Logits); // the intervention does not stick to the model
    }

    [Fact]
    public void InferenceModelsHaveNoGradientsOrBackward()
    {
        var model = TinyGpt2.Load();
        Assert.False(model.IsTraining);
        Assert.Throws<InvalidOperationException>(() => model.Gradients);
        model.Forward([1, 2, 3], 1, 3, [2, 3, 4]);
        Assert.Throws<InvalidOperationException>(() => model.Backward());
    }

    [Fact]
    public void SamplingIsSeededAndRespectsTopK()
    {
        float[] logits = [0, 5, 1, 4, 2];
        var a = new TokenSampler(new SamplingOptions(1.0, 0, 1.0, 3));
        var b = new TokenSampler(new SamplingOptions(1.0, 0, 1.0, 3));
        for (int i = 0; i < 20; i++) Assert.Equal(a.Next(logits), b.Next(logits));
        var top2 = new TokenSampler(new SamplingOptions(2.0, TopK: 2, Seed: 1));
        for (int i = 0; i < 200; i++) Assert.Contains(top2.Next(logits), new[] { 1, 3 });
        var nucleus = new TokenSampler(new SamplingOptions(1.0, TopP: 0.5, Seed: 1)); // p(1) = 0.64 ≥ 0.5
        for (int i = 0; i < 50; i++) Assert.Equal(1, nucleus.Next(logits));
        Assert.Equal(1, new TokenSampler(SamplingOptions.Greedy).Next(logits));
    }

    [Fact]
    public void BadIdsAreClearErrors()
    {
        var generator = new TextGenerator(TinyGpt2.Load());
        Assert.Contains("outside the vocabulary", Assert.Throws<ArgumentException>(() => generator.Generate([1, 65], 3, SamplingOptions.Greedy)).Message);
        Assert.Throws<ArgumentException>(() => generator.Generate([], 3, SamplingOptions.Greedy));
    }
}

public class InspectionApproximationTests
{
    [Fact]
    public void AnApproximateKernelReportsItsErrorAgainstExactAttention()
    {
        int[] ids = [1, 5, 9, 2, 7, 3, 11, 4];
        var exact = DecoderInspector.Inspect(TinyGpt2.Load(AttentionKernels.Parse("flash")), null, ids);
        Assert.Null(exact.ApproximationError);
        // a 2-key window drops keys that exact attention weighs: the maps differ, and the report says by how much
        var windowed = DecoderInspector.Inspect(TinyGpt2.Load(AttentionKernels.Parse("window:2")), null, ids);
        Assert.False(windowed.KernelIsExact);
        double measured = 0;
        for (int i = 0; i < exact.Attention.Length; i++) measured = Math.Max(measured, Math.Abs(exact.Attention[i] - windowed.Attention[i]));
        Assert.NotNull(windowed.ApproximationError);
        // the error is measured on the windowed model's own q, k, v (the same as exact's only in layer 0)
        Assert.True(windowed.ApproximationError > 0.01, $"{windowed.ApproximationError}");
        Assert.True(measured > 0.01);
        // a window as wide as the context changes nothing
        var wide = DecoderInspector.Inspect(TinyGpt2.Load(AttentionKernels.Parse("window:16")), null, ids);
        Assert.True(wide.ApproximationError <= 1e-6, $"{wide.ApproximationError}");
    }
}
