using System.Buffers;
using System.Numerics.Tensors;
using AttentionLab.Kernels;
using AttentionLab.Ops;

namespace AttentionLab.Attention;

/// <summary>
/// The fast exact kernel: the same arithmetic as <see cref="ScaledDotProductAttention"/>, organised for speed.
/// Per (b, h) and per block of <see cref="RowBlock"/> query rows:
/// <list type="number">
/// <item>the key range [lo, hi) that causal / window masks leave visible to any row of the block — causal rows
/// compute only the prefix they need, windowed rows only their band;</item>
/// <item>S = Q_block · K[lo:hi]ᵀ with <see cref="Gemm"/>, then scale and masks, then a SIMD softmax per row
/// (<see cref="Softmax.ForwardInPlace"/>);</item>
/// <item>O_block = P · V[lo:hi] with <see cref="Gemm"/>.</item>
/// </list>
/// Forward runs the (b, h, row block) tasks in parallel; backward runs the (b, h) heads in parallel (its dK and dV
/// sum over row blocks). Calls too small to pay for threads run on the calling thread.
/// Heads of at most <see cref="DefaultSmallHeadDim"/> dimensions take a row-at-a-time path vectorized along the keys
/// instead (FastAttention.SmallHead.cs): a GEMM with k or n = D that small wastes most of each SIMD register.
/// Results match the reference to float rounding (not bit for bit: the summation order differs).
/// </summary>
public sealed partial class FastAttention : IAttentionKernel
{
    /// <summary>Query rows per block: a (64, Tk) score tile stays in L2 for Tk up to a few thousand.</summary>
    public const int RowBlock = 64;

    /// <summary>Below this many multiply-adds (≈ B·H·Tq·Tk·D) a call runs on one thread.</summary>
    private const long ParallelThreshold = 1 << 16;

    public string Name => "fast";

    public bool IsExact => true;

    /// <summary>No state is kept between calls: heads may run in parallel.</summary>
    public bool CallsMayOverlap => true;

    /// <summary>The saved state is the weights.</summary>
    public bool SavesWeights => true;

    /// <summary>Saves the (B, H, Tq, Tk) weights.</summary>
    public long SavedLength(AttentionShape shape) => (long)shape.Batch * shape.Heads * shape.QueryLength * shape.KeyLength;

    public void Weights(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        AttentionShape shape, AttentionOptions options, Span<float> weights)
    {
        AttentionChecks.Weights(q, k, v, shape, options, weights);
        Forward(q, k, v, shape, options, new float[shape.QueryElements], weights);
    }

