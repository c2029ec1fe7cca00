using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AttentionLab.Kernels;

/// <summary>
/// One row of C from a row-major weight matrix in memory (a decode step's block products):
/// <c>c[j0..j1) (+)= Σ_p x[p]·B[p, j0..j1)</c>, B stored (k, ldb) as float32, BF16 or F16 (<see cref="IWeightLoader{T}"/>:
/// one loop, a load per format; the 16-bit weights widen in registers and every sum is float32).
/// <para>B is read row by row, in address order, eight float32 rows (sixteen 16-bit rows) per pass over a zeroed tile of
/// c (then one row at a time): sequential streams the prefetcher follows, where a block of C held in registers reads a few cache lines of
/// every row and jumps. On GPT-2 124M's 48 block matrices streamed from memory (float32, 2-vCPU EPYC, read roof
/// ~27 GB/s): 9.9 GB/s for 64-column register blocks, 15.9 with four rows per pass, 19.1 with eight. The tile
/// (≤ 8 KiB) stays in L1 between passes. Vector512 hardware only; callers take their register blocks otherwise.</para>
/// <para>16-bit weights are read 32 to a 64-byte line as sixteen 32-bit lanes (<see cref="IWeightLoader{T}.Load32"/>): the even
/// columns widen from the low halves and the odd ones from the high halves, with no cross-lane shuffle, into a tile that
/// holds each 32-column block as its 16 even sums then its 16 odd ones (put back in column order once, at the end). Zen 4
/// runs the shuffle a 16-at-a-time widening needs (vpmovzxwd zmm) at one per two cycles; from L2 the paired form reads
/// 65 GB/s of BF16 on one core against 41. And each step prefetches the line the next pass will read in each of its rows
/// (<see cref="PrefetchNextPass"/>).</para>
/// <para>The sums start from zero in the tile and are added to c once at the end, as register blocks do: each
/// column's products are summed in the same order p = 0 … k − 1, one fused multiply-add each (so a 16-bit B gives
/// exactly the float32 kernel's bits on its widened values), and a large c (a residual the product accumulates onto)
/// is not rounded at every step.</para>
/// </summary>
internal static unsafe class RowStream
{
    /// <summary>Columns of the tile (8 KiB of float32).</summary>
    private const int Tile = 2048;

