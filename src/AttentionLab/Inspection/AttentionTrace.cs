using AttentionLab.Attention;

namespace AttentionLab.Inspection;

/// <summary>
/// Every intermediate of single-head scaled dot-product attention, computed in double with plain loops so a
/// learner can check each number by hand (seed 004, Parts 2 and 3):
/// <code>
/// scores  = q·kᵀ                       (Tq, Tk)
/// scaled  = scores · scale             scale = 1/√D unless given
/// masked  = scaled, −∞ where hidden    causal and/or an explicit 0/1 mask
/// rowMax  = max_j masked[i, j]         subtracted only for numerical stability
/// exp     = exp(masked − rowMax)       exp(−∞) = 0
/// rowSum  = Σ_j exp[i, j]
/// weights = exp / rowSum               each row sums to 1
/// output  = weights·v                  (Tq, Dv)
/// entropy = −Σ_j w·ln w                nats; 0 = one key, ln(n) = uniform over n keys
/// </code>
/// A row whose keys are all hidden has no distribution to normalise: its weights, exponentials and output are
/// 0 (finite, never NaN), its <see cref="RowMax"/> is −∞ and <see cref="FullyMasked"/> is true — the same rule as
/// the library's attention kernels.
/// This is the readable version; the kernels in <c>AttentionLab.Attention</c> are the fast ones.
/// </summary>
public sealed class AttentionTrace
{
    /// <summary>(Tq, D) queries.</summary>
    public required double[,] Q { get; init; }
    /// <summary>(Tk, D) keys.</summary>
    public required double[,] K { get; init; }
    /// <summary>(Tk, Dv) values.</summary>
    public required double[,] V { get; init; }

    /// <summary>The factor the scores are multiplied by.</summary>
    public required double Scale { get; init; }
    /// <summary>True when <see cref="Scale"/> is the default 1/√D.</summary>
    public required bool DefaultScale { get; init; }
    public required bool IsCausal { get; init; }
    /// <summary>Tk − Tq: with a causal mask query i sees keys j ≤ i + offset (aligned bottom-right, so the last
    /// query sees every key — what a decoder with a key/value cache needs; <see cref="AttentionOptions.AlignedPosition"/>).</summary>
    public int CausalOffset => AttentionOptions.AlignedPosition(0, QueryLength, KeyLength);

    /// <summary>(Tq, Tk) true where query i may attend to key j (after causal and explicit masks).</summary>
    public required bool[,] Visible { get; init; }

    /// <summary>(Tq, Tk) q·kᵀ.</summary>
    public required double[,] Scores { get; init; }
    /// <summary>(Tq, Tk) scores · scale.</summary>
    public required double[,] Scaled { get; init; }
    /// <summary>(Tq, Tk) scaled scores with −∞ where the key is hidden.</summary>
    public required double[,] Masked { get; init; }
    /// <summary>(Tq) max of each masked row; −∞ for a fully masked row.</summary>
    public required double[] RowMax { get; init; }
    /// <summary>(Tq, Tk) exp(masked − rowMax); 0 where hidden.</summary>
    public required double[,] Exp { get; init; }
    /// <summary>(Tq) Σ_j exp[i, j]; at least 1 for a row with a visible key (its max contributes exp(0)), 0 if fully masked.</summary>
    public required double[] RowSum { get; init; }
    /// <summary>(Tq, Tk) softmax weights; each row sums to 1 (0 for a fully masked row).</summary>
    public required double[,] Weights { get; init; }
    /// <summary>(Tq, Dv) weights·v.</summary>
    public required double[,] Output { get; init; }
    /// <summary>(Tq) −Σ_j w·ln w in nats (0·ln 0 = 0).</summary>
    public required double[] Entropy { get; init; }
    /// <summary>(Tq) how many keys each query can see.</summary>
    public required int[] VisibleCount { get; init; }

    public int QueryLength => Q.GetLength(0);
    public int KeyLength => K.GetLength(0);
    public int HeadDim => Q.GetLength(1);
    public int ValueDim => V.GetLength(1);

    /// <summary>True for query rows that can see no key at all.</summary>
    public bool FullyMasked(int row) => VisibleCount[row] == 0;

