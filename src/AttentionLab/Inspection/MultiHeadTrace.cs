namespace AttentionLab.Inspection;

/// <summary>
/// Multi-head attention by hand, in double with plain loops, written as the seed materials write it
/// (<c>Q = X @ W_q</c>, no biases) so every number can be checked on paper:
/// <code>
/// Q = X·W_Q,  K = X·W_K,  V = X·W_V          (T, C)
/// split: Q.view(T, H, D).transpose(0, 1)     (H, T, D)   head h owns columns h·D … h·D + D − 1
/// head_h = softmax(Q_h·K_hᵀ·scale + mask)·V_h (T, D)      one <see cref="AttentionTrace"/> per head
/// concat = [head_0 | head_1 | … ]            (T, C)
/// output = concat·W_O                        (T, C)
///        = Σ_h head_h·W_O[h]                 W_O[h] = rows h·D … h·D + D − 1 of W_O, (D, C)
/// </code>
/// The last line is seed 003's question 5 ("concat @ W_O is a learned weighted sum of the heads"): the trace
/// computes both sides and <see cref="IdentityError"/> is their largest difference (~1e-16).
/// The library's <see cref="Attention.MultiHeadSelfAttention"/> (the one stack's attention layer: fused qkv, named
/// with PyTorch's (out, in) weights, y = x·Wᵀ + b) computes the same; its tests check the two agree.
/// </summary>
public sealed class MultiHeadTrace
{
    /// <summary>(T, C) the input tokens.</summary>
    public required double[,] X { get; init; }
    /// <summary>(C, C) each, applied as X·W.</summary>
    public required double[,] WQ { get; init; }
    public required double[,] WK { get; init; }
    public required double[,] WV { get; init; }
    public required double[,] WO { get; init; }
    public required int Heads { get; init; }

    /// <summary>(T, C) X·W_Q, X·W_K, X·W_V.</summary>
    public required double[,] Q { get; init; }
    public required double[,] K { get; init; }
    public required double[,] V { get; init; }

    /// <summary>Per head, the single-head trace on (T, D) slices: scores, weights, output.</summary>
    public required AttentionTrace[] HeadTraces { get; init; }
    /// <summary>(T, C) the heads' outputs side by side.</summary>
    public required double[,] Concat { get; init; }
    /// <summary>(T, C) concat·W_O.</summary>
    public required double[,] Output { get; init; }
    /// <summary>Per head, (D, C): rows h·D … h·D + D − 1 of W_O.</summary>
    public required double[][,] WOBlocks { get; init; }
    /// <summary>Per head, (T, C): head_h·W_O[h], what head h adds to the output.</summary>
    public required double[][,] Contributions { get; init; }
    /// <summary>(T, C) Σ_h head_h·W_O[h].</summary>
    public required double[,] ContributionSum { get; init; }
    /// <summary>max |concat·W_O − Σ_h head_h·W_O[h]|: zero up to rounding.</summary>
    public required double IdentityError { get; init; }

    /// <summary>The split into heads as PyTorch writes it, batch 1: before (1, T, C), after
    /// <c>.view(1, T, H, D)</c>, after <c>.transpose(1, 2)</c> (1, H, T, D).</summary>
    public (int[] Before, int[] View, int[] Transpose) SplitShapes =>
        ([1, Length, Channels], [1, Length, Heads, HeadDim], [1, Heads, Length, HeadDim]);

    public int Length => X.GetLength(0);
    public int Channels => X.GetLength(1);
    public int HeadDim => Channels / Heads;
    public bool IsCausal => HeadTraces[0].IsCausal;
    public double Scale => HeadTraces[0].Scale;

