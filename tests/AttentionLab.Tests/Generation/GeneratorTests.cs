using AttentionLab.Models;

namespace AttentionLab.Tests.Generation;

public class GeneratorTests
{
    private static int[] Ints(string path) =>
        Fixtures.Doubles(Fixtures.Get(Fixtures.Load("gpt2_tiny/reference.json"), path)).Select(d => (int)d).ToArray();

    [Fact]
    public void ForwardMatchesPyTorchLogits()
    {
        // fixture logits are (2, 16, 65) for inputs x (2, 16); forward values to ~1e-5 relative (float32 vs float64 reference)
        var x = Ints("x");
        var expected = Fixtures.Doubles(Fixtures.Get(Fixtures.Load("gpt2_tiny/reference.json"), "logits"));
        var g = TinyGpt2.Generator();
        for (int b = 0; b < 2; b++)
        {
            var all = new float[16 * 65];
            g.Forward(x.AsSpan(b * 16, 16), all);
            Close.Assert(all, expected.AsSpan(b * 16 * 65, 16 * 65), rtol: 1e-4, atol: 1e-5, what: $"logits[{b}]");
        }
    }

    [Fact]
    public void GreedyContinuationMatchesHuggingFace()
    {
        var expected = Ints("greedy_from_first5_of_x0"); // 5 prompt tokens + 10 greedy tokens
        var prompt = expected[..5];
        foreach (bool cache in new[] { true, false })
        {
            var generated = TinyGpt2.Generator().Generate(prompt, 10, SamplingOptions.Greedy, useKvCache: cache).ToArray();
            Assert.Equal(expected[5..], generated);
        }
    }

    [Fact]
    public void KvCacheGivesExactlyTheTokensOfAFullRecomputePastTheContext()
    {
        // 16-position model, 3-token prompt, 60 new tokens: the window slides 47 times
        var g = TinyGpt2.Random(new Gpt2Generator.Dimensions(2, 4, 32, 16, 65), seed: 5, out _);
        int[] prompt = [1, 2, 3];
        foreach (var sampling in new[] { SamplingOptions.Greedy, new SamplingOptions(Temperature: 1.0, TopK: 20, TopP: 0.9, Seed: 7) })
        {
            var cached = g.Generate(prompt, 60, sampling, useKvCache: true).ToArray();
            var recomputed = g.Generate(prompt, 60, sampling, useKvCache: false).ToArray();
            Assert.Equal(recomputed, cached);
        }
        // and each cached step's logits equal a fresh forward over the same window, bit for bit
        var tokens = new List<int>(prompt);
        tokens.AddRange(g.Generate(prompt, 30, SamplingOptions.Greedy));
        var window = tokens.Skip(tokens.Count - 16).ToArray();
        var last = g.Forward(window);
        Assert.Equal(TokenSampler.ArgMax(last), g.Generate(window, 1, SamplingOptions.Greedy).Single());
    }

    [Fact]
    public void AttentionRowsAreCausalDistributions()
    {
        var g = TinyGpt2.Generator();
        int T = 6;
        var attention = new float[2 * 4 * T * T];
        g.Forward([1, 5, 9, 2, 7, 3], attention: attention);
        for (int m = 0; m < 2 * 4; m++)
            for (int i = 0; i < T; i++)
            {
                double sum = 0;
                for (int j = 0; j < T; j++)
                {
                    float w = attention[(m * T + i) * T + j];
                    if (j > i) Assert.Equal(0, w);
                    sum += w;
                }
                Assert.Equal(1.0, sum, 5);
            }
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
        var g = TinyGpt2.Generator();
        Assert.Contains("outside the vocabulary", Assert.Throws<ArgumentException>(() => g.Generate([1, 65], 3, SamplingOptions.Greedy)).Message);
        Assert.Throws<ArgumentException>(() => g.Generate([], 3, SamplingOptions.Greedy));
    }
}