    /// <param name="x">(k) the row of A</param>
    /// <param name="b">(k, ldb) the weights; columns j0..j1 are read</param>
    /// <param name="c">the row of C; c[j0..j1) is written (or added to when <paramref name="accumulate"/>)</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T, TLoader>(float* x, T* b, nint ldb, float* c, int j0, int j1, int k, bool accumulate)
        where T : unmanaged where TLoader : struct, IWeightLoader<T>
    {
        // Rows of B per pass: 8 float32 rows or 16 16-bit rows, so each update of a tile vector takes 512 bytes of B
        // (GPT-2 124M's BF16 block matrices from memory, one thread, loaded machine: 16 rows ~8% faster than 8).
        int rows = sizeof(T) == sizeof(float) ? 8 : 16;
        float* t = stackalloc float[Tile];
        for (int jt = j0; jt < j1; jt += Tile)
        {
            int w = Math.Min(Tile, j1 - jt);
            new Span<float>(t, w).Clear();
            int p = 0;
            for (; p + rows <= k; p += rows)
            {
                var s0 = Vector512.Create(x[p]); var s1 = Vector512.Create(x[p + 1]);
                var s2 = Vector512.Create(x[p + 2]); var s3 = Vector512.Create(x[p + 3]);
                var s4 = Vector512.Create(x[p + 4]); var s5 = Vector512.Create(x[p + 5]);
                var s6 = Vector512.Create(x[p + 6]); var s7 = Vector512.Create(x[p + 7]);
                Vector512<float> s8 = default, s9 = default, s10 = default, s11 = default;
                Vector512<float> s12 = default, s13 = default, s14 = default, s15 = default;
                if (rows == 16)
                {
                    s8 = Vector512.Create(x[p + 8]); s9 = Vector512.Create(x[p + 9]);
                    s10 = Vector512.Create(x[p + 10]); s11 = Vector512.Create(x[p + 11]);
                    s12 = Vector512.Create(x[p + 12]); s13 = Vector512.Create(x[p + 13]);
                    s14 = Vector512.Create(x[p + 14]); s15 = Vector512.Create(x[p + 15]);
                }
                T* r0 = b + p * ldb + jt;
                int j = 0;
                if (TLoader.Paired)
                    for (; j + 32 <= w; j += 32)
                    {
                        // t[j..j+16) holds columns j, j+2, … j+30 and t[j+16..j+32) the odd ones (Interleave puts them back).
                        T* q = r0 + j;
                        PrefetchNextPass(q, ldb, rows);
                        var even = Vector512.Load(t + j); var odd = Vector512.Load(t + j + 16);
                        EightPaired<T, TLoader>(ref even, ref odd, q, ldb, s0, s1, s2, s3, s4, s5, s6, s7);
                        if (rows == 16) EightPaired<T, TLoader>(ref even, ref odd, q + 8 * ldb, ldb, s8, s9, s10, s11, s12, s13, s14, s15);
                        even.Store(t + j); odd.Store(t + j + 16);
                    }
                for (; j + 16 <= w; j += 16)
                {
                    T* q = r0 + j;
                    if (sizeof(T) == sizeof(float)) PrefetchNextPass(q, ldb, rows);
                    var acc = Eight<T, TLoader>(Vector512.Load(t + j), q, ldb, s0, s1, s2, s3, s4, s5, s6, s7);
                    if (rows == 16) acc = Eight<T, TLoader>(acc, q + 8 * ldb, ldb, s8, s9, s10, s11, s12, s13, s14, s15);
                    acc.Store(t + j);
                }
                for (; j < w; j++)
                {
                    float sum = t[j];
                    for (int u = 0; u < rows; u++) sum = MathF.FusedMultiplyAdd(x[p + u], TLoader.Load1(r0 + u * ldb + j), sum);
                    t[j] = sum;
                }
            }
            int paired = TLoader.Paired ? w & ~31 : 0;
            for (; p < k; p++)
            {
                float xp = x[p];
                T* r = b + p * ldb + jt;
                for (int j = 0; j < paired; j++) t[Tiled(j)] = MathF.FusedMultiplyAdd(xp, TLoader.Load1(r + j), t[Tiled(j)]);
                for (int j = paired; j < w; j++) t[j] = MathF.FusedMultiplyAdd(xp, TLoader.Load1(r + j), t[j]);
            }
            if (paired > 0) Interleave(t, paired);
            var sums = new ReadOnlySpan<float>(t, w);
            var cw = new Span<float>(c + jt, w);
            if (accumulate) TensorPrimitives.Add(cw, sums, cw);
            else sums.CopyTo(cw);
        }
    }

    /// <summary>
    /// Asks for the cache line the next pass reads in each of its rows (the same columns, <paramref name="rows"/> rows
    /// further on) to be brought into L2 while this pass computes: software prefetch, one line per row per step. The
    /// hardware prefetchers follow one stream well but not 8–16 interleaved rows a few KiB long; measured on GPT-2 124M's
    /// 48 block matrices from memory (2-vCPU Zen 4 EPYC, same process, alternating): BF16 15.0 → 21.0 GB/s on one
    /// thread and 18.3 → 26.1 on two; float32 19.0 → 21.9 and 24.5 → 27.3. Into L1 (prefetcht0) or non-temporal was
    /// no faster than none; two passes ahead was slower than one. A prefetch never faults, so the last pass may ask for
    /// lines past the matrix.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchNextPass<T>(T* q, nint ldb, int rows) where T : unmanaged
    {
        if (!Sse.IsSupported) return;
        T* next = q + rows * ldb;
        for (int u = 0; u < rows; u++) Sse.Prefetch1(next + u * ldb);
    }

