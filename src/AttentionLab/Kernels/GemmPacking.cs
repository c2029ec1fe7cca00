using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AttentionLab.Kernels;

/// <summary>
/// Copies a block of op(A) or op(B) into the contiguous micro-panel layout the micro-kernels stream:
/// panel after panel of <c>width</c> lines (MR rows of A, or NR columns of B), each panel stored
/// k-step by k-step (<c>dst[p·width + line]</c>), the last panel zero-padded to the full width.
/// Packing turns every transpose form into the same layout, makes the kernel's loads unit-stride and
/// keeps the block resident in cache (Goto &amp; van de Geijn, "Anatomy of high-performance matrix
/// multiplication", TOMS 2008).
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>How far ahead packing prefetches its source: the rows of this many steps later (a copy), the lines of
    /// the next group of four (a transpose). The source usually comes from memory (a weight matrix is read once
    /// per product), and without it the packing of B took 1.6–2.0 ms of a 256×3072×768 product's 13.9 ms on one
    /// core, with it 1.1–1.3 ms (docs/gemm.md).</summary>
    private const int PrefetchSteps = 8, PrefetchLines = 4;

    /// <summary>
    /// Packs <paramref name="lines"/> lines × <paramref name="kc"/> steps, where line l, step p is
    /// <c>src[l·lineStride + p·stepStride]</c>, into panels of <paramref name="width"/> lines.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Pack(float* src, nint lineStride, nint stepStride, int lines, int kc, int width, float* dst)
    {
        for (int l0 = 0; l0 < lines; l0 += width)
        {
            int count = Math.Min(width, lines - l0);
            float* s = src + l0 * lineStride;
            float* d = dst + (nint)l0 * kc;
            if (lineStride == 1) PackContiguousLines(s, stepStride, count, kc, width, d);
            else if (stepStride == 1) PackContiguousSteps(s, lineStride, count, kc, width, d);
            else PackStrided(s, lineStride, stepStride, count, kc, width, d);
        }
    }

    /// <summary>The lines of one step are adjacent in memory (A transposed, B not): a row copy per step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackContiguousLines(float* s, nint stepStride, int count, int kc, int width, float* d)
    {
        for (int p = 0; p < kc; p++, s += stepStride, d += width)
        {
            if (Sse.IsSupported && p + PrefetchSteps < kc)
                for (int q = 0; q < count; q += 16) Sse.Prefetch0(s + PrefetchSteps * stepStride + q);
            int l = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; l + 16 <= count; l += 16) Vector512.Store(Vector512.Load(s + l), d + l);
            if (Vector256.IsHardwareAccelerated)
                for (; l + 8 <= count; l += 8) Vector256.Store(Vector256.Load(s + l), d + l);
            if (Vector128.IsHardwareAccelerated)
                for (; l + 4 <= count; l += 4) Vector128.Store(Vector128.Load(s + l), d + l);
            for (; l < count; l++) d[l] = s[l];
            for (; l < width; l++) d[l] = 0f;
        }
    }

    /// <summary>
    /// The steps of one line are adjacent (A not transposed, B transposed): a transpose. Four lines ×
    /// four steps at a time go through an SSE 4×4 register transpose; the rest element by element.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackContiguousSteps(float* s, nint lineStride, int count, int kc, int width, float* d)
    {
        int l = 0;
        if (Sse.IsSupported)
        {
            for (; l + 4 <= count; l += 4)
            {
                float* s0 = s + l * lineStride, s1 = s0 + lineStride, s2 = s1 + lineStride, s3 = s2 + lineStride;
                float* dl = d + l;
                int p = 0;
                for (; p + 4 <= kc; p += 4)
                {
                    if ((p & 15) == 0) // once per line of 16 floats; past the last line it reaches the next panel's
                    {                  // (a prefetch never faults, even past the end of the matrix)
                        nint ahead = PrefetchLines * lineStride + p;
                        Sse.Prefetch0(s0 + ahead); Sse.Prefetch0(s1 + ahead);
                        Sse.Prefetch0(s2 + ahead); Sse.Prefetch0(s3 + ahead);
                    }
                    var r0 = Sse.LoadVector128(s0 + p);
                    var r1 = Sse.LoadVector128(s1 + p);
                    var r2 = Sse.LoadVector128(s2 + p);
                    var r3 = Sse.LoadVector128(s3 + p);
                    var t0 = Sse.UnpackLow(r0, r1);   // r0[0] r1[0] r0[1] r1[1]
                    var t1 = Sse.UnpackLow(r2, r3);   // r2[0] r3[0] r2[1] r3[1]
                    var t2 = Sse.UnpackHigh(r0, r1);  // r0[2] r1[2] r0[3] r1[3]
                    var t3 = Sse.UnpackHigh(r2, r3);
                    Sse.Store(dl + (nint)p * width, Sse.MoveLowToHigh(t0, t1));
                    Sse.Store(dl + (nint)(p + 1) * width, Sse.MoveHighToLow(t1, t0));
                    Sse.Store(dl + (nint)(p + 2) * width, Sse.MoveLowToHigh(t2, t3));
                    Sse.Store(dl + (nint)(p + 3) * width, Sse.MoveHighToLow(t3, t2));
                }
                for (; p < kc; p++)
                {
                    float* dp = dl + (nint)p * width;
                    dp[0] = s0[p]; dp[1] = s1[p]; dp[2] = s2[p]; dp[3] = s3[p];
                }
            }
        }
        for (; l < count; l++)
        {
            float* sl = s + l * lineStride;
            for (int p = 0; p < kc; p++) d[(nint)p * width + l] = sl[p];
        }
        ZeroPad(count, kc, width, d);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackStrided(float* s, nint lineStride, nint stepStride, int count, int kc, int width, float* d)
    {
        for (int p = 0; p < kc; p++)
            for (int l = 0; l < count; l++) d[(nint)p * width + l] = s[l * lineStride + p * stepStride];
        ZeroPad(count, kc, width, d);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ZeroPad(int count, int kc, int width, float* d)
    {
        if (count == width) return;
        for (int p = 0; p < kc; p++)
            for (int l = count; l < width; l++) d[(nint)p * width + l] = 0f;
    }
}
