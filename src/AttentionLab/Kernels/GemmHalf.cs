using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AttentionLab.Kernels;

/// <summary>
/// C = A·op(B) with B held as 16-bit weights (BF16 or F16), A and C float32, the products summed in float32.
/// Same contract as <see cref="GemmHalfReference.Multiply"/>: row-major, op(B) = B (stored k×n, the Conv1D (in, out)
/// linears) or Bᵀ (stored n×k, the (V, C) output head), + C when accumulating.
/// <list type="bullet">
/// <item>A handful of rows (m ≤ 8, a generation step): B is streamed once straight from memory, 16 bits a weight,
/// and widened in registers (<see cref="HalfConversion.Widen512"/> and narrower): the dot form for Bᵀ, the axpy form
/// (a 64/32/16-column block of C held in registers while p runs over k) for B. This is the memory-bound case the
/// format is for: half the bytes per token.</item>
/// <item>More rows (a prompt, an inspected text): the product is compute-bound, so B is widened once into a float32
/// panel (at most <see cref="PanelFloats"/> floats, reused) and the packed float32 <see cref="Gemm"/> runs on it; the
/// widening costs k·n against the product's m·n·k.</item>
/// </list>
/// </summary>
public static unsafe class GemmHalf
{
    /// <summary>Floats of the widened panel the many-row path multiplies by (16 MiB): every GPT-2 124M block matrix
    /// fits whole; the (V, C) head is done in column panels.</summary>
    internal const int PanelFloats = 1 << 22;

    /// <summary>Columns per unit of work when the few-row path splits columns across threads.</summary>
    private const int Chunk = 256;

    [ThreadStatic] private static float[]? t_panel;
    [ThreadStatic] private static float[]? t_output;