    /// <summary>Runs attention step by step.</summary>
    /// <param name="q">(Tq, D)</param>
    /// <param name="k">(Tk, D)</param>
    /// <param name="v">(Tk, Dv)</param>
    /// <param name="isCausal">hide keys j &gt; i + (Tk − Tq)</param>
    /// <param name="mask">(Tq, Tk) true = attend, or null; combined with <paramref name="isCausal"/> (both must allow)</param>
    /// <param name="scale">score multiplier, or null for 1/√D</param>
    public static AttentionTrace Compute(double[,] q, double[,] k, double[,] v, bool isCausal = false, bool[,]? mask = null, double? scale = null)
    {
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(k);
        ArgumentNullException.ThrowIfNull(v);
        int tq = q.GetLength(0), d = q.GetLength(1), tk = k.GetLength(0), dv = v.GetLength(1);
        if (tq == 0 || d == 0 || tk == 0 || dv == 0)
            throw new ArgumentException($"q, k and v must be non-empty; got q ({tq}×{d}), k ({tk}×{k.GetLength(1)}), v ({v.GetLength(0)}×{dv})");
        if (k.GetLength(1) != d)
            throw new ArgumentException($"q rows have {d} numbers but k rows have {k.GetLength(1)}: q and k need the same width D to take dot products");
        if (v.GetLength(0) != tk)
            throw new ArgumentException($"k has {tk} rows but v has {v.GetLength(0)}: every key needs exactly one value row");
        if (mask is not null && (mask.GetLength(0) != tq || mask.GetLength(1) != tk))
            throw new ArgumentException($"mask is ({mask.GetLength(0)}×{mask.GetLength(1)}) but must be (Tq×Tk) = ({tq}×{tk})");
        if (scale is { } given && !double.IsFinite(given))
            throw new ArgumentException($"scale must be finite, got {given}");
        double s = scale ?? 1.0 / Math.Sqrt(d);

        var visible = new bool[tq, tk];
        var visibleCount = new int[tq];
        for (int i = 0; i < tq; i++)
        {
            int last = AttentionOptions.AlignedPosition(i, tq, tk);          // causal: keys j ≤ last (AttentionOptions.CausalAllows)
            for (int j = 0; j < tk; j++)
            {
                bool causalOk = !isCausal || j <= last;
                bool maskOk = mask is null || mask[i, j];
                visible[i, j] = causalOk && maskOk;
                if (visible[i, j]) visibleCount[i]++;
            }
        }

        // scores[i, j] = Σ_d q[i, d]·k[j, d]
        var scores = new double[tq, tk];
        var scaled = new double[tq, tk];
        var masked = new double[tq, tk];
        for (int i = 0; i < tq; i++)
            for (int j = 0; j < tk; j++)
            {
                double dot = 0;
                for (int c = 0; c < d; c++) dot += q[i, c] * k[j, c];
                if (!double.IsFinite(dot))
                    throw new ArgumentException($"q·kᵀ overflows double at row {i + 1}, column {j + 1}; use smaller numbers");
                scores[i, j] = dot;
                scaled[i, j] = dot * s;
                masked[i, j] = visible[i, j] ? scaled[i, j] : double.NegativeInfinity;
            }

        // Softmax per row. Subtracting the row max changes nothing mathematically (it cancels in the ratio)
        // but keeps exp() ≤ 1, so large scores cannot overflow.
        var rowMax = new double[tq];
        var exp = new double[tq, tk];
        var rowSum = new double[tq];
        var weights = new double[tq, tk];
        var entropy = new double[tq];
        for (int i = 0; i < tq; i++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < tk; j++) max = Math.Max(max, masked[i, j]);
            rowMax[i] = max;
            if (visibleCount[i] == 0) continue; // all hidden: exp, sum, weights, entropy stay 0

            double sum = 0;
            for (int j = 0; j < tk; j++)
            {
                exp[i, j] = visible[i, j] ? Math.Exp(masked[i, j] - max) : 0.0;
                sum += exp[i, j];
            }
            rowSum[i] = sum;
            double h = 0;
            for (int j = 0; j < tk; j++)
            {
                double w = exp[i, j] / sum;
                weights[i, j] = w;
                if (w > 0) h -= w * Math.Log(w);
            }
            entropy[i] = h;
        }

        // output[i, :] = Σ_j weights[i, j]·v[j, :]
        var output = new double[tq, dv];
        for (int i = 0; i < tq; i++)
            for (int c = 0; c < dv; c++)
            {
                double acc = 0;
                for (int j = 0; j < tk; j++) acc += weights[i, j] * v[j, c];
                if (!double.IsFinite(acc))
                    throw new ArgumentException($"the output overflows double at row {i + 1}, column {c + 1}; use smaller values");
                output[i, c] = acc;
            }

        return new AttentionTrace
        {
            Q = q, K = k, V = v,
            Scale = s, DefaultScale = scale is null, IsCausal = isCausal,
            Visible = visible, VisibleCount = visibleCount,
            Scores = scores, Scaled = scaled, Masked = masked,
            RowMax = rowMax, Exp = exp, RowSum = rowSum,
            Weights = weights, Output = output, Entropy = entropy,
        };
    }
}
