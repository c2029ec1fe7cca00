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
}

/// <summary>Temperature → top-k → softmax → top-p → draw, with a seeded <see cref="SplitMix64"/>.</summary>
public sealed class TokenSampler(SamplingOptions options)
{
    private SplitMix64 _random = new(options.Seed);
    private int[] _order = [];
    private double[] _probabilities = [];

    public SamplingOptions Options { get; } = options;

    /// <summary>The next token id.</summary>
    /// <param name="logits">(V) unnormalized scores.</param>
    public int Next(ReadOnlySpan<float> logits)
    {
        if (Options.Temperature <= 0) return ArgMax(logits);
        int V = logits.Length;
        if (_order.Length != V) { _order = new int[V]; _probabilities = new double[V]; }
        for (int i = 0; i < V; i++) _order[i] = i;
        var logitsArray = logits.ToArray();
        // sort ids by logit, descending; ties by id so the order is deterministic
        Array.Sort(_order, (a, b) => logitsArray[a] != logitsArray[b] ? logitsArray[b].CompareTo(logitsArray[a]) : a.CompareTo(b));
        int keep = Options.TopK > 0 ? Math.Min(Options.TopK, V) : V;
        // softmax over the kept tokens at temperature τ: exp((z − max) / τ). Subtracting the max before dividing keeps
        // every exponent ≤ 0 for any τ > 0 (z / τ − max / τ is ∞ − ∞ = NaN when τ is tiny, e.g. 1e-320), and the
        // top token's term is exactly 1, so the sum is never 0
        double max = logitsArray[_order[0]], sum = 0;
        for (int i = 0; i < keep; i++) sum += _probabilities[i] = Math.Exp((logitsArray[_order[i]] - max) / Options.Temperature);
        for (int i = 0; i < keep; i++) _probabilities[i] /= sum;
        if (Options.TopP < 1)
        {
            double cumulative = 0;
            for (int i = 0; i < keep; i++)
            {
                cumulative += _probabilities[i];
                if (cumulative >= Options.TopP) { keep = i + 1; break; }
            }
            double kept = 0;
            for (int i = 0; i < keep; i++) kept += _probabilities[i];
            for (int i = 0; i < keep; i++) _probabilities[i] /= kept;
        }
        double u = _random.NextDouble(), acc = 0;
        for (int i = 0; i < keep; i++)
        {
            acc += _probabilities[i];
            if (u < acc) return _order[i];
        }
        return _order[keep - 1];
    }

    /// <summary>The index of the largest logit (the first one on ties, like torch.argmax).</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }
}
