namespace AttentionLab.Inspection;

/// <summary>One row of softmax at a sharpness: the scores multiplied by <see cref="Multiplier"/>.</summary>
/// <param name="Multiplier">the factor the scores were multiplied by</param>
/// <param name="Weights">softmax(multiplier · scores)</param>
/// <param name="MaxWeight">the largest weight: 1/n when uniform, → 1 as the row saturates</param>
/// <param name="MaxJacobianEntry">max |∂p_i/∂s_j|: at most 1/4, → 0 as the row saturates</param>
/// <param name="JacobianNorm">Frobenius norm of diag(p) − ppᵀ</param>
public sealed record SoftmaxSharpening(double Multiplier, double[] Weights, double MaxWeight, double MaxJacobianEntry, double JacobianNorm);

/// <summary>Averages over random rows of scores q·k_j at one dimension d, with or without 1/√d.</summary>
/// <param name="ScoreStd">the standard deviation of the scores (≈ √d unscaled, ≈ 1 scaled)</param>
/// <param name="MeanMaxWeight">mean of each row's largest weight</param>
/// <param name="MeanMaxJacobianEntry">mean of each row's largest |Jacobian entry|</param>
public sealed record SoftmaxRowStatistics(double ScoreStd, double MeanMaxWeight, double MeanMaxJacobianEntry);

/// <summary>One dimension of <see cref="SoftmaxGradient.Dimensions"/>: the same draws, unscaled and scaled.</summary>
public sealed record SoftmaxScalingAtDimension(int Dimension, SoftmaxRowStatistics Unscaled, SoftmaxRowStatistics Scaled);

/// <summary>
/// The gradient of softmax and why attention divides by √d (seed 000 question 2; seed 001 "Why do we scale by √d";
/// seed 004 Part 7, question 30). For p = softmax(s):
/// <code>
/// ∂p_i/∂s_j = p_i·(δ_ij − p_j)        the Jacobian J = diag(p) − p·pᵀ   (n, n), every row sums to 0
/// </code>
/// Its entries are at most 1/4 (p_i = 1/2) and all go to 0 as p becomes one-hot: a saturated softmax passes almost
/// no gradient back to the scores, so W_Q and W_K stop learning. Scores q·k of d-dimensional vectors with unit
/// entries have variance d, so without 1/√d softmax saturates more the wider the heads; with it the variance is 1
/// at every d. Plain loops in double.
/// </summary>
public static class SoftmaxGradient
{
    /// <summary>Softmax of one row, the row max subtracted first; −∞ entries get 0 (all −∞: all 0).</summary>
    public static double[] Softmax(IReadOnlyList<double> scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        var p = new double[scores.Count];
        double max = scores.Count == 0 ? double.NegativeInfinity : scores.Max();
        if (double.IsNegativeInfinity(max)) return p;
        double sum = 0;
        for (int i = 0; i < p.Length; i++) sum += p[i] = Math.Exp(scores[i] - max);
        for (int i = 0; i < p.Length; i++) p[i] /= sum;
        return p;
    }

    /// <summary>J[i, j] = ∂p_i/∂s_j = p_i·(δ_ij − p_j), i.e. diag(p) − p·pᵀ.</summary>
    /// <param name="p">(n) softmax weights</param>
    /// <returns>(n, n)</returns>
    public static double[,] Jacobian(IReadOnlyList<double> p)
    {
        ArgumentNullException.ThrowIfNull(p);
        int n = p.Count;
        var j = new double[n, n];
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++) j[r, c] = (r == c ? p[r] : 0) - p[r] * p[c];
        return j;
    }

    /// <summary>Σ_j J[i, j] for each row: 0, because adding the same amount to every score changes no probability.</summary>
    public static double[] RowSums(double[,] m)
    {
        var sums = new double[m.GetLength(0)];
        for (int r = 0; r < sums.Length; r++)
            for (int c = 0; c < m.GetLength(1); c++) sums[r] += m[r, c];
        return sums;
    }

    /// <summary>max |J[i, j]|.</summary>
    public static double MaxAbs(double[,] m)
    {
        double max = 0;
        foreach (var x in m) max = Math.Max(max, Math.Abs(x));
        return max;
    }

    /// <summary>√Σ J[i, j]².</summary>
    public static double FrobeniusNorm(double[,] m)
    {
        double sum = 0;
        foreach (var x in m) sum += x * x;
        return Math.Sqrt(sum);
    }

    /// <summary>The same row of scores made sharper: softmax(m·s) and its Jacobian for each multiplier m.</summary>
    public static IReadOnlyList<SoftmaxSharpening> Sharpening(IReadOnlyList<double> scores, IReadOnlyList<double> multipliers)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(multipliers);
        var result = new List<SoftmaxSharpening>(multipliers.Count);
        foreach (var m in multipliers)
        {
            var p = Softmax(scores.Select(s => double.IsNegativeInfinity(s) ? s : s * m).ToArray());
            var j = Jacobian(p);
            result.Add(new SoftmaxSharpening(m, p, p.Length == 0 ? 0 : p.Max(), MaxAbs(j), FrobeniusNorm(j)));
        }
        return result;
    }

    /// <summary>1, 2, 4, …, 2^(count−1).</summary>
    public static double[] Doublings(int count) => Enumerable.Range(0, count).Select(i => Math.Pow(2, i)).ToArray();

    /// <summary>
    /// For each dimension d: <paramref name="samples"/> rows, each one query q and <paramref name="keys"/> keys k_j with
    /// N(0, 1) entries; scores q·k_j unscaled and divided by √d (the same draws); the averages of each row's largest
    /// weight and largest |Jacobian entry|. Deterministic for a seed.
    /// </summary>
    public static IReadOnlyList<SoftmaxScalingAtDimension> Dimensions(IReadOnlyList<int> dimensions, int keys = 8, int samples = 200, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(dimensions);
        if (keys < 2) throw new ArgumentException($"keys must be at least 2, got {keys}");
        if (samples < 1) throw new ArgumentException($"samples must be at least 1, got {samples}");
        var random = new Random(seed);
        double Normal() => Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var result = new List<SoftmaxScalingAtDimension>();
        foreach (int d in dimensions)
        {
            if (d < 1) throw new ArgumentException($"dimensions must be at least 1, got {d}");
            var raw = new double[samples][];
            for (int s = 0; s < samples; s++)
            {
                var q = Enumerable.Range(0, d).Select(_ => Normal()).ToArray();
                raw[s] = new double[keys];
                for (int j = 0; j < keys; j++)
                {
                    double dot = 0;
                    for (int c = 0; c < d; c++) dot += q[c] * Normal();
                    raw[s][j] = dot;
                }
            }
            double root = Math.Sqrt(d);
            result.Add(new SoftmaxScalingAtDimension(d, Statistics(raw, 1), Statistics(raw, 1 / root)));
        }
        return result;
    }

    private static SoftmaxRowStatistics Statistics(double[][] rows, double scale)
    {
        double sum = 0, sumSquares = 0, maxWeight = 0, maxEntry = 0;
        int count = 0;
        foreach (var row in rows)
        {
            var scaled = row.Select(s => s * scale).ToArray();
            foreach (var s in scaled) { sum += s; sumSquares += s * s; count++; }
            var p = Softmax(scaled);
            maxWeight += p.Max();
            maxEntry += MaxAbs(Jacobian(p));
        }
        double mean = sum / count;
        return new SoftmaxRowStatistics(Math.Sqrt(Math.Max(0, sumSquares / count - mean * mean)), maxWeight / rows.Length, maxEntry / rows.Length);
    }
}
