using AttentionLab.Ops;

namespace AttentionLab.Inspection;

/// <summary>Why a softmax row came out NaN or silently wrong.</summary>
public enum SoftmaxRowProblem
{
    /// <summary>A proper distribution over the visible keys.</summary>
    None,
    /// <summary>Naive softmax, every key hidden (or every exp underflowed): Σ exp = 0, so 0/0 = NaN.</summary>
    ZeroOverZero,
    /// <summary>Naive softmax, a score above ~88.7: exp overflows float32 to ∞, and ∞/∞ = NaN.</summary>
    ExpOverflow,
    /// <summary>Max-subtracted softmax on a row filled with −∞ everywhere: −∞ − (−∞) = NaN.</summary>
    InfMinusInf,
    /// <summary>Every key hidden with a finite fill (−1e9): all scores equal, so the row is uniform over keys that
    /// should have been hidden — no NaN, just wrong.</summary>
    UniformOverHidden,
    /// <summary>Every key hidden and the library's guard returned a row of zeros (output 0).</summary>
    GuardedZero,
}

/// <summary>One way of masking and normalising: fill value and softmax flavour, every intermediate in float32.</summary>
public sealed class MaskedSoftmaxVariant
{
    /// <summary>The number written over hidden scores (−∞ or e.g. −1e9).</summary>
    public required float Fill { get; init; }
    /// <summary>"naive" exp(s)/Σexp(s); "safe" subtracts the row max first; "library" is the safe softmax with the
    /// library's guard (<see cref="Softmax.ForwardInPlace"/>: a row that is −∞ everywhere gives zeros).</summary>
    public required string Softmax { get; init; }
    /// <summary>(Tq, Tk) scores with hidden entries replaced by <see cref="Fill"/>.</summary>
    public required float[,] Filled { get; init; }
    /// <summary>(Tq) the subtracted row max (0 for naive softmax, which subtracts nothing).</summary>
    public required float[] Subtracted { get; init; }
    /// <summary>(Tq, Tk) exp(filled − subtracted).</summary>
    public required float[,] Exp { get; init; }
    /// <summary>(Tq) Σ_j exp.</summary>
    public required float[] RowSum { get; init; }
    /// <summary>(Tq, Tk) exp / row sum — NaN where it broke.</summary>
    public required float[,] Weights { get; init; }
    /// <summary>(Tq, Dv) weights·v — a NaN weight spreads to the whole output row.</summary>
    public required float[,] Output { get; init; }
    /// <summary>(Tq) what went wrong in each row, if anything.</summary>
    public required SoftmaxRowProblem[] Problems { get; init; }

    public bool RowHasNaN(int row)
    {
        for (int j = 0; j < Weights.GetLength(1); j++) if (float.IsNaN(Weights[row, j])) return true;
        return false;
    }
}

