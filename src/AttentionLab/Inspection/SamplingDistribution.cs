using AttentionLab.Models;
using AttentionLab.Training;

namespace AttentionLab.Inspection;

/// <summary>One token the sampler may draw, with its probability after temperature, top-k and top-p.</summary>
/// <param name="Raw">its probability under plain softmax(logits), before any of the three</param>
public sealed record Candidate(int Id, double Probability, double Raw);

/// <summary>
/// The distribution <see cref="TokenSampler"/> draws from, made visible (Transformer Explainer's sampling panel):
/// the same pipeline — sort by logit (ties by id), keep the top k, softmax at temperature τ, keep the smallest
/// prefix whose mass reaches p and renormalise — but returned instead of drawn. <see cref="Draw"/> then picks from
/// it with the sampler's own random numbers, so a seed gives the token <see cref="TokenSampler.Next"/> would.
/// Temperature 0 is greedy: the argmax alone, with probability 1.
/// </summary>
public static class SamplingDistribution
{
    /// <param name="logits">(V) unnormalized scores</param>
    /// <returns>the kept tokens, most likely first; their probabilities sum to 1</returns>
    public static Candidate[] Compute(ReadOnlySpan<float> logits, SamplingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (logits.IsEmpty) throw new ArgumentException("no logits");
        if (double.IsNaN(options.Temperature) || options.Temperature < 0) throw new ArgumentException($"temperature must be ≥ 0, got {options.Temperature}");
        if (options.TopK < 0) throw new ArgumentException($"top-k must be ≥ 0 (0 = all), got {options.TopK}");
        if (!(options.TopP > 0 && options.TopP <= 1)) throw new ArgumentException($"top-p must be in (0, 1], got {options.TopP}");
        var raw = Gpt2Inspector.Probabilities(logits);
        int V = logits.Length;
        if (options.Temperature == 0)
        {
            int best = TokenSampler.ArgMax(logits);
            return [new Candidate(best, 1.0, raw[best])];
        }
        var l = logits.ToArray();
        var order = Enumerable.Range(0, V).ToArray();
        Array.Sort(order, (a, b) => l[a] != l[b] ? l[b].CompareTo(l[a]) : a.CompareTo(b));
        int keep = options.TopK > 0 ? Math.Min(options.TopK, V) : V;
        var p = new double[keep];
        double max = l[order[0]] / options.Temperature, sum = 0;
        for (int i = 0; i < keep; i++) sum += p[i] = Math.Exp(l[order[i]] / options.Temperature - max);
        for (int i = 0; i < keep; i++) p[i] /= sum;
        if (options.TopP < 1)
        {
            double cumulative = 0;
            for (int i = 0; i < keep; i++)
            {
                cumulative += p[i];
                if (cumulative >= options.TopP) { keep = i + 1; break; }
            }
            double kept = 0;
            for (int i = 0; i < keep; i++) kept += p[i];
            for (int i = 0; i < keep; i++) p[i] /= kept;
        }
        var result = new Candidate[keep];
        for (int i = 0; i < keep; i++) result[i] = new Candidate(order[i], p[i], raw[order[i]]);
        return result;
    }

    /// <summary>Draws one id from <paramref name="candidates"/> with a uniform number u in [0, 1) (inverse CDF,
    /// most likely first — the order <see cref="TokenSampler"/> uses).</summary>
    public static int Draw(IReadOnlyList<Candidate> candidates, double u)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        if (candidates.Count == 0) throw new ArgumentException("no candidates");
        double acc = 0;
        foreach (var c in candidates)
        {
            acc += c.Probability;
            if (u < acc) return c.Id;
        }
        return candidates[^1].Id;
    }

    /// <summary>The first uniform number a sampler seeded with <paramref name="seed"/> draws.</summary>
    public static double FirstUniform(ulong seed) => new SplitMix64(seed).NextDouble();
}