    /// <summary>Where column j of a paired block sits in the tile: its block's evens first, then its odds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Tiled(int j) => (j & ~31) + ((j & 1) << 4) + ((j & 31) >> 1);

    /// <summary>Each 32-column block of t[0..count) from evens-then-odds back to column order, in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Interleave(float* t, int count)
    {
        var low = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        var high = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        for (int j = 0; j < count; j += 32)
        {
            var even = Vector512.Load(t + j); var odd = Vector512.Load(t + j + 16);
            Avx512F.PermuteVar16x32x2(even, low, odd).Store(t + j);
            Avx512F.PermuteVar16x32x2(even, high, odd).Store(t + j + 16);
        }
    }

    /// <summary>The paired form of <see cref="Eight"/>: rows q, q + ldb, … q + 7·ldb, 32 weights each as evens and odds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void EightPaired<T, TLoader>(ref Vector512<float> even, ref Vector512<float> odd, T* q, nint ldb,
        Vector512<float> s0, Vector512<float> s1, Vector512<float> s2, Vector512<float> s3,
        Vector512<float> s4, Vector512<float> s5, Vector512<float> s6, Vector512<float> s7)
        where T : unmanaged where TLoader : struct, IWeightLoader<T>
    {
        PairStep<T, TLoader>(ref even, ref odd, q, s0);
        PairStep<T, TLoader>(ref even, ref odd, q + ldb, s1);
        PairStep<T, TLoader>(ref even, ref odd, q + 2 * ldb, s2);
        PairStep<T, TLoader>(ref even, ref odd, q + 3 * ldb, s3);
        PairStep<T, TLoader>(ref even, ref odd, q + 4 * ldb, s4);
        PairStep<T, TLoader>(ref even, ref odd, q + 5 * ldb, s5);
        PairStep<T, TLoader>(ref even, ref odd, q + 6 * ldb, s6);
        PairStep<T, TLoader>(ref even, ref odd, q + 7 * ldb, s7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PairStep<T, TLoader>(ref Vector512<float> even, ref Vector512<float> odd, T* row, Vector512<float> s)
        where T : unmanaged where TLoader : struct, IWeightLoader<T>
    {
        TLoader.Load32(row, out var e, out var o);
        even = Vector512.FusedMultiplyAdd(s, e, even);
        odd = Vector512.FusedMultiplyAdd(s, o, odd);
    }

    /// <summary>acc + s0·B[0, 0..16) + s1·B[1, 0..16) + … + s7·B[7, 0..16), in that order (rows ldb apart from q).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Eight<T, TLoader>(Vector512<float> acc, T* q, nint ldb,
        Vector512<float> s0, Vector512<float> s1, Vector512<float> s2, Vector512<float> s3,
        Vector512<float> s4, Vector512<float> s5, Vector512<float> s6, Vector512<float> s7)
        where T : unmanaged where TLoader : struct, IWeightLoader<T>
    {
        acc = Vector512.FusedMultiplyAdd(s0, TLoader.Load16(q), acc);
        acc = Vector512.FusedMultiplyAdd(s1, TLoader.Load16(q + ldb), acc);
        acc = Vector512.FusedMultiplyAdd(s2, TLoader.Load16(q + 2 * ldb), acc);
        acc = Vector512.FusedMultiplyAdd(s3, TLoader.Load16(q + 3 * ldb), acc);
        acc = Vector512.FusedMultiplyAdd(s4, TLoader.Load16(q + 4 * ldb), acc);
        acc = Vector512.FusedMultiplyAdd(s5, TLoader.Load16(q + 5 * ldb), acc);
        acc = Vector512.FusedMultiplyAdd(s6, TLoader.Load16(q + 6 * ldb), acc);
        return Vector512.FusedMultiplyAdd(s7, TLoader.Load16(q + 7 * ldb), acc);
    }
}