/// <summary>
/// Where a NaN or a uniform attention row comes from, and how the max-subtracted ("safe") softmax avoids it
/// (seed 001, "Why are my attention weights NaN or Inf?"). Computed in float32, as PyTorch computes it, so the
/// overflow and underflow points are the real ones (exp overflows above 88.72; exp(−1e9) is 0):
/// <code>
///                      naive exp(s)/Σexp(s)          safe exp(s − max)/Σ…
/// row fully hidden,    0/0 = NaN                     −∞ − (−∞) = NaN   (the library guards it: zeros)
///   fill −∞
/// row fully hidden,    exp(−1e9) = 0: 0/0 = NaN      all equal → uniform 1/n over hidden keys (wrong, no NaN)
///   fill −1e9
/// huge visible score   exp(s) = ∞: ∞/∞ = NaN          fine: the largest term is exp(0) = 1
/// </code>
/// </summary>
public static class MaskedSoftmaxTrace
{
    /// <param name="scaled">(Tq, Tk) scaled scores, e.g. <see cref="AttentionTrace.Scaled"/></param>
    /// <param name="visible">(Tq, Tk) true where the query may attend</param>
    /// <param name="v">(Tk, Dv) values</param>
    /// <param name="fill">what hidden scores become: −∞ or a large negative number</param>
    /// <param name="softmax">"naive", "safe" or "library"</param>
    public static MaskedSoftmaxVariant Run(double[,] scaled, bool[,] visible, double[,] v, float fill, string softmax)
    {
        ArgumentNullException.ThrowIfNull(scaled);
        ArgumentNullException.ThrowIfNull(visible);
        ArgumentNullException.ThrowIfNull(v);
        int tq = scaled.GetLength(0), tk = scaled.GetLength(1), dv = v.GetLength(1);
        if (visible.GetLength(0) != tq || visible.GetLength(1) != tk)
            throw new ArgumentException($"visible must be {tq}×{tk} like the scores");
        if (v.GetLength(0) != tk) throw new ArgumentException($"v needs one row per key ({tk}), got {v.GetLength(0)}");
        if (float.IsNaN(fill) || float.IsPositiveInfinity(fill)) throw new ArgumentException($"the mask fill must be −∞ or a finite number, got {fill}");
        if (softmax is not ("naive" or "safe" or "library")) throw new ArgumentException($"softmax must be naive, safe or library, got '{softmax}'");

        var filled = new float[tq, tk];
        var subtracted = new float[tq];
        var exp = new float[tq, tk];
        var rowSum = new float[tq];
        var weights = new float[tq, tk];
        var problems = new SoftmaxRowProblem[tq];
        var row = new float[tk];
        for (int i = 0; i < tq; i++)
        {
            bool anyVisible = false;
            for (int j = 0; j < tk; j++)
            {
                filled[i, j] = visible[i, j] ? (float)scaled[i, j] : fill;
                anyVisible |= visible[i, j];
            }
            if (softmax == "library")
            {
                for (int j = 0; j < tk; j++) row[j] = filled[i, j];
                Softmax.ForwardInPlace(row);                                         // the library's own softmax
                float max = float.NegativeInfinity;
                for (int j = 0; j < tk; j++) max = Math.Max(max, filled[i, j]);
                subtracted[i] = max;
                float sum = 0;
                for (int j = 0; j < tk; j++)
                {
                    weights[i, j] = row[j];
                    exp[i, j] = float.IsNegativeInfinity(max) ? 0 : MathF.Exp(filled[i, j] - max);
                    sum += exp[i, j];
                }
                rowSum[i] = sum;
                problems[i] = float.IsNegativeInfinity(max) ? SoftmaxRowProblem.GuardedZero
                    : anyVisible ? SoftmaxRowProblem.None : SoftmaxRowProblem.UniformOverHidden;
                continue;
            }
            float m = 0;                                                             // naive: subtract nothing
            if (softmax == "safe")
            {
                m = float.NegativeInfinity;
                for (int j = 0; j < tk; j++) m = Math.Max(m, filled[i, j]);
            }
            subtracted[i] = m;
            float total = 0;
            bool overflow = false;
            for (int j = 0; j < tk; j++)
            {
                exp[i, j] = MathF.Exp(filled[i, j] - m);                             // −∞ − (−∞) = NaN, exp(NaN) = NaN
                overflow |= float.IsPositiveInfinity(exp[i, j]);
                total += exp[i, j];
            }
            rowSum[i] = total;
            for (int j = 0; j < tk; j++) weights[i, j] = exp[i, j] / total;
            problems[i] =
                overflow ? SoftmaxRowProblem.ExpOverflow
                : softmax == "safe" && float.IsNegativeInfinity(m) ? SoftmaxRowProblem.InfMinusInf
                : total == 0 ? SoftmaxRowProblem.ZeroOverZero
                : !anyVisible ? SoftmaxRowProblem.UniformOverHidden
                : SoftmaxRowProblem.None;
        }

        var output = new float[tq, dv];
        for (int i = 0; i < tq; i++)
            for (int c = 0; c < dv; c++)
            {
                float acc = 0;
                for (int j = 0; j < tk; j++) acc += weights[i, j] * (float)v[j, c];
                output[i, c] = acc;
            }
        return new MaskedSoftmaxVariant
        {
            Fill = fill, Softmax = softmax, Filled = filled, Subtracted = subtracted, Exp = exp, RowSum = rowSum,
            Weights = weights, Output = output, Problems = problems,
        };
    }

    /// <summary>The five combinations side by side: fill −∞ and −1e9, naive and safe, and the library's guarded softmax.</summary>
    public static IReadOnlyList<MaskedSoftmaxVariant> Compare(double[,] scaled, bool[,] visible, double[,] v) =>
    [
        Run(scaled, visible, v, float.NegativeInfinity, "naive"),
        Run(scaled, visible, v, float.NegativeInfinity, "safe"),
        Run(scaled, visible, v, -1e9f, "naive"),
        Run(scaled, visible, v, -1e9f, "safe"),
        Run(scaled, visible, v, float.NegativeInfinity, "library"),
    ];

    /// <summary>One line on a problem, for the learner.</summary>
    public static string Explain(SoftmaxRowProblem problem) => problem switch
    {
        SoftmaxRowProblem.None => "ok: a distribution over the visible keys",
        SoftmaxRowProblem.ZeroOverZero => "NaN: every exp is 0 (hidden, or underflowed), so Σ = 0 and 0/0 = NaN",
        SoftmaxRowProblem.ExpOverflow => "NaN: exp(score) overflows float32 above 88.72 to ∞, and ∞/∞ = NaN — subtract the row max",
        SoftmaxRowProblem.InfMinusInf => "NaN: the row max is −∞, and −∞ − (−∞) = NaN — guard fully masked rows",
        SoftmaxRowProblem.UniformOverHidden => "uniform: every key hidden with a finite fill, all scores equal, so 1/n on keys that should get 0 (no NaN, silently wrong)",
        SoftmaxRowProblem.GuardedZero => "zeros: every key hidden; the library's softmax returns 0 weights and a 0 output (finite, no NaN)",
        _ => problem.ToString(),
    };
}
