using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AttentionLab.Kernels;

/// <summary>
/// C = A·op(B) with B held as 16-bit weights (BF16 or F16), A and C float32, the products summed in float32.
/// Same contract as <see cref="GemmHalfReference.Multiply"/>: row-major, op(B) = B (stored k×n, the Conv1D (in, out)
/// linears) or Bᵀ (stored n×k, the (V, C) output head), + C when accumulating.
/// <list type="bullet">
/// <item>A handful of rows (m ≤ 8, a generation step): B is streamed once straight from memory, 16 bits a weight,
/// and widened in registers: the dot form for Bᵀ; for B, one row streams B in address order (<see cref="RowStream"/>,
/// the float32 path's kernel with a 16-bit <see cref="IWeightLoader{T}"/>), more rows take the axpy form (a
/// 64/32/16-column block of C held in registers while p runs over k). This is the memory-bound case the format is for: half the bytes per token. With
/// Vector512 a load of 32 weights is read as 16 32-bit lanes and widened without a shuffle — the low halves (even
/// elements: BF16 <c>lane &lt;&lt; 16</c>) and the high halves (odd elements: BF16 <c>lane &amp; 0xFFFF0000</c>) —
/// against A's even/odd split (dot form) or into even/odd column accumulators interleaved once at the end (axpy form);
/// the first version widened with vpmovzxwd and ran at half the float32 path's GB/s. Vector256/128 widen with
/// <see cref="HalfConversion.Widen256"/>/<see cref="HalfConversion.Widen128"/>.</item>
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
        bool smallM = m <= (transposeB ? Gemm.SmallMDot : Gemm.SmallMAxpy);
        int threads = Gemm.Threads(m, n, k, smallM, sizeof(ushort), maxThreads);
        if (!smallM)
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
            if (transposeB)
            {
                if (format == WeightFormat.BF16) Dot<BFloat16Loader>(a, b, c, m, n, k, j0, j1, accumulate, format);
                else Dot<Float16Loader>(a, b, c, m, n, k, j0, j1, accumulate, format);
            }
            else if (format == WeightFormat.BF16) Axpy<BFloat16Loader>(a, b, c, m, n, k, j0, j1, accumulate, format);
            else Axpy<Float16Loader>(a, b, c, m, n, k, j0, j1, accumulate, format);
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

    /// <summary>Many rows: widen B panel by panel into float32 and multiply with the packed GEMM (<see cref="WidenedProduct"/>).</summary>
    private static void MultiplyWidened(ReadOnlySpan<float> a, ReadOnlySpan<ushort> b, WeightFormat format, Span<float> c,
        int m, int n, int k, bool transposeB, bool accumulate, int threads, int panelFloats)
    {
        fixed (ushort* pb = b)
        {
            ushort* source = pb;
            int length = b.Length;
            WidenedProduct.Multiply(a, c, m, n, k, transposeB, accumulate, threads, panelFloats,
                (panel, j0, width) => WidenPanel(new ReadOnlySpan<ushort>(source, length), format, panel, n, k, j0, width, transposeB, threads));
        }
    }

    /// <summary>The panel of columns j0..j0+width of op(B) as float32 into <paramref name="panel"/>: rows j0.. of the stored
    /// (n, k) B (transposed), or those columns of every row of the stored (k, n) B; split over the threads (the panel is
    /// a full read and write of k·width values, which one core alone would take a noticeable share of a prefill on).</summary>
    private static void WidenPanel(ReadOnlySpan<ushort> b, WeightFormat format, float[] panel, int n, int k, int j0, int width, bool transposeB, int threads)
    {
        int rows = transposeB ? width : k, length = transposeB ? k : width;                       // the panel is rows × length
        fixed (ushort* pb = b)
        {
            ushort* source = pb;
            void Rows(int r0, int r1)
            {
                for (int r = r0; r < r1; r++)
                {
                    ushort* row = transposeB ? source + (nint)(j0 + r) * k : source + (nint)r * n + j0;
                    HalfConversion.Widen(new ReadOnlySpan<ushort>(row, length), format, panel.AsSpan(r * length, length));
                }
            }
            if (threads <= 1 || (long)rows * length < 1 << 16) { Rows(0, rows); return; }
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads },
                t => Rows((int)((long)rows * t / threads), (int)((long)rows * (t + 1) / threads)));
        }
    }

    /// <summary>C[i, j] (+)= A[i, :]·widen(B[j, :]) for j in [j0, j1): four rows of the stored B at a time, each row of
    /// A against them (the four rows, 6 KiB at k = 768, stay in L1 while the rows of A pass). For the Vector512 steps
    /// each row of A is first split into its even and odd elements (<see cref="Deinterleave"/>), so B's 16-bit pairs
    /// widen without a shuffle.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot<TLoader>(float* a, ushort* b, float* c, int m, int n, int k, int j0, int j1, bool accumulate, WeightFormat format)
        where TLoader : struct, IWeightLoader<ushort>
    {
        int k32 = Vector512.IsHardwareAccelerated ? k & ~31 : 0;
        var split = t_split is { } sp && sp.Length >= m * k32 ? sp : t_split = new float[Math.Max(m * k32, 64)];
        fixed (float* xs = split)
        {
            for (int i = 0; i < m; i++) Deinterleave(a + (nint)i * k, k32, xs + (nint)i * k32);
            int j = j0;
            for (; j + 4 <= j1; j += 4)
            {
                ushort* b0 = b + (nint)j * k;
                for (int i = 0; i < m; i++)
                {
                    var (d0, d1, d2, d3) = Dot4<TLoader>(a + (nint)i * k, xs + (nint)i * k32, k32, b0, b0 + k, b0 + 2 * k, b0 + 3 * k, k, format,
                        i == 0 ? 4 * k : 0);
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
                    var (d, _, _, _) = Dot4<TLoader>(a + (nint)i * k, xs + (nint)i * k32, k32, bj, bj, bj, bj, k, format);
                    float* ci = c + (nint)i * n + j;
                    *ci = accumulate ? *ci + d : d;
                }
            }
        }
    }

    [ThreadStatic] private static float[]? t_split;

    /// <summary>x[0..k32) as its even elements then its odd ones: split[q] = x[2q], split[k32/2 + q] = x[2q + 1].</summary>
    private static void Deinterleave(float* x, int k32, float* split)
    {
        int half = k32 / 2;
        for (int q = 0; q < half; q++) { split[q] = x[2 * q]; split[half + q] = x[2 * q + 1]; }
    }

    /// <summary>The dot products of x (float32) with the 16-bit rows y0..y3, all of length k: the first k32 weights 32
    /// at a time against x's even/odd split <paramref name="xs"/> (Vector512), then 16 and 8 a step (Vector256,
    /// Vector128, widening with a shuffle), then one at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (float, float, float, float) Dot4<TLoader>(float* x, float* xs, int k32, ushort* y0, ushort* y1, ushort* y2, ushort* y3, int k, WeightFormat f,
        nint ahead = 0)
        where TLoader : struct, IWeightLoader<ushort>
    {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int p = 0;
        if (Vector512.IsHardwareAccelerated && k32 > 0)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
            float* xo = xs + k32 / 2;
            for (; p < k32; p += 32)
            {
                var even = Vector512.Load(xs + p / 2); var odd = Vector512.Load(xo + p / 2);          // x[p + 2q], x[p + 2q + 1]
                if (ahead != 0) GemmSmallM.Prefetch4(y0 + p, y1 + p, y2 + p, y3 + p, ahead);     // the next four rows, into L2
                TLoader.Load32(y0 + p, out var e, out var o);
                a0 = Vector512.FusedMultiplyAdd(even, e, a0); b0 = Vector512.FusedMultiplyAdd(odd, o, b0);
                TLoader.Load32(y1 + p, out e, out o);
                a1 = Vector512.FusedMultiplyAdd(even, e, a1); b1 = Vector512.FusedMultiplyAdd(odd, o, b1);
                TLoader.Load32(y2 + p, out e, out o);
                a2 = Vector512.FusedMultiplyAdd(even, e, a2); b2 = Vector512.FusedMultiplyAdd(odd, o, b2);
                TLoader.Load32(y3 + p, out e, out o);
                a3 = Vector512.FusedMultiplyAdd(even, e, a3); b3 = Vector512.FusedMultiplyAdd(odd, o, b3);
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

    /// <summary>C[i, j0..j1) (+)= Σ_p A[i, p]·widen(B[p, j0..j1)). One row with Vector512: <see cref="RowStream"/>. Else
    /// blocks of 64 columns for four rows at a time (Vector512; a last group of fewer rows repeats its last row), then
    /// 32 and 16 columns a row at a time, then single columns. The block's accumulators stay in registers while p runs
    /// over k; C is written once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Axpy<TLoader>(float* a, ushort* b, float* c, int m, int n, int k, int j0, int j1, bool accumulate, WeightFormat f)
        where TLoader : struct, IWeightLoader<ushort>
    {
        if (Vector512.IsHardwareAccelerated && m == 1)
        {
            // one row (a decode step): B streamed in address order, as the float32 path does, widened by the loader
            RowStream.Run<ushort, TLoader>(a, b, n, c, j0, j1, k, accumulate);
            return;
        }
        int j = j0;
        if (Vector512.IsHardwareAccelerated)
            for (; j + 64 <= j1; j += 64)
                for (int i = 0; i < m; i += 4)
                    Block512x4<TLoader>(a + (nint)i * k, k, Math.Min(4, m - i), b + j, n, c + (nint)i * n + j, n, k, accumulate);
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

    /// <summary>Rows 0..rows (≤ 4) of c, columns 0..64, (+)= Σ_p a[r·lda + p]·widen(b[p·ldb + 0..64)). The 64 weights
    /// of a step widen shuffle-free as even and odd elements (<see cref="IWeightLoader{T}.Load32"/>) into accumulators
    /// for the even and the odd columns, interleaved back once at the end. One row runs alone (two steps of p at a time,
    /// eight independent FMA chains); two to four rows share each widened step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block512x4<TLoader>(float* a, nint lda, int rows, ushort* b, nint ldb, float* c, nint ldc, int k, bool accumulate)
        where TLoader : struct, IWeightLoader<ushort>
    {
        if (rows == 1) { Block512x1<TLoader>(a, b, ldb, c, k, accumulate); return; }
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        float* a0 = a, a1 = a + Math.Min(1, rows - 1) * lda, a2 = a + Math.Min(2, rows - 1) * lda, a3 = a + (rows - 1) * lda;
        for (int p = 0; p < k; p++, b += ldb)
        {
            TLoader.Load32(b, out var b0, out var b1);
            TLoader.Load32(b + 32, out var b2, out var b3);
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

    /// <summary>One row: c[0..64) (+)= Σ_p a[p]·widen(b[p·ldb + 0..64)), even and odd p in separate accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block512x1<TLoader>(float* a, ushort* b, nint ldb, float* c, int k, bool accumulate)
        where TLoader : struct, IWeightLoader<ushort>
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default;
        int p = 0;
        for (; p + 2 <= k; p += 2, b += 2 * ldb)
        {
            TLoader.Load32(b, out var e0, out var o0); TLoader.Load32(b + 32, out var e1, out var o1);
            var av = Vector512.Create(a[p]);
            c0 = Vector512.FusedMultiplyAdd(av, e0, c0); c1 = Vector512.FusedMultiplyAdd(av, o0, c1);
            c2 = Vector512.FusedMultiplyAdd(av, e1, c2); c3 = Vector512.FusedMultiplyAdd(av, o1, c3);
            TLoader.Load32(b + ldb, out e0, out o0); TLoader.Load32(b + ldb + 32, out e1, out o1);
            av = Vector512.Create(a[p + 1]);
            d0 = Vector512.FusedMultiplyAdd(av, e0, d0); d1 = Vector512.FusedMultiplyAdd(av, o0, d1);
            d2 = Vector512.FusedMultiplyAdd(av, e1, d2); d3 = Vector512.FusedMultiplyAdd(av, o1, d3);
        }
        if (p < k)
        {
            TLoader.Load32(b, out var e0, out var o0); TLoader.Load32(b + 32, out var e1, out var o1);
            var av = Vector512.Create(a[p]);
            c0 = Vector512.FusedMultiplyAdd(av, e0, c0); c1 = Vector512.FusedMultiplyAdd(av, o0, c1);
            c2 = Vector512.FusedMultiplyAdd(av, e1, c2); c3 = Vector512.FusedMultiplyAdd(av, o1, c3);
        }
        Store64(c, accumulate, c0 + d0, c1 + d1, c2 + d2, c3 + d3);
    }

    /// <summary>c[0..64) (+)= the block held as even columns of 0..32 (e0), odd of 0..32 (o0), even of 32..64 (e1),
    /// odd of 32..64 (o1): interleaved back into column order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store64(float* c, bool accumulate, Vector512<float> e0, Vector512<float> o0, Vector512<float> e1, Vector512<float> o1)
    {
        float* t = stackalloc float[64];
        e0.Store(t); o0.Store(t + 16); e1.Store(t + 32); o1.Store(t + 48);
        for (int q = 0; q < 16; q++)
        {
            float v0 = t[q], v1 = t[16 + q], v2 = t[32 + q], v3 = t[48 + q];
            if (accumulate) { c[2 * q] += v0; c[2 * q + 1] += v1; c[32 + 2 * q] += v2; c[33 + 2 * q] += v3; }
            else { c[2 * q] = v0; c[2 * q + 1] = v1; c[32 + 2 * q] = v2; c[33 + 2 * q] = v3; }
        }
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
