using AttentionLab.Inspection;
using AttentionLab.Models;

namespace AttentionLab.Tests.Inspection;

public class SamplingDistributionTests
{
    private static float[] Logits(int seed, int V = 50)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, V).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray();
    }

    /// <summary>Drawing from the shown distribution with the sampler's first random number gives the token the
    /// sampler itself picks: the page shows exactly what generation draws from.</summary>
    [Theory]
    [InlineData(1.0, 0, 1.0)]
    [InlineData(0.7, 10, 1.0)]
    [InlineData(1.3, 0, 0.8)]
    [InlineData(0.5, 5, 0.5)]
    public void Drawing_from_it_matches_the_TokenSampler(double temperature, int topK, double topP)
    {
        for (ulong seed = 1; seed <= 40; seed++)
        {
            var logits = Logits((int)seed);
            var options = new SamplingOptions(temperature, topK, topP, seed);
            var candidates = SamplingDistribution.Compute(logits, options);
            Assert.Equal(1.0, candidates.Sum(c => c.Probability), 9);
            Assert.Equal(new TokenSampler(options).Next(logits), SamplingDistribution.Draw(candidates, SamplingDistribution.FirstUniform(seed)));
            if (topK > 0) Assert.True(candidates.Length <= topK);
        }
    }

    [Fact]
    public void Top_p_keeps_the_smallest_prefix_reaching_p_and_temperature_zero_is_greedy()
    {
        float[] logits = [MathF.Log(0.5f), MathF.Log(0.3f), MathF.Log(0.15f), MathF.Log(0.05f)];
        var kept = SamplingDistribution.Compute(logits, new SamplingOptions(1.0, 0, 0.75));
        Assert.Equal([0, 1], kept.Select(c => c.Id).ToArray());      // 0.5 < 0.75 ≤ 0.8
        Assert.Equal(0.5 / 0.8, kept[0].Probability, 6);
        Assert.Equal(0.5, kept[0].Raw, 6);
        var greedy = SamplingDistribution.Compute(logits, SamplingOptions.Greedy);
        Assert.Single(greedy);
        Assert.Equal(0, greedy[0].Id);
        Assert.Equal(1.0, greedy[0].Probability);
    }

    [Fact]
    public void Bad_options_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => SamplingDistribution.Compute(new float[3], new SamplingOptions(1, 0, 0)));
        Assert.Throws<ArgumentException>(() => SamplingDistribution.Compute(new float[3], new SamplingOptions(-1)));
        Assert.Throws<ArgumentException>(() => SamplingDistribution.Compute(new float[3], new SamplingOptions(1, -2)));
    }
}
