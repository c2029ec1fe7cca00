using AttentionLab.Training;

namespace AttentionLab.Models;

/// <summary>How to pick the next token from the logits.</summary>
/// <param name="Temperature">0 = greedy (argmax); otherwise logits are divided by it before softmax
/// (below 1 sharpens, above 1 flattens).</param>
/// <param name="TopK">Keep only the K most likely tokens (0 = all).</param>
/// <param name="TopP">Nucleus sampling: keep the smallest set of most likely tokens whose probability
/// reaches P (1 = all) — Holtzman et al. 2019.</param>
/// <param name="Seed">Seeds the sampler, so the same seed gives the same text.</param>
public sealed record SamplingOptions(double Temperature = 1.0, int TopK = 0, double TopP = 1.0, ulong Seed = 1337)
{
    public static SamplingOptions Greedy { get; } = new(Temperature: 0);

    /// <exception cref="ArgumentException">a temperature below 0 (or NaN), a negative top-k, a top-p outside (0, 1]</exception>
    public void Validate()
    {
        if (double.IsNaN(Temperature) || Temperature < 0) throw new ArgumentException($"temperature must be ≥ 0, got {Temperature}");
        if (TopK < 0) throw new ArgumentException($"top-k must be ≥ 0 (0 = all), got {TopK}");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentException($"top-p must be in (0, 1], got {TopP}");
    }
}

/// <summary>
/// Temperature → top-k → softmax → top-p → draw. <see cref="Distribution"/> is the one computation of what is drawn
/// from (the Explorer shows it through <see cref="Inspection.SamplingDistribution"/>); <see cref="Draw"/> picks from it
/// by inverse CDF with one uniform number per sequence position.
/// </summary>
/// <remarks>
/// The random numbers are a function of the seed and the position alone: the token at position t (t tokens before it)
/// is drawn with <see cref="Uniform"/>(seed, t), number t of a <see cref="SplitMix64"/> stream seeded with the seed.
/// So one seed picks the same tokens whether a sequence is generated in one go (<c>attnlab generate</c>, a sampler
/// started at the prompt's length) or one stateless step at a time (the Explorer, which knows only the sequence so far).
/// </remarks>
public sealed class TokenSampler
{
    /// <summary>SplitMix64's increment: the stream's state after t numbers is seed + t·γ.</summary>
    private const ulong Gamma = 0x9E3779B97F4A7C15UL;

    private SplitMix64 _random;
    private int[] _order = [];
    private double[] _probabilities = [];

    /// <param name="options">validated here</param>
    /// <param name="position">the position of the first token this sampler picks (the prompt's length)</param>
    public TokenSampler(SamplingOptions options, int position = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        Options = options;
        _random = new SplitMix64(options.Seed + (ulong)position * Gamma);
    }

    public SamplingOptions Options { get; }

    /// <summary>The next token id; each call moves one position on.</summary>
    /// <param name="logits">(V) unnormalized scores.</param>
    public int Next(ReadOnlySpan<float> logits)
    {
        double u = _random.NextDouble();   // one number per position, used or not (greedy), so positions stay aligned
        int V = logits.Length;
        if (_order.Length != V) { _order = new int[V]; _probabilities = new double[V]; }
        int kept = Distribution(logits, Options, _order, _probabilities);
        return Draw(_order.AsSpan(0, kept), _probabilities.AsSpan(0, kept), u);
    }

    /// <summary>The uniform number in [0, 1) that picks the token at <paramref name="position"/>: number
    /// <paramref name="position"/> (from 0) of the <see cref="SplitMix64"/> stream seeded with <paramref name="seed"/>.</summary>
    public static double Uniform(ulong seed, int position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        return new SplitMix64(seed + (ulong)position * Gamma).NextDouble();
    }

    /// <summary>
    /// The distribution the sampler draws from: ids sorted by logit (descending, ties by id), the top k kept, softmax
    /// at temperature τ, then the smallest prefix whose mass reaches p, renormalised. τ = 0 is greedy: the argmax
    /// alone, with probability 1.
    /// </summary>
    /// <param name="logits">(V) unnormalized scores</param>
    /// <param name="order">(V) receives the kept ids, most likely first</param>
    /// <param name="probabilities">(V) receives their probabilities, which sum to 1</param>
    /// <returns>how many tokens are kept (the first that many of <paramref name="order"/>)</returns>
    public static int Distribution(ReadOnlySpan<float> logits, SamplingOptions options, Span<int> order, Span<double> probabilities)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int V = logits.Length;
        if (V == 0) throw new ArgumentException("no logits");
        if (order.Length < V || probabilities.Length < V) throw new ArgumentException($"order and probabilities need room for {V} entries");
        if (options.Temperature == 0)
        {
            order[0] = ArgMax(logits);
            probabilities[0] = 1;
            return 1;
        }
        for (int i = 0; i < V; i++) order[i] = i;
        var l = logits.ToArray();
        order[..V].Sort((a, b) => l[a] != l[b] ? l[b].CompareTo(l[a]) : a.CompareTo(b));
        int keep = options.TopK > 0 ? Math.Min(options.TopK, V) : V;
        // softmax over the kept tokens at temperature τ: exp((z − max) / τ). Subtracting the max before dividing keeps
        // every exponent ≤ 0 for any τ > 0 (z / τ − max / τ is ∞ − ∞ = NaN when τ is tiny, e.g. 1e-320), and the
        // top token's term is exactly 1, so the sum is never 0
        double max = l[order[0]], sum = 0, tau = options.Temperature;
        for (int i = 0; i < keep; i++) sum += probabilities[i] = Math.Exp((l[order[i]] - max) / tau);
        for (int i = 0; i < keep; i++) probabilities[i] /= sum;
        if (options.TopP < 1)
        {
            double cumulative = 0;
            for (int i = 0; i < keep; i++)
            {
                cumulative += probabilities[i];
                if (cumulative >= options.TopP) { keep = i + 1; break; }
            }
            double kept = 0;
            for (int i = 0; i < keep; i++) kept += probabilities[i];
            for (int i = 0; i < keep; i++) probabilities[i] /= kept;
        }
        return keep;
    }

    /// <summary>Picks one of <paramref name="order"/> with a uniform number <paramref name="u"/> in [0, 1) by inverse
    /// CDF, most likely first (the last one if rounding leaves the sum just below u).</summary>
    /// <param name="order">(K) ids, most likely first</param>
    /// <param name="probabilities">(K) their probabilities</param>
    public static int Draw(ReadOnlySpan<int> order, ReadOnlySpan<double> probabilities, double u)
    {
        if (order.IsEmpty || order.Length != probabilities.Length) throw new ArgumentException("give one probability per id, at least one");
        double acc = 0;
        for (int i = 0; i < order.Length; i++)
        {
            acc += probabilities[i];
            if (u < acc) return order[i];
        }
        return order[^1];
    }

    /// <summary>The index of the largest logit (the first one on ties, like torch.argmax).</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }
}
