using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AttentionLab.Kernels;

/// <summary>
/// GEMM for a handful of rows of op(A) (m ≤ <see cref="Gemm.SmallMDot"/> or <see cref="Gemm.SmallMAxpy"/>): generating one token at a time
/// multiplies a (1..B, C) activation by every weight matrix. There each element of B is used only m
/// times, so packing B (one read and one write of all of it) would cost as much as the product itself:
/// instead B is streamed once, straight from where it lies. The work is memory-bound, so it is
/// still split across cores (each core brings its own share of memory bandwidth).
/// <list type="bullet">
/// <item>op(B) = B (k×n, rows contiguous): axpy form, <c>C[i, j..j+64] = Σ_p A[i,p]·B[p, j..j+64]</c>, the
/// C block held in registers while p runs over k.</item>
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
        // passes): four independent FMA chains per A row, and B is read from memory exactly once.
        int j = j0;
        for (; j + 4 <= j1; j += 4)
        {
            float* b0 = b.Data + j * b.ColStride;
            for (int i = 0; i < m; i++)
            {
                var (d0, d1, d2, d3) = Dot4(a.Data + i * a.RowStride, b0, b0 + b.ColStride, b0 + 2 * b.ColStride, b0 + 3 * b.ColStride, k);
                float* ci = c + i * ldc + j;
                if (accumulate) { ci[0] += d0; ci[1] += d1; ci[2] += d2; ci[3] += d3; }
                else { ci[0] = d0; ci[1] = d1; ci[2] = d2; ci[3] = d3; }
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

    /// <summary>The dot products of x with y0..y3 (all of length k), widest vectors first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (float, float, float, float) Dot4(float* x, float* y0, float* y1, float* y2, float* y3, int k)
    {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int p = 0;
        if (Vector512.IsHardwareAccelerated && k >= 16)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; p + 16 <= k; p += 16)
            {
                var xv = Vector512.Load(x + p);
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Axpy(GemmOperand a, GemmOperand b, float* c, nint ldc, int m, int j0, int j1, int k, bool accumulate)
    {
        // One row of C at a time, a block of columns held in four vector accumulators while p runs over k
        // (C is written once); the B block (k × 64 floats) stays in L2 for the next rows.
        nint ldb = b.RowStride;
        int j = j0;
        if (Vector512.IsHardwareAccelerated)
            for (; j + 64 <= j1; j += 64)
                for (int i = 0; i < m; i++) Block512(a.Data + i * a.RowStride, b.Data + j, ldb, c + i * ldc + j, k, accumulate);
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

    /// <summary>c[0..64) (+)= Σ_p a[p]·b[p·ldb + 0..64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block512(float* a, float* b, nint ldb, float* c, int k, bool accumulate)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int p = 0; p < k; p++, b += ldb)
        {
            var av = Vector512.Create(a[p]);
            c0 = Vector512.FusedMultiplyAdd(av, Vector512.Load(b), c0);
            c1 = Vector512.FusedMultiplyAdd(av, Vector512.Load(b + 16), c1);
            c2 = Vector512.FusedMultiplyAdd(av, Vector512.Load(b + 32), c2);
            c3 = Vector512.FusedMultiplyAdd(av, Vector512.Load(b + 48), c3);
        }
        if (accumulate) { c0 += Vector512.Load(c); c1 += Vector512.Load(c + 16); c2 += Vector512.Load(c + 32); c3 += Vector512.Load(c + 48); }
        c0.Store(c); c1.Store(c + 16); c2.Store(c + 32); c3.Store(c + 48);
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