    /// <param name="a">(m, k) float32</param>
    /// <param name="b">16-bit weights: stored (k, n), or (n, k) when <paramref name="transposeB"/></param>
    /// <param name="c">(m, n), overwritten, or added to when <paramref name="accumulate"/></param>
    /// <param name="maxThreads">cores to use; 0 means all</param>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<ushort> b, WeightFormat format, Span<float> c,
        int m, int n, int k, bool transposeB = false, bool accumulate = false, int maxThreads = 0) =>
        Multiply(a, b, format, c, m, n, k, transposeB, accumulate, maxThreads, PanelFloats);

    /// <summary>The same with a smaller widened panel, so tests cross panel boundaries at small sizes.</summary>
    internal static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<ushort> b, WeightFormat format, Span<float> c,
        int m, int n, int k, bool transposeB, bool accumulate, int maxThreads, int panelFloats)
    {
        Validate(a, b, c, m, n, k);
        if (format == WeightFormat.F32) throw new ArgumentException("float32 weights go through Gemm.Multiply", nameof(format));
        ArgumentOutOfRangeException.ThrowIfNegative(maxThreads);
        if (c[..(m * n)].Overlaps(a[..(m * k)])) throw new ArgumentException("C must not overlap A");
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate) c[..(m * n)].Clear();
            return;
        }
        int threads = (long)m * n * k < Gemm.ParallelThreshold ? 1
            : Math.Min(maxThreads == 0 ? Environment.ProcessorCount : maxThreads, Environment.ProcessorCount);
        if (m > (transposeB ? Gemm.SmallMDot : Gemm.SmallMAxpy))
        {
            MultiplyWidened(a, b, format, c, m, n, k, transposeB, accumulate, threads, panelFloats);
            return;
        }
        fixed (float* pa = a, pc = c)
        fixed (ushort* pb = b)
        {
            var job = new Job(pa, pb, pc, m, n, k, transposeB, accumulate, format);
            if (threads == 1 || n < 2 * Chunk) job.Columns(0, n);
            else RunInParallel(job, threads);
        }
    }

    /// <summary>The operands of one few-row product, so the parallel split needs no closure over pointers.</summary>
    private readonly struct Job(float* a, ushort* b, float* c, int m, int n, int k, bool transposeB, bool accumulate, WeightFormat format)
    {
        public int N => n;

        public void Columns(int j0, int j1)
        {
            if (transposeB) Dot(a, b, c, m, n, k, j0, j1, accumulate, format);
            else Axpy(a, b, c, m, n, k, j0, j1, accumulate, format);
        }
    }

    private static void RunInParallel(Job job, int threads)
    {
        int chunks = (job.N + Chunk - 1) / Chunk;
        threads = Math.Min(threads, chunks);
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            int j0 = (int)((long)chunks * t / threads) * Chunk;
            int j1 = Math.Min(job.N, (int)((long)chunks * (t + 1) / threads) * Chunk);
            job.Columns(j0, j1);
        });
    }

    /// <summary>Many rows: widen B panel by panel into float32 and multiply with the packed GEMM. A panel is a range
    /// of C's columns; when it is all of them the GEMM writes C directly, else into a (m, panel) buffer added into C.</summary>
    private static void MultiplyWidened(ReadOnlySpan<float> a, ReadOnlySpan<ushort> b, WeightFormat format, Span<float> c,
        int m, int n, int k, bool transposeB, bool accumulate, int threads, int panelFloats)
    {
        int panel = Math.Max(1, Math.Min(n, panelFloats / k));
        var widened = t_panel ??= new float[PanelFloats];
        if (widened.Length < (long)panel * k) widened = t_panel = new float[(long)panel * k];   // k alone beyond the budget
        for (int j0 = 0; j0 < n; j0 += panel)
        {
            int width = Math.Min(panel, n - j0);
            var w = widened.AsSpan(0, width * k);
            if (transposeB) HalfConversion.Widen(b.Slice(j0 * k, width * k), format, w);          // rows j0.. of (n, k)
            else
                for (int p = 0; p < k; p++)                                                         // columns j0.. of (k, n)
                    HalfConversion.Widen(b.Slice(p * n + j0, width), format, w.Slice(p * width, width));
            if (width == n)
            {
                Gemm.Multiply(a, w, c, m, n, k, transposeB: transposeB, accumulate: accumulate, maxThreads: threads);
                return;
            }
            var output = t_output is { } o && o.Length >= m * width ? o : t_output = new float[m * width];
            var part = output.AsSpan(0, m * width);                                                 // (m, width)
            Gemm.Multiply(a, w, part, m, width, k, transposeB: transposeB, maxThreads: threads);
            for (int i = 0; i < m; i++)
            {
                var row = c.Slice(i * n + j0, width);
                if (accumulate) System.Numerics.Tensors.TensorPrimitives.Add(row, part.Slice(i * width, width), row);
                else part.Slice(i * width, width).CopyTo(row);
            }
        }
    }

    /// <summary>C[i, j] (+)= A[i, :]·widen(B[j, :]) for j in [j0, j1): four rows of the stored B at a time, each row of
    /// A against them (the four rows, 6 KiB at k = 768, stay in L1 while the rows of A pass).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot(float* a, ushort* b, float* c, int m, int n, int k, int j0, int j1, bool accumulate, WeightFormat format)
    {
        int j = j0;
        for (; j + 4 <= j1; j += 4)
        {
            ushort* b0 = b + (nint)j * k;
            for (int i = 0; i < m; i++)
            {
                var (d0, d1, d2, d3) = Dot4(a + (nint)i * k, b0, b0 + k, b0 + 2 * k, b0 + 3 * k, k, format);
                float* ci = c + (nint)i * n + j;
                if (accumulate) { ci[0] += d0; ci[1] += d1; ci[2] += d2; ci[3] += d3; }
                else { ci[0] = d0; ci[1] = d1; ci[2] = d2; ci[3] = d3; }
            }
        }
        for (; j < j1; j++)
        {
            ushort* bj = b + (nint)j * k;
            for (int i = 0; i < m; i++)
            {
                var (d, _, _, _) = Dot4(a + (nint)i * k, bj, bj, bj, bj, k, format);
                float* ci = c + (nint)i * n + j;
                *ci = accumulate ? *ci + d : d;
            }
        }
    }

    /// <summary>The dot products of x (float32) with the 16-bit rows y0..y3, all of length k: 32, then 16, then 8
    /// weights a step (Vector512, Vector256, Vector128), then one at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (float, float, float, float) Dot4(float* x, ushort* y0, ushort* y1, ushort* y2, ushort* y3, int k, WeightFormat f)
    {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int p = 0;
        if (Vector512.IsHardwareAccelerated && k >= 32)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
            for (; p + 32 <= k; p += 32)
            {
                var lo = Vector512.Load(x + p); var hi = Vector512.Load(x + p + 16);
                var v = Vector512.Load(y0 + p);
                a0 = Vector512.FusedMultiplyAdd(lo, HalfConversion.Widen512(Vector512.WidenLower(v), f), a0);
                b0 = Vector512.FusedMultiplyAdd(hi, HalfConversion.Widen512(Vector512.WidenUpper(v), f), b0);
                v = Vector512.Load(y1 + p);
                a1 = Vector512.FusedMultiplyAdd(lo, HalfConversion.Widen512(Vector512.WidenLower(v), f), a1);
                b1 = Vector512.FusedMultiplyAdd(hi, HalfConversion.Widen512(Vector512.WidenUpper(v), f), b1);
                v = Vector512.Load(y2 + p);
                a2 = Vector512.FusedMultiplyAdd(lo, HalfConversion.Widen512(Vector512.WidenLower(v), f), a2);
                b2 = Vector512.FusedMultiplyAdd(hi, HalfConversion.Widen512(Vector512.WidenUpper(v), f), b2);
                v = Vector512.Load(y3 + p);
                a3 = Vector512.FusedMultiplyAdd(lo, HalfConversion.Widen512(Vector512.WidenLower(v), f), a3);
                b3 = Vector512.FusedMultiplyAdd(hi, HalfConversion.Widen512(Vector512.WidenUpper(v), f), b3);
            }
            s0 = Vector512.Sum(a0 + b0); s1 = Vector512.Sum(a1 + b1); s2 = Vector512.Sum(a2 + b2); s3 = Vector512.Sum(a3 + b3);
        }
        if (Vector256.IsHardwareAccelerated && p + 16 <= k)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; p + 16 <= k; p += 16)
            {
                var lo = Vector256.Load(x + p); var hi = Vector256.Load(x + p + 8);
                var v = Vector256.Load(y0 + p);
                a0 = Vector256.MultiplyAddEstimate(lo, HalfConversion.Widen256(Vector256.WidenLower(v), f), a0);
                a0 = Vector256.MultiplyAddEstimate(hi, HalfConversion.Widen256(Vector256.WidenUpper(v), f), a0);
                v = Vector256.Load(y1 + p);
                a1 = Vector256.MultiplyAddEstimate(lo, HalfConversion.Widen256(Vector256.WidenLower(v), f), a1);
                a1 = Vector256.MultiplyAddEstimate(hi, HalfConversion.Widen256(Vector256.WidenUpper(v), f), a1);
                v = Vector256.Load(y2 + p);
                a2 = Vector256.MultiplyAddEstimate(lo, HalfConversion.Widen256(Vector256.WidenLower(v), f), a2);
                a2 = Vector256.MultiplyAddEstimate(hi, HalfConversion.Widen256(Vector256.WidenUpper(v), f), a2);
                v = Vector256.Load(y3 + p);
                a3 = Vector256.MultiplyAddEstimate(lo, HalfConversion.Widen256(Vector256.WidenLower(v), f), a3);
                a3 = Vector256.MultiplyAddEstimate(hi, HalfConversion.Widen256(Vector256.WidenUpper(v), f), a3);
            }
            s0 += Vector256.Sum(a0); s1 += Vector256.Sum(a1); s2 += Vector256.Sum(a2); s3 += Vector256.Sum(a3);
        }
        if (Vector128.IsHardwareAccelerated && p + 8 <= k)
        {
            Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; p + 8 <= k; p += 8)
            {
                var lo = Vector128.Load(x + p); var hi = Vector128.Load(x + p + 4);
                var v = Vector128.Load(y0 + p);
                a0 = Vector128.MultiplyAddEstimate(lo, HalfConversion.Widen128(Vector128.WidenLower(v), f), a0);
                a0 = Vector128.MultiplyAddEstimate(hi, HalfConversion.Widen128(Vector128.WidenUpper(v), f), a0);
                v = Vector128.Load(y1 + p);
                a1 = Vector128.MultiplyAddEstimate(lo, HalfConversion.Widen128(Vector128.WidenLower(v), f), a1);
                a1 = Vector128.MultiplyAddEstimate(hi, HalfConversion.Widen128(Vector128.WidenUpper(v), f), a1);
                v = Vector128.Load(y2 + p);
                a2 = Vector128.MultiplyAddEstimate(lo, HalfConversion.Widen128(Vector128.WidenLower(v), f), a2);
                a2 = Vector128.MultiplyAddEstimate(hi, HalfConversion.Widen128(Vector128.WidenUpper(v), f), a2);
                v = Vector128.Load(y3 + p);
                a3 = Vector128.MultiplyAddEstimate(lo, HalfConversion.Widen128(Vector128.WidenLower(v), f), a3);
                a3 = Vector128.MultiplyAddEstimate(hi, HalfConversion.Widen128(Vector128.WidenUpper(v), f), a3);
            }
            s0 += Vector128.Sum(a0); s1 += Vector128.Sum(a1); s2 += Vector128.Sum(a2); s3 += Vector128.Sum(a3);
        }
        for (; p < k; p++)
        {
            float xv = x[p];
            s0 += xv * HalfConversion.ToSingle(y0[p], f); s1 += xv * HalfConversion.ToSingle(y1[p], f);
            s2 += xv * HalfConversion.ToSingle(y2[p], f); s3 += xv * HalfConversion.ToSingle(y3[p], f);
        }
        return (s0, s1, s2, s3);
    }

    /// <summary>C[i, j0..j1) (+)= Σ_p A[i, p]·widen(B[p, j0..j1)): blocks of 64 columns for four rows at a time
    /// (Vector512; a last group of fewer rows repeats its last row), then 32 and 16 columns a row at a time, then
    /// single columns. The block's accumulators stay in registers while p runs over k; C is written once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Axpy(float* a, ushort* b, float* c, int m, int n, int k, int j0, int j1, bool accumulate, WeightFormat f)
    {
        int j = j0;
        if (Vector512.IsHardwareAccelerated)
            for (; j + 64 <= j1; j += 64)
                for (int i = 0; i < m; i += 4)
                    Block512x4(a + (nint)i * k, k, Math.Min(4, m - i), b + j, n, c + (nint)i * n + j, n, k, accumulate, f);
        if (Vector256.IsHardwareAccelerated)
            for (; j + 32 <= j1; j += 32)
                for (int i = 0; i < m; i++) Block256(a + (nint)i * k, b + j, n, c + (nint)i * n + j, k, accumulate, f);
        if (Vector128.IsHardwareAccelerated)
            for (; j + 16 <= j1; j += 16)
                for (int i = 0; i < m; i++) Block128(a + (nint)i * k, b + j, n, c + (nint)i * n + j, k, accumulate, f);
        for (; j < j1; j++)
            for (int i = 0; i < m; i++)
            {
                float* ai = a + (nint)i * k;
                float sum = 0;
                for (int p = 0; p < k; p++) sum += ai[p] * HalfConversion.ToSingle(b[(nint)p * n + j], f);
                float* ci = c + (nint)i * n + j;
                *ci = accumulate ? *ci + sum : sum;
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block512x4(float* a, nint lda, int rows, ushort* b, nint ldb, float* c, nint ldc, int k, bool accumulate, WeightFormat f)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        float* a0 = a, a1 = a + Math.Min(1, rows - 1) * lda, a2 = a + Math.Min(2, rows - 1) * lda, a3 = a + (rows - 1) * lda;
        for (int p = 0; p < k; p++, b += ldb)
        {
            var lo = Vector512.Load(b); var hi = Vector512.Load(b + 32);
            var b0 = HalfConversion.Widen512(Vector512.WidenLower(lo), f); var b1 = HalfConversion.Widen512(Vector512.WidenUpper(lo), f);
            var b2 = HalfConversion.Widen512(Vector512.WidenLower(hi), f); var b3 = HalfConversion.Widen512(Vector512.WidenUpper(hi), f);
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

    /// <summary>c[0..32) (+)= Σ_p a[p]·widen(b[p·ldb + 0..32)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block256(float* a, ushort* b, nint ldb, float* c, int k, bool accumulate, WeightFormat f)
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int p = 0; p < k; p++, b += ldb)
        {
            var av = Vector256.Create(a[p]);
            var lo = Vector256.Load(b); var hi = Vector256.Load(b + 16);
            c0 = Vector256.MultiplyAddEstimate(av, HalfConversion.Widen256(Vector256.WidenLower(lo), f), c0);
            c1 = Vector256.MultiplyAddEstimate(av, HalfConversion.Widen256(Vector256.WidenUpper(lo), f), c1);
            c2 = Vector256.MultiplyAddEstimate(av, HalfConversion.Widen256(Vector256.WidenLower(hi), f), c2);
            c3 = Vector256.MultiplyAddEstimate(av, HalfConversion.Widen256(Vector256.WidenUpper(hi), f), c3);
        }
        if (accumulate) { c0 += Vector256.Load(c); c1 += Vector256.Load(c + 8); c2 += Vector256.Load(c + 16); c3 += Vector256.Load(c + 24); }
        c0.Store(c); c1.Store(c + 8); c2.Store(c + 16); c3.Store(c + 24);
    }

    /// <summary>c[0..16) (+)= Σ_p a[p]·widen(b[p·ldb + 0..16)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block128(float* a, ushort* b, nint ldb, float* c, int k, bool accumulate, WeightFormat f)
    {
        Vector128<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int p = 0; p < k; p++, b += ldb)
        {
            var av = Vector128.Create(a[p]);
            var lo = Vector128.Load(b); var hi = Vector128.Load(b + 8);
            c0 = Vector128.MultiplyAddEstimate(av, HalfConversion.Widen128(Vector128.WidenLower(lo), f), c0);
            c1 = Vector128.MultiplyAddEstimate(av, HalfConversion.Widen128(Vector128.WidenUpper(lo), f), c1);
            c2 = Vector128.MultiplyAddEstimate(av, HalfConversion.Widen128(Vector128.WidenLower(hi), f), c2);
            c3 = Vector128.MultiplyAddEstimate(av, HalfConversion.Widen128(Vector128.WidenUpper(hi), f), c3);
        }
        if (accumulate) { c0 += Vector128.Load(c); c1 += Vector128.Load(c + 4); c2 += Vector128.Load(c + 8); c3 += Vector128.Load(c + 12); }
        c0.Store(c); c1.Store(c + 4); c2.Store(c + 8); c3.Store(c + 12);
    }

    internal static void Validate(ReadOnlySpan<float> a, ReadOnlySpan<ushort> b, Span<float> c, int m, int n, int k)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), "matrix sizes must be non-negative");
        if (a.Length < (long)m * k) throw new ArgumentException($"A has {a.Length} elements, needs {(long)m * k}");
        if (b.Length < (long)k * n) throw new ArgumentException($"B has {b.Length} elements, needs {(long)k * n}");
        if (c.Length < (long)m * n) throw new ArgumentException($"C has {c.Length} elements, needs {(long)m * n}");
    }
}
