using System.Buffers;
using System.Numerics.Tensors;
using AttentionLab.Kernels;

namespace AttentionLab.Attention;

/// <summary>
/// FlashAttention (Dao et al. 2022; backward as in FlashAttention-2, Dao 2023) on the CPU: exact attention that
/// never materializes the (Tq, Tk) score matrix. Per (b, h) and block of <see cref="QueryBlock"/> query rows, the keys
/// arrive in tiles of <see cref="Tile"/>; each row keeps a running max m and a running sum l of exp(s − m) and
/// rescales what it has accumulated whenever the max grows (online softmax, docs/attention.md §9):
/// <code>
/// S   = Q_i·K_jᵀ · scale + masks            (rows, tile)      one tile of scores, in scratch
/// m'  = max(m, rowmax(S));  α = exp(m − m')                    rescale factor of what came before
/// P   = exp(S − m')                         (rows, tile)
/// l   = α·l + rowsum(P);   O = α·O + P·V_j  (rows, D)
/// end:  O = O / l,   LSE = m + ln l         saved for backward: one float per query row, (B, H, Tq)
/// </code>
/// Backward recomputes each tile's P = exp(S − LSE) from the saved log-sum-exp and uses
/// D_i = rowsum(dO_i ⊙ O_i) = rowsum(dP_i ⊙ P_i), so it needs neither P nor its row sums stored:
/// dV += Pᵀ·dO, dP = dO·Vᵀ, dS = P ⊙ (dP − D)·scale, dQ += dS·K, dK += dSᵀ·Q.
/// Tiles that causal, prefix, window and global masks hide entirely are skipped (so a window costs O(T·W), see
/// <see cref="WindowAttention"/>). Memory beyond inputs and outputs: the LSE plus a few tile-sized scratch buffers
/// per thread — O(T) per head. Forward runs (b, h, query block) tasks in parallel, backward (b, h) heads.
/// Results equal <see cref="ScaledDotProductAttention"/> to float rounding (the summation order differs).
/// </summary>
public sealed class FlashAttention : IAttentionKernel
{
    /// <summary>Query rows per block: the rows that share one pass over the key tiles.</summary>
    public const int QueryBlock = 64;

    /// <summary>Default keys per tile: a (64, 64) score tile and a (64, D) value tile stay in L1/L2.</summary>
    public const int DefaultTile = 64;

    /// <summary>Below this many multiply-adds (≈ B·H·Tq·Tk·D) a call runs on one thread.</summary>
    private const long ParallelThreshold = 1 << 16;

    /// <param name="tile">keys per tile (≥ 1)</param>
    public FlashAttention(int tile = DefaultTile)
    {
        if (tile < 1) throw new ArgumentOutOfRangeException(nameof(tile), $"the flash tile size must be at least 1, got {tile}");
        Tile = tile;
    }

    /// <summary>Keys per tile.</summary>
    public int Tile { get; }

    /// <summary>The kernel for a spec such as <c>flash</c> or <c>flash,tile:32</c>.</summary>
    internal static FlashAttention FromSpec(AttentionKernelSpec spec)
    {
        if (spec.Value is not null) throw new ArgumentException($"attention kernel 'flash' takes no main value; write the tile size as 'flash,tile:{spec.Value}'");
        spec.OnlyOptions("tile");
        return new FlashAttention(spec.OptionInt("tile", 1, 4096, DefaultTile));
    }

    public string Name => Tile == DefaultTile ? "flash" : $"flash,tile:{Tile}";

    public bool IsExact => true;

    /// <summary>No state is kept between calls: heads may run in parallel.</summary>
    public bool CallsMayOverlap => true;

    /// <summary>One log-sum-exp per query row: (B, H, Tq).</summary>
    public long SavedLength(AttentionShape shape) => (long)shape.Batch * shape.Heads * shape.QueryLength;

