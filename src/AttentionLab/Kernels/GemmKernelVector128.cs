using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AttentionLab.Kernels;

/// <summary>
/// Portable Vector128 micro-kernel, 4×8 tile (8 accumulators): SSE on x64 without AVX2, NEON on Arm.
/// MultiplyAddEstimate fuses where the hardware has FMA and falls back to multiply + add where it does not.
/// </summary>
internal readonly unsafe struct GemmKernelVector128 : IGemmMicroKernel
{
    public static int MR => 4;
    public static int NR => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(int kc, float* a, float* b, float* c, nint ldc, bool accumulate)
    {
        Vector128<float> c00 = default, c01 = default;
        Vector128<float> c10 = default, c11 = default;
        Vector128<float> c20 = default, c21 = default;
        Vector128<float> c30 = default, c31 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector128.Load(b);
            var b1 = Vector128.Load(b + 4);
            var a0 = Vector128.Create(a[0]);
            c00 = Vector128.MultiplyAddEstimate(a0, b0, c00);
            c01 = Vector128.MultiplyAddEstimate(a0, b1, c01);
            var a1 = Vector128.Create(a[1]);
            c10 = Vector128.MultiplyAddEstimate(a1, b0, c10);
            c11 = Vector128.MultiplyAddEstimate(a1, b1, c11);
            var a2 = Vector128.Create(a[2]);
            c20 = Vector128.MultiplyAddEstimate(a2, b0, c20);
            c21 = Vector128.MultiplyAddEstimate(a2, b1, c21);
            var a3 = Vector128.Create(a[3]);
            c30 = Vector128.MultiplyAddEstimate(a3, b0, c30);
            c31 = Vector128.MultiplyAddEstimate(a3, b1, c31);
            a += 4;
            b += 8;
        }
        if (accumulate)
        {
            c00 += Vector128.Load(c + 0 * ldc); c01 += Vector128.Load(c + 0 * ldc + 4);
            c10 += Vector128.Load(c + 1 * ldc); c11 += Vector128.Load(c + 1 * ldc + 4);
            c20 += Vector128.Load(c + 2 * ldc); c21 += Vector128.Load(c + 2 * ldc + 4);
            c30 += Vector128.Load(c + 3 * ldc); c31 += Vector128.Load(c + 3 * ldc + 4);
        }
        c00.Store(c + 0 * ldc); c01.Store(c + 0 * ldc + 4);
        c10.Store(c + 1 * ldc); c11.Store(c + 1 * ldc + 4);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 4);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 4);
    }
}
