namespace AttentionLab.Inspection;

/// <summary>One key tile of the online softmax, for every query row.</summary>
/// <param name="Tile">0-based tile index</param>
/// <param name="KeyStart">first key of the tile (0-based)</param>
/// <param name="KeyEnd">one past its last key</param>
/// <param name="Scores">(Tq, n) scaled scores of the tile's keys, −∞ where hidden</param>
/// <param name="TileMax">(Tq) max of the row's scores in this tile (−∞ if the tile hides them all)</param>
/// <param name="PreviousMax">(Tq) running max m before the tile</param>
/// <param name="RunningMax">(Tq) m' = max(m, tile max)</param>
/// <param name="Rescale">(Tq) α = exp(m − m'): what the sum and the output so far are multiplied by (0 before the first
/// visible key, 1 when the max did not grow)</param>
/// <param name="Probabilities">(Tq, n) exp(s − m'), unnormalized</param>
/// <param name="PreviousSum">(Tq) running sum l before the tile</param>
/// <param name="RunningSum">(Tq) l' = α·l + Σ exp(s − m')</param>
/// <param name="PartialOutput">(Tq, Dv) the unnormalized accumulator O' = α·O + P·V_tile</param>
/// <param name="NormalizedOutput">(Tq, Dv) O' / l': the output if the keys stopped here (0 while nothing is visible)</param>
public sealed record FlashTraceStep(int Tile, int KeyStart, int KeyEnd, double[,] Scores, double[] TileMax, double[] PreviousMax,
    double[] RunningMax, double[] Rescale, double[,] Probabilities, double[] PreviousSum, double[] RunningSum,
    double[,] PartialOutput, double[,] NormalizedOutput);

/// <summary>
/// Flash attention's online softmax step by step, in double with plain loops, for a small single-head example
/// (<c>attnlab attention ... --trace flash --tile N</c>). The keys arrive in tiles of N; each query row keeps a
/// running max m and a running sum l and rescales what it accumulated whenever m grows:
/// <code>
/// m' = max(m, max_j s_j)        α = exp(m − m')        P = exp(s − m')
/// l' = α·l + Σ_j P_j            O' = α·O + P·V_tile    output = O / l,   LSE = m + ln l
/// </code>
/// The result equals plain softmax attention (<see cref="PlainOutput"/>, <see cref="MaxDifference"/>): the same
/// arithmetic as <see cref="Attention.FlashAttention"/>, readable.
/// </summary>
public sealed class FlashTrace
{
    public required int TileSize { get; init; }
    public required double Scale { get; init; }
    /// <summary>(Tq, Tk) which keys each query may see.</summary>
    public required bool[,] Visible { get; init; }
    public required IReadOnlyList<FlashTraceStep> Steps { get; init; }
    /// <summary>(Tq, Dv) O / l after the last tile.</summary>
    public required double[,] Output { get; init; }
    /// <summary>(Tq) m + ln l: what Flash saves for backward (−∞ for a row with no visible key).</summary>
    public required double[] LogSumExp { get; init; }
    /// <summary>(Tq, Tk) softmax of the full rows, computed the plain way.</summary>
    public required double[,] PlainWeights { get; init; }
    /// <summary>(Tq, Dv) plain softmax(s)·V.</summary>
    public required double[,] PlainOutput { get; init; }
    /// <summary>max |Output − PlainOutput|: 0 up to double rounding.</summary>
    public required double MaxDifference { get; init; }

