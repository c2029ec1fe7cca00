using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AttentionLab.Kernels;

/// <summary>
/// C = A·op(B) with B a <see cref="Q8Matrix"/> (GGUF Q8_0 blocks), A and C float32, the products summed in float32.
/// Same contract as <see cref="GemmQ8Reference.Multiply"/>: row-major, op(B) = B (stored k×n, the Conv1D (in, out)
/// linears, blocks along n) or Bᵀ (stored n×k, the (V, C) output head, blocks along k), + C when accumulating.
/// <list type="bullet">
/// <item>A handful of rows (m ≤ 8, a generation step): B is streamed once from memory, 1.125 bytes a weight, each
/// run of 8 bytes sign-extended to int32 (vpmovsxbd), converted and multiplied by its block's scale in registers —
/// the weight q·d exactly — and fused-multiply-added into float32 sums. Bᵀ: the dot form, one stored row against
/// each row of A. B: four stored rows per pass over a tile of C's columns (all m rows of A at once), the sums of each
/// column taken in the order p = 0 … k − 1; one row with Vector512 folds each block's scale into x
/// (<see cref="OneRowPasses512"/>). AVX2 otherwise; else plain loops.</item>
/// <item>More rows: compute-bound; B is dequantized panel by panel into float32 and the packed GEMM runs on it
/// (<see cref="WidenedProduct"/>).</item>
/// </list>
/// </summary>
public static unsafe class GemmQ8
{
    /// <summary>The few-row path splits its columns across threads only when it has at least twice this many.</summary>
    private const int Chunk = 256;

    /// <summary>Columns of the axpy form's tile of C (m ≤ 8 rows of it: at most 48 KiB, 6 KiB for a decode step's
    /// one row): GPT-2 124M's widest half-matrix per thread (1536 columns) is one tile, so each row is one run.</summary>
    private const int TileColumns = 1536;

    /// <param name="a">(m, k) float32</param>
    /// <param name="c">(m, n), overwritten, or added to when <paramref name="accumulate"/></param>
    /// <param name="maxThreads">cores to use; 0 means all</param>
    public static void Multiply(ReadOnlySpan<float> a, Q8Matrix b, Span<float> c, int m, bool transposeB = false, bool accumulate = false, int maxThreads = 0) =>
        Multiply(a, b, c, m, transposeB, accumulate, maxThreads, GemmHalf.PanelFloats);

