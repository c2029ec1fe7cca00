using ILGPU;
using ILGPU.Runtime;

namespace AttentionLab.Cuda;

/// <summary>Sizes and layout of one (batched) GEMM launch: C = alpha·op(A)·op(B) (+ C).</summary>
internal readonly record struct GemmArgs(int M, int N, int K, int TransposeA, int TransposeB, int Accumulate,
    long StrideA, long StrideB, long StrideC, float Alpha);

public sealed partial class GpuOps
{
    // One group computes a 64×64 tile of C with 64 threads, each an 8×8 block of it held in registers; A and B
    // advance through K in 16-wide slices staged in shared memory (the GPU's on-chip SRAM), so each element read
    // from global memory (HBM) is used 64 times, and each shared-memory read feeds 8 multiply-adds.
    // Transposed operands only change how a slice is loaded.
    internal const int GemmTile = 64, GemmSlice = 16, GemmThreads = 64;

    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>? _gemm;

    /// <summary>
    /// C (m, n) = alpha·op(A)·op(B) (+ C when <paramref name="accumulate"/>), row-major; op transposes when asked, so A
    /// is (m, k) or (k, m), B is (k, n) or (n, k). <paramref name="batch"/> independent products at the given strides
    /// (attention's per-head products); batch 1 ignores them.
    /// </summary>
    public void MatMul(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int m, int n, int k,
        bool transposeA = false, bool transposeB = false, bool accumulate = false, float alpha = 1f,
        int batch = 1, long strideA = 0, long strideB = 0, long strideC = 0)
    {
        if (m < 0 || n < 0 || k < 0 || batch < 1) throw new ArgumentOutOfRangeException(nameof(m), $"GEMM sizes must be non-negative, got m {m}, n {n}, k {k}, batch {batch}");
        if (batch == 1) { strideA = (long)m * k; strideB = (long)k * n; strideC = (long)m * n; }
        if (a.Length < strideA * (batch - 1) + (long)m * k || b.Length < strideB * (batch - 1) + (long)k * n || c.Length < strideC * (batch - 1) + (long)m * n)
            throw new ArgumentException($"GEMM operands too short for m {m}, n {n}, k {k}, batch {batch}");
        if (m == 0 || n == 0) return;
        _gemm ??= _accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>(GemmKernel);
        var grid = new Index3D(Groups(n, GemmTile), Groups(m, GemmTile), batch);
        _gemm(new KernelConfig(grid, new Index3D(GemmThreads, 1, 1)), a, b, c,
            new GemmArgs(m, n, k, transposeA ? 1 : 0, transposeB ? 1 : 0, accumulate ? 1 : 0, strideA, strideB, strideC, alpha));
    }

