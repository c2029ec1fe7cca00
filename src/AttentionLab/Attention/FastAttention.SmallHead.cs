using System.Buffers;
using AttentionLab.Ops;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AttentionLab.Attention;

public sealed partial class FastAttention
{
    /// <summary>
    /// Heads this narrow (the seed GPT's D = 4) are computed one query row at a time with the loops vectorized
    /// along the keys, on Kᵀ and Vᵀ (D, Tk) copies: the score row is D multiply-adds of key-length rows, each
    /// output element one key-length dot product. A GEMM puts D on its k or n axis, where a 16- or 32-wide
    /// micro-tile is mostly padding. Measured (docs/attention.md §7): the row path is up to 3× faster in
    /// backward at D = 4, even at D = 8, and 2–8× slower from D = 16 on. Tests build kernels with other limits
    /// to run both paths at every D.
    /// </summary>
    public const int DefaultSmallHeadDim = 4;

    private readonly int _smallHeadDim;

    public FastAttention() : this(DefaultSmallHeadDim) { }

    /// <param name="smallHeadDim">heads with D ≤ this take the row-at-a-time path (0 = never, int.MaxValue = always)</param>
    internal FastAttention(int smallHeadDim) => _smallHeadDim = smallHeadDim;

    /// <summary>Copies rows [lo, hi) of x (Tk, D) into xT (D, hi − lo).</summary>
    private static void TransposeRows(ReadOnlySpan<float> x, int D, int lo, int hi, Span<float> xT)
    {
        int n = hi - lo;
        for (int j = lo; j < hi; j++)
            for (int d = 0; d < D; d++)
                xT[d * n + (j - lo)] = x[j * D + d];
    }

    /// <summary>Forward of rows i0.. of one head (see <see cref="ForwardBlock"/>), keys [lo, hi).</summary>
    private static void ForwardBlockSmallHead(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        AttentionShape shape, AttentionOptions options, int b, int h, int i0, int rows, int lo, int hi, Span<float> o, Span<float> w)
    {
        int D = shape.HeadDim, Tk = shape.KeyLength, n = hi - lo;
        float scale = options.ScaleFor(D);
        float[] rented = ArrayPool<float>.Shared.Rent(2 * D * n + n);
        try
        {
            var kT = rented.AsSpan(0, D * n);          // (D, n)
            var vT = rented.AsSpan(D * n, D * n);      // (D, n)
            var row = rented.AsSpan(2 * D * n, n);     // (n) scores, then weights
            TransposeRows(k, D, lo, hi, kT);
            TransposeRows(v, D, lo, hi, vT);
            for (int r = 0; r < rows; r++)
            {
                // scores[j] = Σ_d q[d]·K[j, d], accumulated as D axpys over the keys
                row.Clear();
                for (int d = 0; d < D; d++) TensorPrimitives.MultiplyAdd(kT.Slice(d * n, n), q[r * D + d], row, row);
                ScoresToWeights(options, shape, b, h, i0 + r, i0 + r + 1, lo, hi, scale, row);
                // output[d] = Σ_j P[j]·V[j, d]
                for (int d = 0; d < D; d++) o[r * D + d] = TensorPrimitives.Dot(row, vT.Slice(d * n, n));
                if (!w.IsEmpty)
                {
                    var wr = w.Slice(r * Tk, Tk);
                    wr[..lo].Clear();
                    row.CopyTo(wr[lo..hi]);
                    wr[hi..].Clear();
                }
            }
        }
        finally { ArrayPool<float>.Shared.Return(rented); }
    }

    /// <summary>
    /// Backward of one narrow head, one query row at a time over the keys that row may see, on transposed
    /// K, V and transposed dK, dV accumulators (all (D, Tk)):
    /// dP = dO_i·Vᵀ, dS = P ⊙ (dP − dP·P)·scale, dQ_i = dS·K, dKᵀ += Q_i ⊗ dS, dVᵀ += dO_i ⊗ P.
    /// </summary>
    private static unsafe void BackwardHeadSmallHead(GradPointers p, AttentionShape shape, AttentionOptions options, int bh,
        float scale, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> dk, Span<float> dv)
    {
        var (_, _, Tq, Tk, D) = shape;
        var q = new ReadOnlySpan<float>(p.Q + (long)bh * Tq * D, Tq * D);      // (Tq, D)
        var w = new ReadOnlySpan<float>(p.W + (long)bh * Tq * Tk, Tq * Tk);    // (Tq, Tk)
        var dO = new ReadOnlySpan<float>(p.DO + (long)bh * Tq * D, Tq * D);    // (Tq, D)
        var dq = new Span<float>(p.DQ + (long)bh * Tq * D, Tq * D);            // (Tq, D)
        float[] rented = ArrayPool<float>.Shared.Rent(4 * D * Tk + Tk);
        try
        {
            var kT = rented.AsSpan(0, D * Tk);             // (D, Tk)
            var vT = rented.AsSpan(D * Tk, D * Tk);        // (D, Tk)
            var dkT = rented.AsSpan(2 * D * Tk, D * Tk);   // (D, Tk)
            var dvT = rented.AsSpan(3 * D * Tk, D * Tk);   // (D, Tk)
            var dS = rented.AsSpan(4 * D * Tk, Tk);        // (Tk) dP, then dS, of one row
            TransposeRows(k, D, 0, Tk, kT);
            TransposeRows(v, D, 0, Tk, vT);
            dkT.Clear();
            dvT.Clear();
            for (int i = 0; i < Tq; i++)
            {
                var (s, e) = options.KeyRange(i, Tq, Tk);
                int n = e - s;
                var dqi = dq.Slice(i * D, D);
                if (n <= 0) { dqi.Clear(); continue; }
                var P = w.Slice(i * Tk + s, n);
                var ds = dS[..n];
                ds.Clear();
                for (int d = 0; d < D; d++)
                {
                    float g = dO[i * D + d];
                    TensorPrimitives.MultiplyAdd(vT.Slice(d * Tk + s, n), g, ds, ds);                          // dP
                    var dvRow = dvT.Slice(d * Tk + s, n);
                    TensorPrimitives.MultiplyAdd(P, g, dvRow, dvRow);                                          // dVᵀ
                }
                float rowDot = TensorPrimitives.Dot(ds, P);
                TensorPrimitives.Subtract(ds, rowDot, ds);
                TensorPrimitives.Multiply(ds, P, ds);
                TensorPrimitives.Multiply(ds, scale, ds);                                                       // dS
                for (int d = 0; d < D; d++)
                {
                    dqi[d] = TensorPrimitives.Dot(ds, kT.Slice(d * Tk + s, n));                                // dQ
                    var dkRow = dkT.Slice(d * Tk + s, n);
                    TensorPrimitives.MultiplyAdd(ds, q[i * D + d], dkRow, dkRow);                              // dKᵀ
                }
            }
            for (int j = 0; j < Tk; j++)
                for (int d = 0; d < D; d++)
                {
                    dk[j * D + d] = dkT[d * Tk + j];
                    dv[j * D + d] = dvT[d * Tk + j];
                }
        }
        finally { ArrayPool<float>.Shared.Return(rented); }
    }
}