    /// <summary>The same with a smaller dequantized panel, so tests cross panel boundaries at small sizes.</summary>
    internal static void Multiply(ReadOnlySpan<float> a, Q8Matrix b, Span<float> c, int m, bool transposeB, bool accumulate, int maxThreads, int panelFloats)
    {
        ArgumentNullException.ThrowIfNull(b);
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(maxThreads);
        int k = transposeB ? b.Cols : b.Rows, n = transposeB ? b.Rows : b.Cols;
        if (a.Length < (long)m * k) throw new ArgumentException($"A has {a.Length} elements, needs {(long)m * k}");
        if (c.Length < (long)m * n) throw new ArgumentException($"C has {c.Length} elements, needs {(long)m * n}");
        if (m == 0 || n == 0) return;
        if (c[..(m * n)].Overlaps(a[..(m * k)])) throw new ArgumentException("C must not overlap A");
        if (k == 0)
        {
            if (!accumulate) c[..(m * n)].Clear();
            return;
        }
        bool smallM = m <= (transposeB ? Gemm.SmallMDot : Gemm.SmallMAxpy);
        int threads = Gemm.Threads(m, n, k, smallM, bytesPerWeight: 1, maxThreads);
        if (!smallM)
        {
            WidenedProduct.Multiply(a, c, m, n, k, transposeB, accumulate, threads, panelFloats,
                (panel, j0, width) => DequantizePanel(b, panel, j0, width, transposeB, threads));
            return;
        }
        fixed (float* pa = a, pc = c, ps = b.Scales)
        fixed (sbyte* pq = b.Quants)
        {
            var job = new Job(pa, pq, ps, pc, m, n, k, transposeB, accumulate);
            if (threads == 1 || n < 2 * Chunk) job.Columns(0, n);
            else
            {
                // equal shares of the columns, cut on blocks: each thread reads one long run of every row
                int blocks = (n + Q8Matrix.BlockSize - 1) / Q8Matrix.BlockSize;
                threads = Math.Min(threads, blocks);
                Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                    job.Columns((int)((long)blocks * t / threads) * Q8Matrix.BlockSize, Math.Min(n, (int)((long)blocks * (t + 1) / threads) * Q8Matrix.BlockSize)));
            }
        }
    }

    /// <summary>The operands of one few-row product, so the parallel split needs no closure over pointers.</summary>
    private readonly struct Job(float* a, sbyte* q, float* s, float* c, int m, int n, int k, bool transposeB, bool accumulate)
    {
        public void Columns(int j0, int j1)
        {
            if (transposeB) Dot(a, q, s, c, m, n, k, j0, j1, accumulate);
            else Axpy(a, q, s, c, m, n, k, j0, j1, accumulate);
        }
    }

    /// <summary>Columns j0..j0+width of op(B) as float32, laid out as B is stored (width rows of k when transposed, else
    /// k rows of width), split over the threads.</summary>
    private static void DequantizePanel(Q8Matrix b, float[] panel, int j0, int width, bool transposeB, int threads)
    {
        int k = transposeB ? b.Cols : b.Rows;
        int rows = transposeB ? width : k, length = transposeB ? k : width;
        void Rows(int r0, int r1)
        {
            for (int r = r0; r < r1; r++)
                if (transposeB) b.Dequantize(j0 + r, 0, k, panel.AsSpan(r * length, length));
                else b.Dequantize(r, j0, width, panel.AsSpan(r * length, length));
        }
        if (threads <= 1 || (long)rows * length < 1 << 16) { Rows(0, rows); return; }
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads },
            t => Rows((int)((long)rows * t / threads), (int)((long)rows * (t + 1) / threads)));
    }

    /// <summary>C[i, j] (+)= A[i, :]·(q·d)[j, :] for j in [j0, j1): each stored row (k weights, k/32 blocks) against every
    /// row of A (the row, k bytes, stays in L1 while the rows of A pass).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot(float* a, sbyte* q, float* s, float* c, int m, int n, int k, int j0, int j1, bool accumulate)
    {
        int blocks = k / Q8Matrix.BlockSize;
        for (int j = j0; j < j1; j++)
        {
            sbyte* qj = q + (nint)j * k;
            float* sj = s + (nint)j * blocks;
            for (int i = 0; i < m; i++)
            {
                float d = DotRow(a + (nint)i * k, qj, sj, k);
                float* ci = c + (nint)i * n + j;
                *ci = accumulate ? *ci + d : d;
            }
        }
    }

    /// <summary>Σ_p x[p]·q[p]·d[p / 32] over k (a multiple of 32): four independent sums of 8 lanes, one per quarter of
    /// each block, added at the end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float DotRow(float* x, sbyte* q, float* d, int k)
    {
        if (Avx2.IsSupported)
        {
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (int p = 0, b = 0; p < k; p += 32, b++)
            {
                var scale = Vector256.Create(d[b]);
                s0 = Vector256.FusedMultiplyAdd(Vector256.Load(x + p), Widen8(q + p) * scale, s0);
                s1 = Vector256.FusedMultiplyAdd(Vector256.Load(x + p + 8), Widen8(q + p + 8) * scale, s1);
                s2 = Vector256.FusedMultiplyAdd(Vector256.Load(x + p + 16), Widen8(q + p + 16) * scale, s2);
                s3 = Vector256.FusedMultiplyAdd(Vector256.Load(x + p + 24), Widen8(q + p + 24) * scale, s3);
            }
            return Vector256.Sum((s0 + s1) + (s2 + s3));
        }
        float sum = 0;
        for (int p = 0; p < k; p++) sum = MathF.FusedMultiplyAdd(x[p], q[p] * d[p / Q8Matrix.BlockSize], sum);
        return sum;
    }

    /// <summary>Whole blocks as float32: destination[32b + t] = quants[32b + t]·scales[b].</summary>
    internal static void DequantizeBlocks(ReadOnlySpan<sbyte> quants, ReadOnlySpan<float> scales, Span<float> destination)
    {
        if (quants.Length != scales.Length * Q8Matrix.BlockSize || destination.Length < quants.Length)
            throw new ArgumentException("the quants, scales and destination do not hold the same whole blocks");
        fixed (sbyte* q = quants)
        fixed (float* s = scales, d = destination)
            for (int b = 0; b < scales.Length; b++)
            {
                sbyte* qb = q + b * Q8Matrix.BlockSize;
                float* db = d + b * Q8Matrix.BlockSize;
                if (Avx2.IsSupported)
                {
                    var scale = Vector256.Create(s[b]);
                    (Widen8(qb) * scale).Store(db); (Widen8(qb + 8) * scale).Store(db + 8);
                    (Widen8(qb + 16) * scale).Store(db + 16); (Widen8(qb + 24) * scale).Store(db + 24);
                }
                else for (int t = 0; t < Q8Matrix.BlockSize; t++) db[t] = qb[t] * s[b];
            }
    }

    /// <summary>
    /// The one-row (decode step) passes of <see cref="Axpy"/> with Vector512, four stored rows at a time: each block's
    /// scale is folded into the row's element of A once (x_u·d_u, broadcast), so 16 weights of a row cost a widening
    /// load (vpmovsxbd zmm), a conversion and a fused multiply-add; the four rows are summed as (x0d0·q0 + x1d1·q1) +
    /// (x2d2·q2 + x3d3·q3) and added to the tile. Against the AVX2 form's exact q·d this rounds x·d once (half an ulp
    /// of each product); GPT-2 124M decode, same run: Q8_0 104–129 tokens/s against 81–95 before (2-vCPU Zen 4). Returns the rows it did (a
    /// multiple of 4; the caller does the rest).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int OneRowPasses512(float* x, sbyte* q, float* s, int n, int k, int jt, int w, float* t)
    {
        int p = 0;
        nint rowBlocks = n / Q8Matrix.BlockSize;
        for (; p + 4 <= k; p += 4)
        {
            sbyte* q0 = q + (nint)p * n + jt;
            float* d0 = s + ((nint)p * n + jt) / Q8Matrix.BlockSize;
            float x0 = x[p], x1 = x[p + 1], x2 = x[p + 2], x3 = x[p + 3];
            for (int jb = 0; jb < w; jb += Q8Matrix.BlockSize)
            {
                if (Sse.IsSupported && (jb & 63) == 0)
                    for (int u = 0; u < 4; u++) Sse.Prefetch1(q0 + (4 + u) * (nint)n + jb);
                int b = jb / Q8Matrix.BlockSize;
                var e0 = Vector512.Create(x0 * d0[b]);
                var e1 = Vector512.Create(x1 * d0[rowBlocks + b]);
                var e2 = Vector512.Create(x2 * d0[2 * rowBlocks + b]);
                var e3 = Vector512.Create(x3 * d0[3 * rowBlocks + b]);
                for (int v = 0; v < 32; v += 16)
                {
                    sbyte* qv = q0 + jb + v;
                    var low = Vector512.FusedMultiplyAdd(e1, Widen16(qv + n), e0 * Widen16(qv));
                    var high = Vector512.FusedMultiplyAdd(e3, Widen16(qv + 3 * (nint)n), e2 * Widen16(qv + 2 * (nint)n));
                    float* tv = t + jb + v;
                    (Vector512.Load(tv) + (low + high)).Store(tv);
                }
            }
        }
        return p;
    }

    /// <summary>q[0..16) as float32: sign-extended from memory (vpmovsxbd zmm) and converted (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Widen16(sbyte* q) => Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(q)));

    /// <summary>q[0..8) as float32: sign-extended from memory (vpmovsxbd) and converted (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen8(sbyte* q) => Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(q));

    /// <summary>C[i, j0..j1) (+)= Σ_p A[i, p]·(q·d)[p, j0..j1), j0 on a block (j1 on one or at n): a tile of C's columns
    /// for all m rows of A, zeroed, then B read four stored rows per pass in address order (each step prefetching the
    /// line the next pass reads in each row), each column's sum taken p = 0 … k − 1; the tile is added to C once.</summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Axpy(float* a, sbyte* q, float* s, float* c, int m, int n, int k, int j0, int j1, bool accumulate)
    {
        float* t = stackalloc float[m * TileColumns];
        for (int jt = j0; jt < j1; jt += TileColumns)
        {
            int w = Math.Min(TileColumns, j1 - jt);                                                // a multiple of 32
            new Span<float>(t, m * w).Clear();
            int p = 0;
            if (Avx512F.IsSupported && m == 1) p = OneRowPasses512(a, q, s, n, k, jt, w, t);
            if (Avx2.IsSupported)
                for (; p + 4 <= k; p += 4)
                {
                    sbyte* q0 = q + (nint)p * n + jt;
                    float* d0 = s + ((nint)p * n + jt) / Q8Matrix.BlockSize;
                    nint rowBlocks = n / Q8Matrix.BlockSize;
                    for (int jb = 0; jb < w; jb += Q8Matrix.BlockSize)
                    {
                        if (Sse.IsSupported && (jb & 63) == 0)
                            for (int u = 0; u < 4; u++) Sse.Prefetch1(q0 + (4 + u) * (nint)n + jb);
                        var e0 = Vector256.Create(d0[jb / 32]);
                        var e1 = Vector256.Create(d0[rowBlocks + jb / 32]);
                        var e2 = Vector256.Create(d0[2 * rowBlocks + jb / 32]);
                        var e3 = Vector256.Create(d0[3 * rowBlocks + jb / 32]);
                        for (int v = 0; v < 32; v += 8)
                        {
                            sbyte* qv = q0 + jb + v;
                            var w0 = Widen8(qv) * e0;
                            var w1 = Widen8(qv + n) * e1;
                            var w2 = Widen8(qv + 2 * (nint)n) * e2;
                            var w3 = Widen8(qv + 3 * (nint)n) * e3;
                            for (int i = 0; i < m; i++)
                            {
                                float* xi = a + (nint)i * k + p;
                                float* ti = t + i * w + jb + v;
                                // the pass's four rows summed as (x0·w0 + x1·w1) + (x2·w2 + x3·w3), then added to the
                                // tile: one add on the tile's dependency chain per pass, where four chained FMAs made
                                // the form latency-bound (11 against 24 GB/s of the dot form on GPT-2 124M)
                                var low = Vector256.FusedMultiplyAdd(Vector256.Create(xi[1]), w1, Vector256.Create(xi[0]) * w0);
                                var high = Vector256.FusedMultiplyAdd(Vector256.Create(xi[3]), w3, Vector256.Create(xi[2]) * w2);
                                (Vector256.Load(ti) + (low + high)).Store(ti);
                            }
                        }
                    }
                }
            for (; p < k; p++)
            {
                sbyte* qp = q + (nint)p * n + jt;
                float* dp = s + ((nint)p * n + jt) / Q8Matrix.BlockSize;
                for (int j = 0; j < w; j++)
                {
                    float weight = qp[j] * dp[j / Q8Matrix.BlockSize];
                    for (int i = 0; i < m; i++) t[i * w + j] = MathF.FusedMultiplyAdd(a[(nint)i * k + p], weight, t[i * w + j]);
                }
            }
            for (int i = 0; i < m; i++)
            {
                var sums = new ReadOnlySpan<float>(t + i * w, w);
                var ci = new Span<float>(c + (nint)i * n + jt, w);
                if (accumulate) System.Numerics.Tensors.TensorPrimitives.Add(ci, sums, ci);
                else sums.CopyTo(ci);
            }
        }
    }
}
