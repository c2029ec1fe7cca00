using System.Runtime.CompilerServices;

namespace AttentionLab.Kernels;

/// <summary>
/// The five loops of the Goto/BLIS blocked GEMM around one micro-kernel, on one thread:
/// <code>
/// for jc in n step NC          B panel columns         (packed B: kc×nc, lives in L2/L3)
///   for pc in k step KC        depth block; pack op(B)[pc.., jc..]
///     for ic in m step MC      A block; pack op(A)[ic.., pc..]  (packed A: mc×kc, lives in L2)
///       for jr in nc step NR   one B micro-panel kc×NR (stays in L1 for the whole ir loop)
///         for ir in mc step MR micro-kernel: C[MR×NR] += Apanel·Bpanel
/// </code>
/// The first depth block overwrites C (unless the caller accumulates), later ones add to it.
/// See docs/gemm.md for how KC, MC and NC were chosen.
/// </summary>
internal static unsafe class GemmDriver<TKernel> where TKernel : struct, IGemmMicroKernel
{
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(GemmOperand a, GemmOperand b, float* c, nint ldc, int m, int n, int k,
        bool accumulate, GemmBlockSizes blocks)
    {
        int mr = TKernel.MR, nr = TKernel.NR;
        int kcMax = Math.Min(blocks.KC, k);
        int mcMax = RoundUp(Math.Min(blocks.MC, m), mr);
        int ncMax = RoundUp(Math.Min(blocks.NC, n), nr);
        var workspace = GemmWorkspace.Current;
        float* packedA = workspace.A(mcMax * kcMax);
        float* packedB = workspace.B(ncMax * kcMax);
        float* edge = stackalloc float[mr * nr];

        for (int jc = 0; jc < n; jc += blocks.NC)
        {
            int nc = Math.Min(blocks.NC, n - jc);
            for (int pc = 0; pc < k; pc += blocks.KC)
            {
                int kc = Math.Min(blocks.KC, k - pc);
                bool add = accumulate || pc > 0;
                var bBlock = b.At(pc, jc);
                GemmPacking.Pack(bBlock.Data, bBlock.ColStride, bBlock.RowStride, nc, kc, nr, packedB);
                for (int ic = 0; ic < m; ic += blocks.MC)
                {
                    int mc = Math.Min(blocks.MC, m - ic);
                    var aBlock = a.At(ic, pc);
                    GemmPacking.Pack(aBlock.Data, aBlock.RowStride, aBlock.ColStride, mc, kc, mr, packedA);
                    float* cBlock = c + ic * ldc + jc;
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int cols = Math.Min(nr, nc - jr);
                        float* bPanel = packedB + (nint)jr * kc;
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            int rows = Math.Min(mr, mc - ir);
                            float* aPanel = packedA + (nint)ir * kc;
                            float* cTile = cBlock + ir * ldc + jr;
                            if (rows == mr && cols == nr)
                                TKernel.Run(kc, aPanel, bPanel, cTile, ldc, add);
                            else
                                EdgeTile(kc, aPanel, bPanel, cTile, ldc, add, rows, cols, edge);
                        }
                    }
                }
            }
        }
    }

    /// <summary>A partial tile: the kernel writes a full MR×NR scratch tile, we keep the rows×cols corner.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void EdgeTile(int kc, float* aPanel, float* bPanel, float* c, nint ldc, bool add,
        int rows, int cols, float* scratch)
    {
        int nr = TKernel.NR;
        TKernel.Run(kc, aPanel, bPanel, scratch, nr, accumulate: false);
        for (int r = 0; r < rows; r++)
        {
            float* src = scratch + r * nr;
            float* dst = c + r * ldc;
            if (add) for (int j = 0; j < cols; j++) dst[j] += src[j];
            else for (int j = 0; j < cols; j++) dst[j] = src[j];
        }
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}

/// <summary>Cache block sizes for one micro-kernel (see docs/gemm.md). MC is a multiple of MR, NC of NR.</summary>
internal readonly record struct GemmBlockSizes(int MC, int KC, int NC);
