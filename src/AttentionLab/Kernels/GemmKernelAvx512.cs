using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AttentionLab.Kernels;

/// <summary>
/// AVX-512 micro-kernel, 12×32 tile: 24 zmm accumulators + 2 for the B row + 1 broadcast of A
/// (of 32 registers). Each k step loads one 32-float row of the packed B panel and broadcasts
/// 12 A values into 24 FMAs. Zen 5 retires 2 zmm FMAs per cycle at 4-cycle latency, so it needs
/// ≥ 8 independent accumulators to keep both pipes busy; more rows amortise the two B loads further.
/// </summary>
internal readonly unsafe struct GemmKernelAvx512 : IGemmMicroKernel
{
    public static int MR => 12;
    public static int NR => 32;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(int kc, float* a, float* b, float* c, nint ldc, bool accumulate)
    {
        Vector512<float> c00 = default, c01 = default;
        Vector512<float> c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default;
        Vector512<float> c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default;
        Vector512<float> c70 = default, c71 = default;
        Vector512<float> c80 = default, c81 = default;
        Vector512<float> c90 = default, c91 = default;
        Vector512<float> c100 = default, c101 = default;
        Vector512<float> c110 = default, c111 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]);
            c00 = Avx512F.FusedMultiplyAdd(a0, b0, c00);
            c01 = Avx512F.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector512.Create(a[1]);
            c10 = Avx512F.FusedMultiplyAdd(a1, b0, c10);
            c11 = Avx512F.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector512.Create(a[2]);
            c20 = Avx512F.FusedMultiplyAdd(a2, b0, c20);
            c21 = Avx512F.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector512.Create(a[3]);
            c30 = Avx512F.FusedMultiplyAdd(a3, b0, c30);
            c31 = Avx512F.FusedMultiplyAdd(a3, b1, c31);
            var a4 = Vector512.Create(a[4]);
            c40 = Avx512F.FusedMultiplyAdd(a4, b0, c40);
            c41 = Avx512F.FusedMultiplyAdd(a4, b1, c41);
            var a5 = Vector512.Create(a[5]);
            c50 = Avx512F.FusedMultiplyAdd(a5, b0, c50);
            c51 = Avx512F.FusedMultiplyAdd(a5, b1, c51);
            var a6 = Vector512.Create(a[6]);
            c60 = Avx512F.FusedMultiplyAdd(a6, b0, c60);
            c61 = Avx512F.FusedMultiplyAdd(a6, b1, c61);
            var a7 = Vector512.Create(a[7]);
            c70 = Avx512F.FusedMultiplyAdd(a7, b0, c70);
            c71 = Avx512F.FusedMultiplyAdd(a7, b1, c71);
            var a8 = Vector512.Create(a[8]);
            c80 = Avx512F.FusedMultiplyAdd(a8, b0, c80);
            c81 = Avx512F.FusedMultiplyAdd(a8, b1, c81);
            var a9 = Vector512.Create(a[9]);
            c90 = Avx512F.FusedMultiplyAdd(a9, b0, c90);
            c91 = Avx512F.FusedMultiplyAdd(a9, b1, c91);
            var a10 = Vector512.Create(a[10]);
            c100 = Avx512F.FusedMultiplyAdd(a10, b0, c100);
            c101 = Avx512F.FusedMultiplyAdd(a10, b1, c101);
            var a11 = Vector512.Create(a[11]);
            c110 = Avx512F.FusedMultiplyAdd(a11, b0, c110);
            c111 = Avx512F.FusedMultiplyAdd(a11, b1, c111);
            a += 12;
            b += 32;
        }
        if (accumulate)
        {
            c00 += Vector512.Load(c + 0 * ldc); c01 += Vector512.Load(c + 0 * ldc + 16);
            c10 += Vector512.Load(c + 1 * ldc); c11 += Vector512.Load(c + 1 * ldc + 16);
            c20 += Vector512.Load(c + 2 * ldc); c21 += Vector512.Load(c + 2 * ldc + 16);
            c30 += Vector512.Load(c + 3 * ldc); c31 += Vector512.Load(c + 3 * ldc + 16);
            c40 += Vector512.Load(c + 4 * ldc); c41 += Vector512.Load(c + 4 * ldc + 16);
            c50 += Vector512.Load(c + 5 * ldc); c51 += Vector512.Load(c + 5 * ldc + 16);
            c60 += Vector512.Load(c + 6 * ldc); c61 += Vector512.Load(c + 6 * ldc + 16);
            c70 += Vector512.Load(c + 7 * ldc); c71 += Vector512.Load(c + 7 * ldc + 16);
            c80 += Vector512.Load(c + 8 * ldc); c81 += Vector512.Load(c + 8 * ldc + 16);
            c90 += Vector512.Load(c + 9 * ldc); c91 += Vector512.Load(c + 9 * ldc + 16);
            c100 += Vector512.Load(c + 10 * ldc); c101 += Vector512.Load(c + 10 * ldc + 16);
            c110 += Vector512.Load(c + 11 * ldc); c111 += Vector512.Load(c + 11 * ldc + 16);
        }
        c00.Store(c + 0 * ldc); c01.Store(c + 0 * ldc + 16);
        c10.Store(c + 1 * ldc); c11.Store(c + 1 * ldc + 16);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 16);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 16);
        c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 16);
        c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + 16);
        c60.Store(c + 6 * ldc); c61.Store(c + 6 * ldc + 16);
        c70.Store(c + 7 * ldc); c71.Store(c + 7 * ldc + 16);
        c80.Store(c + 8 * ldc); c81.Store(c + 8 * ldc + 16);
        c90.Store(c + 9 * ldc); c91.Store(c + 9 * ldc + 16);
        c100.Store(c + 10 * ldc); c101.Store(c + 10 * ldc + 16);
        c110.Store(c + 11 * ldc); c111.Store(c + 11 * ldc + 16);
    }
}
