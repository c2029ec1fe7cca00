using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AttentionLab.Kernels;

/// <summary>
/// GEMM for a handful of rows of op(A) (m ≤ <see cref="Gemm.SmallMDot"/> or <see cref="Gemm.SmallMAxpy"/>): generating one token at a time
/// multiplies a (1..B, C) activation by every weight matrix. There each element of B is used only m
/// times, so packing B (one read and one write of all of it) would cost as much as the product itself:
/// instead B is streamed once, straight from where it lies. The work is memory-bound, so it is
/// still split across cores (each core brings its own share of memory bandwidth).
/// <list type="bullet">
/// <item>op(B) = B (k×n, rows contiguous): axpy form, <c>C[i..i+4, j..j+64] = Σ_p A[i..i+4, p]·B[p, j..j+64]</c>,
/// the C block held in registers while p runs over k.</item>
/// <item>op(B) = Bᵀ (B stored n×k, the x·Wᵀ forward with W stored (out, in)): dot form,
/// <c>C[i,j] = A[i,:]·B[j,:]</c>, both contiguous.</item>
/// </list>
/// </summary>
internal static unsafe class GemmSmallM
{
    /// <summary>Columns per unit of work when the columns are split across threads (a multiple of 64).</summary>
    private const int Chunk = 256;

    public static void Run(GemmOperand a, GemmOperand b, float* c, nint ldc, int m, int n, int k, bool accumulate, int threads)
    {
        if (a.ColStride != 1)
        {
            // op(A) = Aᵀ: copy its m rows out contiguously (m·k floats, negligible next to B).
            float* rows = GemmWorkspace.Current.A(m * k);
            for (int i = 0; i < m; i++)
                for (int p = 0; p < k; p++) rows[(nint)i * k + p] = a.Data[i * a.RowStride + p * a.ColStride];
            a = new GemmOperand(rows, k, 1);
        }
        if (threads == 1 || n < 2 * Chunk) RunColumns(a, b, c, ldc, m, 0, n, k, accumulate);
        else RunColumnsInParallel(a, b, c, ldc, m, n, k, accumulate, threads);
    }

