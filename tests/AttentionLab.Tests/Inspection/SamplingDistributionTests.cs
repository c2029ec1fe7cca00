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
            Assert.Equal(new TokenSampler(options).Next(logits), SamplingDistribution.Draw(candidates, TokenSampler.Uniform(seed, 0)));
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

    /// <summary>A sampler started at position t draws with <see cref="TokenSampler.Uniform"/>(seed, t), and each call moves
    /// one position on: the draw depends on the seed and the position only (what the Explorer's stateless steps use).</summary>
    [Fact]
    public void The_draw_at_each_position_is_the_seeds_number_for_that_position()
    {
        var options = new SamplingOptions(1.0, 0, 1.0, 9);
        var sampler = new TokenSampler(options, position: 5);
        for (int t = 5; t < 40; t++)
        {
            var logits = Logits(t);
            Assert.Equal(SamplingDistribution.Draw(SamplingDistribution.Compute(logits, options), TokenSampler.Uniform(9, t)), sampler.Next(logits));
            Assert.Equal(new TokenSampler(options, position: t).Next(logits), SamplingDistribution.Draw(SamplingDistribution.Compute(logits, options), TokenSampler.Uniform(9, t)));
        }
        // number t of the stream seeded with the seed
        var stream = new AttentionLab.Training.SplitMix64(9);
        for (int t = 0; t < 10; t++) Assert.Equal(stream.NextDouble(), TokenSampler.Uniform(9, t));
    }

    /// <summary>The shown candidates are the sampler's own distribution, id for id and bit for bit.</summary>
    [Theory]
    [InlineData(1.0, 0, 1.0)]
    [InlineData(0.7, 10, 0.9)]
    [InlineData(0.0, 0, 1.0)]
    [InlineData(1e-30, 0, 1.0)]
    public void The_candidates_are_the_distribution_the_sampler_draws_from(double temperature, int topK, double topP)
    {
        var logits = Logits(3);
        var options = new SamplingOptions(temperature, topK, topP);
        var order = new int[logits.Length];
        var probabilities = new double[logits.Length];
        int kept = TokenSampler.Distribution(logits, options, order, probabilities);
        var shown = SamplingDistribution.Compute(logits, options);
        Assert.Equal(order[..kept], shown.Select(c => c.Id).ToArray());
        Assert.Equal(probabilities[..kept], shown.Select(c => c.Probability).ToArray());
    }

    /// <summary>τ = 0 and τ so small that (z − max)/τ underflows every other token (1e-30, and 1e-45, the smallest
    /// float) give the argmax alone with probability 1, finite: z/τ − max/τ was ∞ − ∞ = NaN at 1e-45.</summary>
    [Theory]
    [InlineData(0.0)]
    [InlineData(1e-30)]
    [InlineData(1e-45)]
    [InlineData(double.Epsilon)]
    public void A_zero_or_tiny_temperature_is_the_finite_argmax(double temperature)
    {
        float[] logits = [0.5f, 3f, -2f, 2.9f, 2.99f];
        var options = new SamplingOptions(temperature, Seed: 4);
        var candidates = SamplingDistribution.Compute(logits, options);
        Assert.Equal(1, candidates[0].Id);
        Assert.Equal(1.0, candidates[0].Probability);
        Assert.All(candidates, c => Assert.True(double.IsFinite(c.Probability) && double.IsFinite(c.Raw)));
        Assert.All(candidates.Skip(1), c => Assert.Equal(0.0, c.Probability));
        Assert.Equal(1.0, candidates.Sum(c => c.Probability));
        for (ulong seed = 1; seed <= 20; seed++)
            Assert.Equal(1, new TokenSampler(options with { Seed = seed }).Next(logits));
        Assert.Equal(1, SamplingDistribution.Draw(candidates, 0.999999));
    }

    [Fact]
    public void Bad_options_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => SamplingDistribution.Compute(new float[3], new SamplingOptions(1, 0, 0)));
        Assert.Throws<ArgumentException>(() => SamplingDistribution.Compute(new float[3], new SamplingOptions(-1)));
        Assert.Throws<ArgumentException>(() => SamplingDistribution.Compute(new float[3], new SamplingOptions(1, -2)));
        Assert.Throws<ArgumentException>(() => new TokenSampler(new SamplingOptions(double.NaN)));
        Assert.Throws<ArgumentException>(() => new TokenSampler(new SamplingOptions(1, 0, 1.5)));
    }
}