    /// <param name="x">(T, C)</param>
    /// <param name="wq">(C, C)</param>
    /// <param name="wk">(C, C)</param>
    /// <param name="wv">(C, C)</param>
    /// <param name="wo">(C, C)</param>
    /// <param name="heads">H; must divide C</param>
    /// <param name="isCausal">token i sees tokens j ≤ i</param>
    /// <param name="scale">score multiplier, or null for 1/√D</param>
    public static MultiHeadTrace Compute(double[,] x, double[,] wq, double[,] wk, double[,] wv, double[,] wo, int heads,
        bool isCausal = false, double? scale = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        int T = x.GetLength(0), C = x.GetLength(1);
        if (T == 0 || C == 0) throw new ArgumentException("x must be non-empty (T×C)");
        if (heads <= 0) throw new ArgumentException($"heads must be at least 1, got {heads}");
        if (C % heads != 0)
            throw new ArgumentException($"heads ({heads}) must divide d_model ({C}, the width of x): each head gets d_model / heads columns");
        foreach (var (w, name) in new[] { (wq, "W_Q"), (wk, "W_K"), (wv, "W_V"), (wo, "W_O") })
        {
            ArgumentNullException.ThrowIfNull(w, name);
            if (w.GetLength(0) != C || w.GetLength(1) != C)
                throw new ArgumentException($"{name} is {w.GetLength(0)}×{w.GetLength(1)} but must be C×C = {C}×{C} (C = the width of x)");
        }
        int H = heads, D = C / H;

        var q = MatMul(x, wq);                                                      // (T, C)
        var k = MatMul(x, wk);
        var v = MatMul(x, wv);
        var traces = new AttentionTrace[H];
        var concat = new double[T, C];
        for (int h = 0; h < H; h++)
        {
            // head h: the columns h·D … h·D + D − 1 of Q, K, V  (T, D)
            traces[h] = AttentionTrace.Compute(Columns(q, h * D, D), Columns(k, h * D, D), Columns(v, h * D, D), isCausal, null, scale);
            for (int t = 0; t < T; t++)
                for (int d = 0; d < D; d++) concat[t, h * D + d] = traces[h].Output[t, d];
        }
        var output = MatMul(concat, wo);                                            // (T, C)

        var blocks = new double[H][,];
        var contributions = new double[H][,];
        var sum = new double[T, C];
        for (int h = 0; h < H; h++)
        {
            blocks[h] = Rows(wo, h * D, D);                                         // (D, C)
            contributions[h] = MatMul(traces[h].Output, blocks[h]);                 // (T, D)·(D, C) = (T, C)
            for (int t = 0; t < T; t++)
                for (int c = 0; c < C; c++) sum[t, c] += contributions[h][t, c];
        }
        double error = 0;
        for (int t = 0; t < T; t++)
            for (int c = 0; c < C; c++) error = Math.Max(error, Math.Abs(output[t, c] - sum[t, c]));

        return new MultiHeadTrace
        {
            X = x, WQ = wq, WK = wk, WV = wv, WO = wo, Heads = H,
            Q = q, K = k, V = v, HeadTraces = traces, Concat = concat, Output = output,
            WOBlocks = blocks, Contributions = contributions, ContributionSum = sum, IdentityError = error,
        };
    }

    /// <summary>
    /// Inputs for a by-hand example: x ~ N(0, 1) and every W uniform in [−1, 1], each rounded to one decimal so
    /// the products stay short on paper. The same seed gives the same numbers.
    /// </summary>
    public static (double[,] X, double[,] WQ, double[,] WK, double[,] WV, double[,] WO) RandomInputs(int seqLength, int dModel, int seed)
    {
        if (seqLength <= 0 || dModel <= 0) throw new ArgumentException($"seq_len and d_model must be at least 1, got {seqLength} and {dModel}");
        var random = new Random(seed);
        double Round(double value) => Math.Round(value, 1, MidpointRounding.AwayFromZero) + 0.0; // + 0.0: no −0
        double[,] Fill(int rows, int cols, Func<double> draw)
        {
            var m = new double[rows, cols];
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++) m[i, j] = Round(draw());
            return m;
        }
        double Normal() => Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        double Uniform() => random.NextDouble() * 2 - 1;
        return (Fill(seqLength, dModel, Normal), Fill(dModel, dModel, Uniform), Fill(dModel, dModel, Uniform),
            Fill(dModel, dModel, Uniform), Fill(dModel, dModel, Uniform));
    }

    /// <summary>(n, m)·(m, p) with plain loops.</summary>
    public static double[,] MatMul(double[,] a, double[,] b)
    {
        int n = a.GetLength(0), m = a.GetLength(1), p = b.GetLength(1);
        if (b.GetLength(0) != m) throw new ArgumentException($"cannot multiply {n}×{m} by {b.GetLength(0)}×{p}");
        var c = new double[n, p];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < p; j++)
            {
                double acc = 0;
                for (int r = 0; r < m; r++) acc += a[i, r] * b[r, j];
                c[i, j] = acc;
            }
        return c;
    }

    private static double[,] Columns(double[,] m, int start, int count)
    {
        var r = new double[m.GetLength(0), count];
        for (int i = 0; i < m.GetLength(0); i++)
            for (int j = 0; j < count; j++) r[i, j] = m[i, start + j];
        return r;
    }

    private static double[,] Rows(double[,] m, int start, int count)
    {
        var r = new double[count, m.GetLength(1)];
        for (int i = 0; i < count; i++)
            for (int j = 0; j < m.GetLength(1); j++) r[i, j] = m[start + i, j];
        return r;
    }
}