    // Separate from Run so the lambda's closure is only allocated when threads are used.
    private static void RunColumnsInParallel(GemmOperand a, GemmOperand b, float* c, nint ldc, int m, int n, int k, bool accumulate, int threads)
    {
        int chunks = (n + Chunk - 1) / Chunk;
        threads = Math.Min(threads, chunks);
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            int j0 = (int)((long)chunks * t / threads) * Chunk;
            int j1 = Math.Min(n, (int)((long)chunks * (t + 1) / threads) * Chunk);
            RunColumns(a, b, c, ldc, m, j0, j1, k, accumulate);
        });
    }

    private static void RunColumns(GemmOperand a, GemmOperand b, float* c, nint ldc, int m, int j0, int j1, int k, bool accumulate)
    {
        if (b.ColStride == 1) Axpy(a, b, c, ldc, m, j0, j1, k, accumulate);
        else Dot(a, b, c, ldc, m, j0, j1, k, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot(GemmOperand a, GemmOperand b, float* c, nint ldc, int m, int j0, int j1, int k, bool accumulate)
    {
        // Four rows of the stored B at a time (12 KiB at k = 768, resident in L1 while every row of A
        // passes), against two rows of A at a time: eight independent FMA chains, six loads per eight
        // FMAs, and B is read from memory exactly once.
        nint ldb = b.ColStride;
        int j = j0;
        for (; j + 4 <= j1; j += 4)
        {
            float* b0 = b.Data + j * ldb;
            int i = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; i + 2 <= m; i += 2)
                    Dot2x4(a.Data + i * a.RowStride, a.Data + (i + 1) * a.RowStride, b0, ldb, k, c + i * ldc + j, ldc, accumulate);
            for (; i < m; i++)
            {
                var (d0, d1, d2, d3) = Dot4(a.Data + i * a.RowStride, b0, b0 + ldb, b0 + 2 * ldb, b0 + 3 * ldb, k, 4 * ldb);
                Store4(c + i * ldc + j, accumulate, d0, d1, d2, d3);
            }
        }
        for (; j < j1; j++)
        {
            var bRow = new ReadOnlySpan<float>(b.Data + j * b.ColStride, k);
            for (int i = 0; i < m; i++)
            {
                float dot = TensorPrimitives.Dot(new ReadOnlySpan<float>(a.Data + i * a.RowStride, k), bRow);
                float* ci = c + i * ldc + j;
                *ci = accumulate ? *ci + dot : dot;
            }
        }
    }

    /// <summary>C[0..2, 0..4) (+)= x0, x1 · y0..y3 (y rows ldy apart, length k): 16 lanes at a time, the
    /// k % 16 tail through <see cref="Dot4"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot2x4(float* x0, float* x1, float* y, nint ldy, int k, float* c, nint ldc, bool accumulate)
    {
        float* y0 = y, y1 = y + ldy, y2 = y + 2 * ldy, y3 = y + 3 * ldy;
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        int p = 0;
        for (; p + 16 <= k; p += 16)
        {
            var v0 = Vector512.Load(y0 + p); var v1 = Vector512.Load(y1 + p);
            var v2 = Vector512.Load(y2 + p); var v3 = Vector512.Load(y3 + p);
            var u = Vector512.Load(x0 + p);
            a00 = Vector512.FusedMultiplyAdd(u, v0, a00); a01 = Vector512.FusedMultiplyAdd(u, v1, a01);
            a02 = Vector512.FusedMultiplyAdd(u, v2, a02); a03 = Vector512.FusedMultiplyAdd(u, v3, a03);
            u = Vector512.Load(x1 + p);
            a10 = Vector512.FusedMultiplyAdd(u, v0, a10); a11 = Vector512.FusedMultiplyAdd(u, v1, a11);
            a12 = Vector512.FusedMultiplyAdd(u, v2, a12); a13 = Vector512.FusedMultiplyAdd(u, v3, a13);
        }
        var (t0, t1, t2, t3) = Dot4(x0 + p, y0 + p, y1 + p, y2 + p, y3 + p, k - p);
        Store4(c, accumulate, Vector512.Sum(a00) + t0, Vector512.Sum(a01) + t1, Vector512.Sum(a02) + t2, Vector512.Sum(a03) + t3);
        (t0, t1, t2, t3) = Dot4(x1 + p, y0 + p, y1 + p, y2 + p, y3 + p, k - p);
        Store4(c + ldc, accumulate, Vector512.Sum(a10) + t0, Vector512.Sum(a11) + t1, Vector512.Sum(a12) + t2, Vector512.Sum(a13) + t3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(float* c, bool accumulate, float d0, float d1, float d2, float d3)
    {
        if (accumulate) { c[0] += d0; c[1] += d1; c[2] += d2; c[3] += d3; }
        else { c[0] = d0; c[1] = d1; c[2] = d2; c[3] = d3; }
    }

    /// <summary>The dot products of x with y0..y3 (all of length k), widest vectors first. With <paramref name="ahead"/>
    /// ≠ 0 each Vector512 step also prefetches the lines that far on from y0..y3 into L2 (the next four rows of a stored B,
    /// <see cref="Prefetch4"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (float, float, float, float) Dot4(float* x, float* y0, float* y1, float* y2, float* y3, int k, nint ahead = 0)
    {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int p = 0;
        if (Vector512.IsHardwareAccelerated && k >= 16)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; p + 16 <= k; p += 16)
            {
                var xv = Vector512.Load(x + p);
                if (ahead != 0) Prefetch4(y0 + p, y1 + p, y2 + p, y3 + p, ahead);
                a0 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y0 + p), a0);
                a1 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y1 + p), a1);
                a2 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y2 + p), a2);
                a3 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y3 + p), a3);
            }
            s0 = Vector512.Sum(a0); s1 = Vector512.Sum(a1); s2 = Vector512.Sum(a2); s3 = Vector512.Sum(a3);
        }
        if (Vector256.IsHardwareAccelerated && p + 8 <= k)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; p + 8 <= k; p += 8)
            {
                var xv = Vector256.Load(x + p);
                a0 = Vector256.MultiplyAddEstimate(xv, Vector256.Load(y0 + p), a0);
                a1 = Vector256.MultiplyAddEstimate(xv, Vector256.Load(y1 + p), a1);
                a2 = Vector256.MultiplyAddEstimate(xv, Vector256.Load(y2 + p), a2);
                a3 = Vector256.MultiplyAddEstimate(xv, Vector256.Load(y3 + p), a3);
            }
            s0 += Vector256.Sum(a0); s1 += Vector256.Sum(a1); s2 += Vector256.Sum(a2); s3 += Vector256.Sum(a3);
        }
        if (Vector128.IsHardwareAccelerated && p + 4 <= k)
        {
            Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; p + 4 <= k; p += 4)
            {
                var xv = Vector128.Load(x + p);
                a0 = Vector128.MultiplyAddEstimate(xv, Vector128.Load(y0 + p), a0);
                a1 = Vector128.MultiplyAddEstimate(xv, Vector128.Load(y1 + p), a1);
                a2 = Vector128.MultiplyAddEstimate(xv, Vector128.Load(y2 + p), a2);
                a3 = Vector128.MultiplyAddEstimate(xv, Vector128.Load(y3 + p), a3);
            }
            s0 += Vector128.Sum(a0); s1 += Vector128.Sum(a1); s2 += Vector128.Sum(a2); s3 += Vector128.Sum(a3);
        }
        for (; p < k; p++)
        {
            float xv = x[p];
            s0 += xv * y0[p]; s1 += xv * y1[p]; s2 += xv * y2[p]; s3 += xv * y3[p];
        }
        return (s0, s1, s2, s3);
    }

    /// <summary>
    /// Prefetches into L2 the line <paramref name="ahead"/> elements on from each of four rows: in the dot form, the
    /// next four rows of B while these four are summed. The rows are consecutive in memory, yet the hardware prefetchers
    /// alone left the (V, C) output head at ~28 GB/s float32 and ~20 BF16 on two threads; with this, 33 and 34 (2-vCPU
    /// Zen 4 EPYC, read roof ~34 GB/s; GPT-2 124M's head from memory, same process, alternating). Prefetching two or
    /// three groups ahead was no better. A prefetch never faults, so the last group may ask for lines past B.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Prefetch4<T>(T* y0, T* y1, T* y2, T* y3, nint ahead) where T : unmanaged
    {
        if (!Sse.IsSupported) return;
        Sse.Prefetch1(y0 + ahead); Sse.Prefetch1(y1 + ahead); Sse.Prefetch1(y2 + ahead); Sse.Prefetch1(y3 + ahead);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Axpy(GemmOperand a, GemmOperand b, float* c, nint ldc, int m, int j0, int j1, int k, bool accumulate)
    {
        // A block of 64 columns of C held in vector accumulators while p runs over k (C is written once),
        // four rows at a time with AVX-512 (16 accumulators, each B vector loaded once for four FMAs; a
        // last group of fewer rows repeats its last row, measured faster than a one-row loop), else one
        // row at a time; the B block (k × 64 floats) stays in L2 for the next rows. One row (a decode step)
        // streams B in address order instead (RowStream).
        nint ldb = b.RowStride;
        if (m == 1 && Vector512.IsHardwareAccelerated && a.ColStride == 1)
        {
            RowStream.Run<float, Float32Loader>(a.Data, b.Data, ldb, c, j0, j1, k, accumulate);
            return;
        }
        int j = j0;
        if (Vector512.IsHardwareAccelerated)
            for (; j + 64 <= j1; j += 64)
                for (int i = 0; i < m; i += 4)
                    Block512x4(a.Data + i * a.RowStride, a.RowStride, Math.Min(4, m - i), b.Data + j, ldb, c + i * ldc + j, ldc, k, accumulate);
        if (Vector256.IsHardwareAccelerated)
            for (; j + 32 <= j1; j += 32)
                for (int i = 0; i < m; i++) Block256(a.Data + i * a.RowStride, b.Data + j, ldb, c + i * ldc + j, k, accumulate);
        if (Vector128.IsHardwareAccelerated)
            for (; j + 16 <= j1; j += 16)
                for (int i = 0; i < m; i++) Block128(a.Data + i * a.RowStride, b.Data + j, ldb, c + i * ldc + j, k, accumulate);
        for (; j < j1; j++)
            for (int i = 0; i < m; i++)
            {
                float* ai = a.Data + i * a.RowStride, bj = b.Data + j;
                float sum = 0;
                for (int p = 0; p < k; p++) sum += ai[p] * bj[p * ldb];
                float* ci = c + i * ldc + j;
                *ci = accumulate ? *ci + sum : sum;
            }
    }

    /// <summary>Rows 0..rows (≤ 4) of c (ldc apart), columns 0..64, (+)= Σ_p a[r·lda + p]·b[p·ldb + 0..64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block512x4(float* a, nint lda, int rows, float* b, nint ldb, float* c, nint ldc, int k, bool accumulate)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        float* a0 = a, a1 = a + Math.Min(1, rows - 1) * lda, a2 = a + Math.Min(2, rows - 1) * lda, a3 = a + (rows - 1) * lda;
        for (int p = 0; p < k; p++, b += ldb)
        {
            var b0 = Vector512.Load(b); var b1 = Vector512.Load(b + 16);
            var b2 = Vector512.Load(b + 32); var b3 = Vector512.Load(b + 48);
            var av = Vector512.Create(a0[p]);
            c00 = Vector512.FusedMultiplyAdd(av, b0, c00); c01 = Vector512.FusedMultiplyAdd(av, b1, c01);
            c02 = Vector512.FusedMultiplyAdd(av, b2, c02); c03 = Vector512.FusedMultiplyAdd(av, b3, c03);
            av = Vector512.Create(a1[p]);
            c10 = Vector512.FusedMultiplyAdd(av, b0, c10); c11 = Vector512.FusedMultiplyAdd(av, b1, c11);
            c12 = Vector512.FusedMultiplyAdd(av, b2, c12); c13 = Vector512.FusedMultiplyAdd(av, b3, c13);
            av = Vector512.Create(a2[p]);
            c20 = Vector512.FusedMultiplyAdd(av, b0, c20); c21 = Vector512.FusedMultiplyAdd(av, b1, c21);
            c22 = Vector512.FusedMultiplyAdd(av, b2, c22); c23 = Vector512.FusedMultiplyAdd(av, b3, c23);
            av = Vector512.Create(a3[p]);
            c30 = Vector512.FusedMultiplyAdd(av, b0, c30); c31 = Vector512.FusedMultiplyAdd(av, b1, c31);
            c32 = Vector512.FusedMultiplyAdd(av, b2, c32); c33 = Vector512.FusedMultiplyAdd(av, b3, c33);
        }
        Store64(c, accumulate, c00, c01, c02, c03);
        if (rows > 1) Store64(c + ldc, accumulate, c10, c11, c12, c13);
        if (rows > 2) Store64(c + 2 * ldc, accumulate, c20, c21, c22, c23);
        if (rows > 3) Store64(c + 3 * ldc, accumulate, c30, c31, c32, c33);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store64(float* c, bool accumulate, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3)
    {
        if (accumulate) { v0 += Vector512.Load(c); v1 += Vector512.Load(c + 16); v2 += Vector512.Load(c + 32); v3 += Vector512.Load(c + 48); }
        v0.Store(c); v1.Store(c + 16); v2.Store(c + 32); v3.Store(c + 48);
    }

    /// <summary>c[0..32) (+)= Σ_p a[p]·b[p·ldb + 0..32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block256(float* a, float* b, nint ldb, float* c, int k, bool accumulate)
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int p = 0; p < k; p++, b += ldb)
        {
            var av = Vector256.Create(a[p]);
            c0 = Vector256.MultiplyAddEstimate(av, Vector256.Load(b), c0);
            c1 = Vector256.MultiplyAddEstimate(av, Vector256.Load(b + 8), c1);
            c2 = Vector256.MultiplyAddEstimate(av, Vector256.Load(b + 16), c2);
            c3 = Vector256.MultiplyAddEstimate(av, Vector256.Load(b + 24), c3);
        }
        if (accumulate) { c0 += Vector256.Load(c); c1 += Vector256.Load(c + 8); c2 += Vector256.Load(c + 16); c3 += Vector256.Load(c + 24); }
        c0.Store(c); c1.Store(c + 8); c2.Store(c + 16); c3.Store(c + 24);
    }

    /// <summary>c[0..16) (+)= Σ_p a[p]·b[p·ldb + 0..16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block128(float* a, float* b, nint ldb, float* c, int k, bool accumulate)
    {
        Vector128<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int p = 0; p < k; p++, b += ldb)
        {
            var av = Vector128.Create(a[p]);
            c0 = Vector128.MultiplyAddEstimate(av, Vector128.Load(b), c0);
            c1 = Vector128.MultiplyAddEstimate(av, Vector128.Load(b + 4), c1);
            c2 = Vector128.MultiplyAddEstimate(av, Vector128.Load(b + 8), c2);
            c3 = Vector128.MultiplyAddEstimate(av, Vector128.Load(b + 12), c3);
        }
        if (accumulate) { c0 += Vector128.Load(c); c1 += Vector128.Load(c + 4); c2 += Vector128.Load(c + 8); c3 += Vector128.Load(c + 12); }
        c0.Store(c); c1.Store(c + 4); c2.Store(c + 8); c3.Store(c + 12);
    }
}