    private static void GemmKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmArgs g)
    {
        var aTile = SharedMemory.Allocate<float>(GemmSlice * GemmTile);   // [kk][i]: the slice of op(A), k-major
        var bTile = SharedMemory.Allocate<float>(GemmSlice * GemmTile);   // [kk][j]
        int tid = Group.IdxX;
        int tx = tid % 8, ty = tid / 8;                                   // this thread's 8×8 block: rows ty·8.., cols tx·8..
        int row0 = Grid.IdxY * GemmTile, col0 = Grid.IdxX * GemmTile;
        long aBase = Grid.IdxZ * g.StrideA, bBase = Grid.IdxZ * g.StrideB, cBase = Grid.IdxZ * g.StrideC;
        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c04 = 0, c05 = 0, c06 = 0, c07 = 0;
        float c10 = 0, c11 = 0, c12 = 0, c13 = 0, c14 = 0, c15 = 0, c16 = 0, c17 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c24 = 0, c25 = 0, c26 = 0, c27 = 0;
        float c30 = 0, c31 = 0, c32 = 0, c33 = 0, c34 = 0, c35 = 0, c36 = 0, c37 = 0;
        float c40 = 0, c41 = 0, c42 = 0, c43 = 0, c44 = 0, c45 = 0, c46 = 0, c47 = 0;
        float c50 = 0, c51 = 0, c52 = 0, c53 = 0, c54 = 0, c55 = 0, c56 = 0, c57 = 0;
        float c60 = 0, c61 = 0, c62 = 0, c63 = 0, c64 = 0, c65 = 0, c66 = 0, c67 = 0;
        float c70 = 0, c71 = 0, c72 = 0, c73 = 0, c74 = 0, c75 = 0, c76 = 0, c77 = 0;
        for (int k0 = 0; k0 < g.K; k0 += GemmSlice)
        {
            // stage op(A)[row0.., k0..] and op(B)[k0.., col0..]: 1024 elements each, 16 per thread, read along the
            // operand's contiguous axis so neighbouring threads read neighbouring addresses
            for (int r = 0; r < 16; r++)
            {
                int e = tid + r * GemmThreads;
                int i, kk;
                if (g.TransposeA == 0) { i = e / GemmSlice; kk = e % GemmSlice; } else { i = e % GemmTile; kk = e / GemmTile; }
                int gi = row0 + i, gk = k0 + kk;
                float va = 0;
                if (gi < g.M && gk < g.K) va = g.TransposeA == 0 ? a[aBase + (long)gi * g.K + gk] : a[aBase + (long)gk * g.M + gi];
                aTile[kk * GemmTile + i] = va;
                int j;
                if (g.TransposeB == 0) { j = e % GemmTile; kk = e / GemmTile; } else { j = e / GemmSlice; kk = e % GemmSlice; }
                int gj = col0 + j; gk = k0 + kk;
                float vb = 0;
                if (gj < g.N && gk < g.K) vb = g.TransposeB == 0 ? b[bBase + (long)gk * g.N + gj] : b[bBase + (long)gj * g.K + gk];
                bTile[kk * GemmTile + j] = vb;
            }
            Group.Barrier();
            for (int kk = 0; kk < GemmSlice; kk++)
            {
                int ao = kk * GemmTile + ty * 8, bo = kk * GemmTile + tx * 8;
                float a0 = aTile[ao + 0], a1 = aTile[ao + 1], a2 = aTile[ao + 2], a3 = aTile[ao + 3], a4 = aTile[ao + 4], a5 = aTile[ao + 5], a6 = aTile[ao + 6], a7 = aTile[ao + 7];
                float b0 = bTile[bo + 0], b1 = bTile[bo + 1], b2 = bTile[bo + 2], b3 = bTile[bo + 3], b4 = bTile[bo + 4], b5 = bTile[bo + 5], b6 = bTile[bo + 6], b7 = bTile[bo + 7];
                c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3; c04 += a0 * b4; c05 += a0 * b5; c06 += a0 * b6; c07 += a0 * b7;
                c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3; c14 += a1 * b4; c15 += a1 * b5; c16 += a1 * b6; c17 += a1 * b7;
                c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3; c24 += a2 * b4; c25 += a2 * b5; c26 += a2 * b6; c27 += a2 * b7;
                c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3; c34 += a3 * b4; c35 += a3 * b5; c36 += a3 * b6; c37 += a3 * b7;
                c40 += a4 * b0; c41 += a4 * b1; c42 += a4 * b2; c43 += a4 * b3; c44 += a4 * b4; c45 += a4 * b5; c46 += a4 * b6; c47 += a4 * b7;
                c50 += a5 * b0; c51 += a5 * b1; c52 += a5 * b2; c53 += a5 * b3; c54 += a5 * b4; c55 += a5 * b5; c56 += a5 * b6; c57 += a5 * b7;
                c60 += a6 * b0; c61 += a6 * b1; c62 += a6 * b2; c63 += a6 * b3; c64 += a6 * b4; c65 += a6 * b5; c66 += a6 * b6; c67 += a6 * b7;
                c70 += a7 * b0; c71 += a7 * b1; c72 += a7 * b2; c73 += a7 * b3; c74 += a7 * b4; c75 += a7 * b5; c76 += a7 * b6; c77 += a7 * b7;
            }
            Group.Barrier();
        }
        int rr = row0 + ty * 8, cc = col0 + tx * 8;
        Store(c, g, cBase, rr + 0, cc, c00, c01, c02, c03, c04, c05, c06, c07);
        Store(c, g, cBase, rr + 1, cc, c10, c11, c12, c13, c14, c15, c16, c17);
        Store(c, g, cBase, rr + 2, cc, c20, c21, c22, c23, c24, c25, c26, c27);
        Store(c, g, cBase, rr + 3, cc, c30, c31, c32, c33, c34, c35, c36, c37);
        Store(c, g, cBase, rr + 4, cc, c40, c41, c42, c43, c44, c45, c46, c47);
        Store(c, g, cBase, rr + 5, cc, c50, c51, c52, c53, c54, c55, c56, c57);
        Store(c, g, cBase, rr + 6, cc, c60, c61, c62, c63, c64, c65, c66, c67);
        Store(c, g, cBase, rr + 7, cc, c70, c71, c72, c73, c74, c75, c76, c77);
    }

    private static void Store(ArrayView<float> c, GemmArgs g, long cBase, int row, int col,
        float v0, float v1, float v2, float v3, float v4, float v5, float v6, float v7)
    {
        if (row >= g.M) return;
        long o = cBase + (long)row * g.N + col;
        bool acc = g.Accumulate != 0;
        if (col < g.N) c[o] = g.Alpha * v0 + (acc ? c[o] : 0f);
        if (col + 1 < g.N) c[o + 1] = g.Alpha * v1 + (acc ? c[o + 1] : 0f);
        if (col + 2 < g.N) c[o + 2] = g.Alpha * v2 + (acc ? c[o + 2] : 0f);
        if (col + 3 < g.N) c[o + 3] = g.Alpha * v3 + (acc ? c[o + 3] : 0f);
        if (col + 4 < g.N) c[o + 4] = g.Alpha * v4 + (acc ? c[o + 4] : 0f);
        if (col + 5 < g.N) c[o + 5] = g.Alpha * v5 + (acc ? c[o + 5] : 0f);
        if (col + 6 < g.N) c[o + 6] = g.Alpha * v6 + (acc ? c[o + 6] : 0f);
        if (col + 7 < g.N) c[o + 7] = g.Alpha * v7 + (acc ? c[o + 7] : 0f);
    }
}
