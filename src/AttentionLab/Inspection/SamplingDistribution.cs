using AttentionLab.Models;

namespace AttentionLab.Inspection;

/// <summary>One token the sampler may draw, with its probability after temperature, top-k and top-p.</summary>
/// <param name="Raw">its probability under plain softmax(logits), before any of the three</param>
public sealed record Candidate(int Id, double Probability, double Raw);

/// <summary>
/// The distribution <see cref="TokenSampler"/> draws from, made visible (Transformer Explainer's sampling panel). It
/// has no math of its own: the candidates are <see cref="TokenSampler.Distribution"/>'s kept ids and probabilities,
/// returned instead of drawn, with each one's plain-softmax probability beside it. Temperature 0 (and any τ so small
/// that only the largest logit keeps a weight) is greedy: the argmax alone, with probability 1.
/// </summary>
public static class SamplingDistribution
{
    /// <param name="logits">(V) unnormalized scores</param>
    /// <returns>the kept tokens, most likely first; their probabilities sum to 1</returns>
    /// <exception cref="ArgumentException">no logits, or options <see cref="SamplingOptions.Validate"/> rejects</exception>
    public static Candidate[] Compute(ReadOnlySpan<float> logits, SamplingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (logits.IsEmpty) throw new ArgumentException("no logits");
        var order = new int[logits.Length];
        var probabilities = new double[logits.Length];
        int kept = TokenSampler.Distribution(logits, options, order, probabilities);
        var raw = DecoderInspector.Probabilities(logits);
        var result = new Candidate[kept];
        for (int i = 0; i < kept; i++) result[i] = new Candidate(order[i], probabilities[i], raw[order[i]]);
        return result;
    }

    /// <summary>Draws one id from <paramref name="candidates"/> with a uniform number u in [0, 1): <see cref="TokenSampler.Draw"/>
    /// over them, so <c>Draw(Compute(logits, o), TokenSampler.Uniform(o.Seed, t))</c> is the token a sampler picks at position t.</summary>
    public static int Draw(IReadOnlyList<Candidate> candidates, double u)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        if (candidates.Count == 0) throw new ArgumentException("no candidates");
        return TokenSampler.Draw(candidates.Select(c => c.Id).ToArray(), candidates.Select(c => c.Probability).ToArray(), u);
    }
}