    /// <param name="weights">(B, H, Tq, Tk): the saved state is the weights themselves (empty: not kept)</param>
    public unsafe void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        AttentionShape shape, AttentionOptions options, Span<float> output, Span<float> weights)
    {
        AttentionChecks.Forward(q, k, v, shape, options, output, weights, SavedLength(shape));
        var (B, H, Tq, Tk, D) = shape;
        if (B * H * Tq == 0) return;
        bool smallHead = D <= _smallHeadDim;
        int blocks = (Tq + RowBlock - 1) / RowBlock;
        int tasks = B * H * blocks;
        fixed (float* qp = q, kp = k, vp = v, op = output, wp = weights)
        {
            var ctx = new Pointers(qp, kp, vp, op, wp, weights.IsEmpty);
            if (tasks == 1 || (long)B * H * Tq * Tk * D < ParallelThreshold)
            {
                // one task (or a small call): let Gemm use the cores itself if the product is big enough
                for (int t = 0; t < tasks; t++) ForwardBlock(ctx, shape, options, t / blocks, t % blocks, smallHead, gemmThreads: 0);
            }
            else
            {
                // the tasks already fill the cores: each Gemm stays on its own thread
                Parallel.For(0, tasks, t => ForwardBlock(ctx, shape, options, t / blocks, t % blocks, smallHead, gemmThreads: 1));
            }
        }
    }

    public unsafe void Backward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> output,
        ReadOnlySpan<float> weights, ReadOnlySpan<float> dOutput, AttentionShape shape, AttentionOptions options,
        Span<float> dq, Span<float> dk, Span<float> dv)
    {
        AttentionChecks.Backward(q, k, v, output, weights, SavedLength(shape), dOutput, shape, options, dq, dk, dv);
        weights = AttentionChecks.WeightsOrRecompute(this, q, k, v, weights, shape, options);
        var (B, H, Tq, Tk, D) = shape;
        bool smallHead = D <= _smallHeadDim;
        int heads = B * H;
        fixed (float* qp = q, kp = k, vp = v, wp = weights, dop = dOutput, dqp = dq, dkp = dk, dvp = dv)
        {
            var ctx = new GradPointers(qp, kp, vp, wp, dop, dqp, dkp, dvp);
            if (heads == 1 || (long)heads * Tq * Tk * D < ParallelThreshold)
            {
                for (int bh = 0; bh < heads; bh++) BackwardHead(ctx, shape, options, bh, smallHead, gemmThreads: 0);
            }
            else
            {
                Parallel.For(0, heads, bh => BackwardHead(ctx, shape, options, bh, smallHead, gemmThreads: 1));
            }
        }
    }

    /// <summary>The pinned buffers of one forward call, carried into the parallel tasks (spans cannot be captured).</summary>
    private readonly unsafe struct Pointers(float* q, float* k, float* v, float* o, float* w, bool noWeights)
    {
        public readonly float* Q = q, K = k, V = v, O = o, W = w;
        public readonly bool NoWeights = noWeights;
    }

    /// <summary>The pinned buffers of one backward call.</summary>
    private readonly unsafe struct GradPointers(float* q, float* k, float* v, float* w, float* dOut, float* dq, float* dk, float* dv)
    {
        public readonly float* Q = q, K = k, V = v, W = w, DO = dOut, DQ = dq, DK = dk, DV = dv;
    }

    /// <summary>The union [lo, hi) of the visible key ranges of rows [i0, i1).</summary>
    private static (int Lo, int Hi) BlockKeyRange(AttentionOptions options, int i0, int i1, int Tq, int Tk)
    {
        int lo = Tk, hi = 0;
        for (int i = i0; i < i1; i++)
        {
            var (s, e) = options.KeyRange(i, Tq, Tk);
            if (e <= s) continue;
            lo = Math.Min(lo, s);
            hi = Math.Max(hi, e);
        }
        return hi > lo ? (lo, hi) : (0, 0);
    }

    /// <summary>
    /// Scaled, masked scores for rows [i0, i1) and keys [lo, hi) turned into probabilities in place.
    /// </summary>
    /// <param name="scores">(rows, hi − lo): Q_block·K[lo:hi]ᵀ on entry, probabilities on exit</param>
    private static void ScoresToWeights(AttentionOptions options, AttentionShape shape, int b, int h, int i0, int i1,
        int lo, int hi, float scale, Span<float> scores)
    {
        int n = hi - lo;
        for (int i = i0; i < i1; i++)
        {
            var row = scores.Slice((i - i0) * n, n);
            TensorPrimitives.Multiply(row, scale, row);
            // keys of the block range that this row may not see (causal / prefix / window / global) get −∞
            options.MaskHiddenKeys(i, shape.QueryLength, shape.KeyLength, lo, row);
            if (options.HasElementMasks) options.ApplyElementMasks(b, h, i, lo, shape, row);
            Softmax.ForwardInPlace(row);
        }
    }

    private static unsafe void ForwardBlock(Pointers p, AttentionShape shape, AttentionOptions options, int bh, int block, bool smallHead, int gemmThreads)
    {
        var (_, H, Tq, Tk, D) = shape;
        int b = bh / H, h = bh % H;
        int i0 = block * RowBlock, i1 = Math.Min(Tq, i0 + RowBlock), rows = i1 - i0;
        var q = new ReadOnlySpan<float>(p.Q + ((long)bh * Tq + i0) * D, rows * D);  // (rows, D)
        var k = new ReadOnlySpan<float>(p.K + (long)bh * Tk * D, Tk * D);           // (Tk, D)
        var v = new ReadOnlySpan<float>(p.V + (long)bh * Tk * D, Tk * D);           // (Tk, D)
        var o = new Span<float>(p.O + ((long)bh * Tq + i0) * D, rows * D);          // (rows, D)
        var w = p.NoWeights ? default : new Span<float>(p.W + ((long)bh * Tq + i0) * Tk, rows * Tk); // (rows, Tk)

        var (lo, hi) = BlockKeyRange(options, i0, i1, Tq, Tk);
        int n = hi - lo;
        if (n == 0) { o.Clear(); w.Clear(); return; } // every row fully masked: output 0, weights 0
        if (smallHead)
        {
            ForwardBlockSmallHead(q, k, v, shape, options, b, h, i0, rows, lo, hi, o, w);
            return;
        }

        float[] rented = ArrayPool<float>.Shared.Rent(rows * n);
        try
        {
            var scores = rented.AsSpan(0, rows * n);                                // (rows, n)
            Gemm.Multiply(q, k.Slice(lo * D, n * D), scores, rows, n, D, transposeB: true, maxThreads: gemmThreads);
            ScoresToWeights(options, shape, b, h, i0, i1, lo, hi, options.ScaleFor(D), scores);
            Gemm.Multiply(scores, v.Slice(lo * D, n * D), o, rows, D, n, maxThreads: gemmThreads);          // (rows, D)
            if (!w.IsEmpty)
            {
                for (int r = 0; r < rows; r++)
                {
                    var wr = w.Slice(r * Tk, Tk);
                    wr[..lo].Clear();
                    scores.Slice(r * n, n).CopyTo(wr[lo..hi]);
                    wr[hi..].Clear();
                }
            }
        }
        finally { ArrayPool<float>.Shared.Return(rented); }
    }

    private static unsafe void BackwardHead(GradPointers p, AttentionShape shape, AttentionOptions options, int bh, bool smallHead, int gemmThreads)
    {
        var (_, _, Tq, Tk, D) = shape;
        float scale = options.ScaleFor(D);
        var k = new ReadOnlySpan<float>(p.K + (long)bh * Tk * D, Tk * D);   // (Tk, D)
        var v = new ReadOnlySpan<float>(p.V + (long)bh * Tk * D, Tk * D);   // (Tk, D)
        var dk = new Span<float>(p.DK + (long)bh * Tk * D, Tk * D);         // (Tk, D)
        var dv = new Span<float>(p.DV + (long)bh * Tk * D, Tk * D);         // (Tk, D)
        if (smallHead)
        {
            BackwardHeadSmallHead(p, shape, options, bh, scale, k, v, dk, dv);
            return;
        }
        dk.Clear();
        dv.Clear();

        float[] rented = ArrayPool<float>.Shared.Rent(2 * Math.Min(Tq, RowBlock) * Tk);
        try
        {
            for (int i0 = 0; i0 < Tq; i0 += RowBlock)
            {
                int i1 = Math.Min(Tq, i0 + RowBlock), rows = i1 - i0;
                var q = new ReadOnlySpan<float>(p.Q + ((long)bh * Tq + i0) * D, rows * D);     // (rows, D)
                var w = new ReadOnlySpan<float>(p.W + ((long)bh * Tq + i0) * Tk, rows * Tk);   // (rows, Tk)
                var dO = new ReadOnlySpan<float>(p.DO + ((long)bh * Tq + i0) * D, rows * D);   // (rows, D)
                var dq = new Span<float>(p.DQ + ((long)bh * Tq + i0) * D, rows * D);           // (rows, D)

                var (lo, hi) = BlockKeyRange(options, i0, i1, Tq, Tk);
                int n = hi - lo;
                if (n == 0) { dq.Clear(); continue; }
                var P = rented.AsSpan(0, rows * n);              // (rows, n) the weights of the visible keys
                var dS = rented.AsSpan(rows * n, rows * n);      // (rows, n) dP, then dS
                for (int r = 0; r < rows; r++) w.Slice(r * Tk + lo, n).CopyTo(P.Slice(r * n, n));

                Gemm.Multiply(P, dO, dv.Slice(lo * D, n * D), n, D, rows, transposeA: true, accumulate: true, maxThreads: gemmThreads); // dV += Pᵀ·dO
                Gemm.Multiply(dO, v.Slice(lo * D, n * D), dS, rows, n, D, transposeB: true, maxThreads: gemmThreads);                     // dP = dO·Vᵀ
                for (int r = 0; r < rows; r++)
                {
                    // dS = P ⊙ (dP − rowsum(dP ⊙ P)), times the scale the scores were multiplied by
                    var pr = P.Slice(r * n, n);
                    var ds = dS.Slice(r * n, n);
                    float rowDot = TensorPrimitives.Dot(ds, pr);
                    TensorPrimitives.Subtract(ds, rowDot, ds);
                    TensorPrimitives.Multiply(ds, pr, ds);
                    TensorPrimitives.Multiply(ds, scale, ds);
                }
                Gemm.Multiply(dS, k.Slice(lo * D, n * D), dq, rows, D, n, maxThreads: gemmThreads);                                       // dQ = dS·K
                Gemm.Multiply(dS, q, dk.Slice(lo * D, n * D), n, D, rows, transposeA: true, accumulate: true, maxThreads: gemmThreads);   // dK += dSᵀ·Q
            }
        }
        finally { ArrayPool<float>.Shared.Return(rented); }
    }
}