    /// <param name="q">(Tq, D)</param>
    /// <param name="k">(Tk, D)</param>
    /// <param name="v">(Tk, Dv)</param>
    /// <param name="visible">(Tq, Tk) true where query i may attend to key j</param>
    /// <param name="scale">score scale; null = 1/√D</param>
    /// <param name="tile">keys per tile (≥ 1)</param>
    public static FlashTrace Compute(double[,] q, double[,] k, double[,] v, bool[,] visible, double? scale, int tile)
    {
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(k);
        ArgumentNullException.ThrowIfNull(v);
        ArgumentNullException.ThrowIfNull(visible);
        int tq = q.GetLength(0), d = q.GetLength(1), tk = k.GetLength(0), dv = v.GetLength(1);
        if (k.GetLength(1) != d) throw new ArgumentException($"q rows have {d} numbers but k rows have {k.GetLength(1)}");
        if (v.GetLength(0) != tk) throw new ArgumentException($"k has {tk} rows but v has {v.GetLength(0)}");
        if (visible.GetLength(0) != tq || visible.GetLength(1) != tk) throw new ArgumentException($"the visibility mask must be {tq}×{tk}");
        if (tile < 1) throw new ArgumentException($"the tile size must be at least 1, got {tile}");
        double s0 = scale ?? 1 / Math.Sqrt(d);

        var scores = new double[tq, tk];
        for (int i = 0; i < tq; i++)
            for (int j = 0; j < tk; j++)
            {
                double dot = 0;
                for (int e = 0; e < d; e++) dot += q[i, e] * k[j, e];
                scores[i, j] = visible[i, j] ? dot * s0 : double.NegativeInfinity;
            }

        var m = Enumerable.Repeat(double.NegativeInfinity, tq).ToArray();
        var l = new double[tq];
        var o = new double[tq, dv];
        var steps = new List<FlashTraceStep>();
        for (int j0 = 0, t = 0; j0 < tk; j0 += tile, t++)
        {
            int j1 = Math.Min(tk, j0 + tile), n = j1 - j0;
            var s = new double[tq, n];
            var p = new double[tq, n];
            var tileMax = new double[tq];
            var prevMax = (double[])m.Clone();
            var prevSum = (double[])l.Clone();
            var alpha = new double[tq];
            for (int i = 0; i < tq; i++)
            {
                tileMax[i] = double.NegativeInfinity;
                for (int j = 0; j < n; j++) { s[i, j] = scores[i, j0 + j]; tileMax[i] = Math.Max(tileMax[i], s[i, j]); }
                double mNew = Math.Max(m[i], tileMax[i]);
                if (double.IsNegativeInfinity(mNew)) { alpha[i] = 1; continue; } // nothing visible yet: nothing to rescale
                alpha[i] = Math.Exp(m[i] - mNew);                                 // exp(−∞) = 0 the first time
                double sum = 0;
                for (int j = 0; j < n; j++) { p[i, j] = Math.Exp(s[i, j] - mNew); sum += p[i, j]; }
                l[i] = alpha[i] * l[i] + sum;
                for (int e = 0; e < dv; e++)
                {
                    double acc = alpha[i] * o[i, e];
                    for (int j = 0; j < n; j++) acc += p[i, j] * v[j0 + j, e];
                    o[i, e] = acc;
                }
                m[i] = mNew;
            }
            var partial = (double[,])o.Clone();
            var normalized = new double[tq, dv];
            for (int i = 0; i < tq; i++)
                for (int e = 0; e < dv; e++) normalized[i, e] = l[i] > 0 ? o[i, e] / l[i] : 0;
            steps.Add(new FlashTraceStep(t, j0, j1, s, tileMax, prevMax, (double[])m.Clone(), alpha, p, prevSum, (double[])l.Clone(), partial, normalized));
        }

        var output = new double[tq, dv];
        var lse = new double[tq];
        for (int i = 0; i < tq; i++)
        {
            lse[i] = l[i] > 0 ? m[i] + Math.Log(l[i]) : double.NegativeInfinity;
            for (int e = 0; e < dv; e++) output[i, e] = l[i] > 0 ? o[i, e] / l[i] : 0;
        }

        // the plain way: whole rows, softmax, weights·V
        var weights = new double[tq, tk];
        var plain = new double[tq, dv];
        double maxDiff = 0;
        for (int i = 0; i < tq; i++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < tk; j++) max = Math.Max(max, scores[i, j]);
            if (!double.IsNegativeInfinity(max))
            {
                double sum = 0;
                for (int j = 0; j < tk; j++) { weights[i, j] = Math.Exp(scores[i, j] - max); sum += weights[i, j]; }
                for (int j = 0; j < tk; j++) weights[i, j] /= sum;
            }
            for (int e = 0; e < dv; e++)
            {
                double acc = 0;
                for (int j = 0; j < tk; j++) acc += weights[i, j] * v[j, e];
                plain[i, e] = acc;
                maxDiff = Math.Max(maxDiff, Math.Abs(acc - output[i, e]));
            }
        }
        return new FlashTrace
        {
            TileSize = tile, Scale = s0, Visible = visible, Steps = steps, Output = output, LogSumExp = lse,
            PlainWeights = weights, PlainOutput = plain, MaxDifference = maxDiff,
        };
    }
}