    /// <param name="logSumExp">(B, H, Tq): ln Σ_j exp(s_ij) per query row, −∞ for a row with no visible key</param>
    public unsafe void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        AttentionShape shape, AttentionOptions options, Span<float> output, Span<float> logSumExp)
    {
        AttentionChecks.Forward(q, k, v, shape, options, output, logSumExp, SavedLength(shape));
        var (B, H, Tq, Tk, D) = shape;
        if (B * H * Tq == 0) return;
        int blocks = (Tq + QueryBlock - 1) / QueryBlock;
        int tasks = B * H * blocks;
        fixed (float* qp = q, kp = k, vp = v, op = output, lp = logSumExp)
        {
            var ctx = new Pointers(qp, kp, vp, op, lp, logSumExp.IsEmpty);
            if (tasks == 1 || (long)B * H * Tq * Tk * D < ParallelThreshold)
                for (int t = 0; t < tasks; t++) ForwardBlock(ctx, shape, options, t / blocks, t % blocks);
            else
                Parallel.For(0, tasks, t => ForwardBlock(ctx, shape, options, t / blocks, t % blocks));
        }
    }

    public unsafe void Backward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> output,
        ReadOnlySpan<float> logSumExp, ReadOnlySpan<float> dOutput, AttentionShape shape, AttentionOptions options,
        Span<float> dq, Span<float> dk, Span<float> dv)
    {
        AttentionChecks.Backward(q, k, v, output, logSumExp, SavedLength(shape), dOutput, shape, options, dq, dk, dv);
        var (B, H, Tq, Tk, D) = shape;
        if (logSumExp.IsEmpty && B * H * Tq > 0)
        {
            // nothing saved: one more forward for the log-sum-exp (its output equals the caller's)
            var lse = new float[SavedLength(shape)];
            Forward(q, k, v, shape, options, new float[shape.QueryElements], lse);
            logSumExp = lse;
        }
        int heads = B * H;
        fixed (float* qp = q, kp = k, vp = v, op = output, lp = logSumExp, dop = dOutput, dqp = dq, dkp = dk, dvp = dv)
        {
            var ctx = new GradPointers(qp, kp, vp, op, lp, dop, dqp, dkp, dvp);
            if (heads <= 1 || (long)heads * Tq * Tk * D < ParallelThreshold)
                for (int bh = 0; bh < heads; bh++) BackwardHead(ctx, shape, options, bh);
            else
                Parallel.For(0, heads, bh => BackwardHead(ctx, shape, options, bh));
        }
    }

    /// <summary>Materializes P = exp(S − LSE) row by row from a forward's log-sum-exp (inspection only).</summary>
    public void Weights(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        AttentionShape shape, AttentionOptions options, Span<float> weights)
    {
        AttentionChecks.Weights(q, k, v, shape, options, weights);
        var (B, H, Tq, Tk, D) = shape;
        var lse = new float[SavedLength(shape)];
        Forward(q, k, v, shape, options, new float[shape.QueryElements], lse);
        float scale = options.ScaleFor(D);
        for (int bh = 0; bh < B * H; bh++)
            for (int i = 0; i < Tq; i++)
            {
                var row = weights.Slice((bh * Tq + i) * Tk, Tk);
                for (int j = 0; j < Tk; j++)
                    row[j] = TensorPrimitives.Dot(q.Slice((bh * Tq + i) * D, D), k.Slice((bh * Tk + j) * D, D)) * scale;
                RowToProbabilities(options, shape, bh / H, bh % H, i, 0, lse[bh * Tq + i], row);
            }
    }

    /// <summary>The pinned buffers of one forward call, carried into the parallel tasks (spans cannot be captured).</summary>
    private readonly unsafe struct Pointers(float* q, float* k, float* v, float* o, float* lse, bool noLse)
    {
        public readonly float* Q = q, K = k, V = v, O = o, Lse = lse;
        public readonly bool NoLse = noLse;
    }

    /// <summary>The pinned buffers of one backward call.</summary>
    private readonly unsafe struct GradPointers(float* q, float* k, float* v, float* o, float* lse, float* dOut, float* dq, float* dk, float* dv)
    {
        public readonly float* Q = q, K = k, V = v, O = o, Lse = lse, DO = dOut, DQ = dq, DK = dk, DV = dv;
    }

    /// <summary>
    /// Marks the key tiles that some row of [i0, i1) can see (causal / prefix / window / global); the others are
    /// skipped. Returns how many are marked.
    /// </summary>
    internal static int VisibleTiles(AttentionOptions options, int i0, int i1, int Tq, int Tk, int tile, Span<bool> visible)
    {
        visible.Clear();
        for (int i = i0; i < i1; i++)
        {
            var (g, s, e) = options.VisibleKeys(i, Tq, Tk);
            if (g > 0) visible[..((g - 1) / tile + 1)].Fill(true);
            if (e > s) visible[(s / tile)..((e - 1) / tile + 1)].Fill(true);
        }
        int count = 0;
        foreach (bool x in visible) if (x) count++;
        return count;
    }

    /// <summary>Scale, masks, then exp(s − lse): the probabilities of one row's keys [lo, lo + row.Length).</summary>
    private static void RowToProbabilities(AttentionOptions options, AttentionShape shape, int b, int h, int i, int lo, float lse, Span<float> row)
    {
        if (float.IsNegativeInfinity(lse)) { row.Clear(); return; } // the row sees no key: P = 0
        options.MaskHiddenKeys(i, shape.QueryLength, shape.KeyLength, lo, row);
        if (options.HasElementMasks) options.ApplyElementMasks(b, h, i, lo, shape, row);
        TensorPrimitives.Subtract(row, lse, row);
        TensorPrimitives.Exp(row, row); // exp(−∞) = 0 for masked keys
    }

    private static unsafe void ForwardBlock(Pointers p, AttentionShape shape, AttentionOptions options, int bh, int block, int tile)
    {
        var (_, H, Tq, Tk, D) = shape;
        int b = bh / H, h = bh % H;
        int i0 = block * QueryBlock, i1 = Math.Min(Tq, i0 + QueryBlock), rows = i1 - i0;
        float scale = options.ScaleFor(D);
        var q = new ReadOnlySpan<float>(p.Q + ((long)bh * Tq + i0) * D, rows * D);  // (rows, D)
        var k = new ReadOnlySpan<float>(p.K + (long)bh * Tk * D, Tk * D);           // (Tk, D)
        var v = new ReadOnlySpan<float>(p.V + (long)bh * Tk * D, Tk * D);           // (Tk, D)
        var o = new Span<float>(p.O + ((long)bh * Tq + i0) * D, rows * D);          // (rows, D) accumulates α·O + P·V
        var lseOut = p.NoLse ? default : new Span<float>(p.Lse + (long)bh * Tq + i0, rows); // (rows)

        int tiles = (Tk + tile - 1) / tile;
        float[] rented = ArrayPool<float>.Shared.Rent(rows * tile + 2 * rows);
        bool[] visible = ArrayPool<bool>.Shared.Rent(tiles);
        try
        {
            var s = rented.AsSpan(0, rows * tile);                 // (rows, tile) scores, then P
            var m = rented.AsSpan(rows * tile, rows);              // (rows) running max
            var l = rented.AsSpan(rows * tile + rows, rows);       // (rows) running sum of exp(s − m)
            m.Fill(float.NegativeInfinity);
            l.Clear();
            o.Clear();
            VisibleTiles(options, i0, i1, Tq, Tk, tile, visible.AsSpan(0, tiles));
            for (int t = 0; t < tiles; t++)
            {
                if (!visible[t]) continue;
                int j0 = t * tile, n = Math.Min(tile, Tk - j0);
                var st = s[..(rows * n)];                                                                        // (rows, n)
                Gemm.Multiply(q, k.Slice(j0 * D, n * D), st, rows, n, D, transposeB: true, maxThreads: 1);     // S = Q·K_jᵀ
                for (int r = 0; r < rows; r++)
                {
                    var row = st.Slice(r * n, n);
                    TensorPrimitives.Multiply(row, scale, row);
                    options.MaskHiddenKeys(i0 + r, Tq, Tk, j0, row);
                    if (options.HasElementMasks) options.ApplyElementMasks(b, h, i0 + r, j0, shape, row);
                    float mNew = Math.Max(m[r], TensorPrimitives.Max(row));
                    if (float.IsNegativeInfinity(mNew)) { row.Clear(); continue; } // nothing visible yet: P = 0
                    float alpha = MathF.Exp(m[r] - mNew);                          // exp(−∞) = 0 on the first visible tile
                    TensorPrimitives.Subtract(row, mNew, row);
                    TensorPrimitives.Exp(row, row);                                // P = exp(S − m')
                    l[r] = alpha * l[r] + TensorPrimitives.Sum(row);
                    m[r] = mNew;
                    if (alpha != 1f)
                    {
                        var orow = o.Slice(r * D, D);
                        TensorPrimitives.Multiply(orow, alpha, orow);              // rescale what came before
                    }
                }
                Gemm.Multiply(st, v.Slice(j0 * D, n * D), o, rows, D, n, accumulate: true, maxThreads: 1);     // O += P·V_j
            }
            for (int r = 0; r < rows; r++)
            {
                var orow = o.Slice(r * D, D);
                if (l[r] > 0) TensorPrimitives.Multiply(orow, 1f / l[r], orow);
                else orow.Clear(); // no visible key: output 0
                if (!lseOut.IsEmpty) lseOut[r] = l[r] > 0 ? m[r] + MathF.Log(l[r]) : float.NegativeInfinity;
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
            ArrayPool<bool>.Shared.Return(visible);
        }
    }

    private void ForwardBlock(Pointers p, AttentionShape shape, AttentionOptions options, int bh, int block) =>
        ForwardBlock(p, shape, options, bh, block, Tile);

    private void BackwardHead(GradPointers p, AttentionShape shape, AttentionOptions options, int bh) =>
        BackwardHead(p, shape, options, bh, Tile);

    private static unsafe void BackwardHead(GradPointers p, AttentionShape shape, AttentionOptions options, int bh, int tile)
    {
        var (_, H, Tq, Tk, D) = shape;
        int b = bh / H, h = bh % H;
        float scale = options.ScaleFor(D);
        var k = new ReadOnlySpan<float>(p.K + (long)bh * Tk * D, Tk * D);   // (Tk, D)
        var v = new ReadOnlySpan<float>(p.V + (long)bh * Tk * D, Tk * D);   // (Tk, D)
        var dk = new Span<float>(p.DK + (long)bh * Tk * D, Tk * D);         // (Tk, D)
        var dv = new Span<float>(p.DV + (long)bh * Tk * D, Tk * D);         // (Tk, D)
        dk.Clear();
        dv.Clear();
        int tiles = (Tk + tile - 1) / tile;
        int maxRows = Math.Min(Tq, QueryBlock);
        float[] rented = ArrayPool<float>.Shared.Rent(2 * maxRows * tile + maxRows);
        bool[] visible = ArrayPool<bool>.Shared.Rent(tiles);
        try
        {
            for (int i0 = 0; i0 < Tq; i0 += QueryBlock)
            {
                int i1 = Math.Min(Tq, i0 + QueryBlock), rows = i1 - i0;
                var q = new ReadOnlySpan<float>(p.Q + ((long)bh * Tq + i0) * D, rows * D);     // (rows, D)
                var o = new ReadOnlySpan<float>(p.O + ((long)bh * Tq + i0) * D, rows * D);     // (rows, D)
                var dO = new ReadOnlySpan<float>(p.DO + ((long)bh * Tq + i0) * D, rows * D);   // (rows, D)
                var lse = new ReadOnlySpan<float>(p.Lse + (long)bh * Tq + i0, rows);          // (rows)
                var dq = new Span<float>(p.DQ + ((long)bh * Tq + i0) * D, rows * D);           // (rows, D)
                dq.Clear();
                var delta = rented.AsSpan(2 * maxRows * tile, rows);                           // (rows) D_i = rowsum(dO ⊙ O)
                for (int r = 0; r < rows; r++) delta[r] = TensorPrimitives.Dot(dO.Slice(r * D, D), o.Slice(r * D, D));

                VisibleTiles(options, i0, i1, Tq, Tk, tile, visible.AsSpan(0, tiles));
                for (int t = 0; t < tiles; t++)
                {
                    if (!visible[t]) continue;
                    int j0 = t * tile, n = Math.Min(tile, Tk - j0);
                    var P = rented.AsSpan(0, rows * n);                    // (rows, n)
                    var dS = rented.AsSpan(maxRows * tile, rows * n);      // (rows, n) dP, then dS
                    var kt = k.Slice(j0 * D, n * D);                       // (n, D)
                    var vt = v.Slice(j0 * D, n * D);                       // (n, D)
                    Gemm.Multiply(q, kt, P, rows, n, D, transposeB: true, maxThreads: 1);                              // S = Q·K_jᵀ
                    for (int r = 0; r < rows; r++)
                    {
                        var row = P.Slice(r * n, n);
                        TensorPrimitives.Multiply(row, scale, row);
                        RowToProbabilities(options, shape, b, h, i0 + r, j0, lse[r], row);                              // P = exp(S − LSE)
                    }
                    Gemm.Multiply(P, dO, dv.Slice(j0 * D, n * D), n, D, rows, transposeA: true, accumulate: true, maxThreads: 1); // dV_j += Pᵀ·dO
                    Gemm.Multiply(dO, vt, dS, rows, n, D, transposeB: true, maxThreads: 1);                            // dP = dO·V_jᵀ
                    for (int r = 0; r < rows; r++)
                    {
                        // dS = P ⊙ (dP − D_i) · scale
                        var ds = dS.Slice(r * n, n);
                        TensorPrimitives.Subtract(ds, delta[r], ds);
                        TensorPrimitives.Multiply(ds, P.Slice(r * n, n), ds);
                        TensorPrimitives.Multiply(ds, scale, ds);
                    }
                    Gemm.Multiply(dS, kt, dq, rows, D, n, accumulate: true, maxThreads: 1);                                          // dQ += dS·K_j
                    Gemm.Multiply(dS, q, dk.Slice(j0 * D, n * D), n, D, rows, transposeA: true, accumulate: true, maxThreads: 1);   // dK_j += dSᵀ·Q
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
            ArrayPool<bool>.Shared.Return(visible);
        }
    }
}
