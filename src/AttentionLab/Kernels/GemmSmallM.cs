using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AttentionLab.Kernels;

/// <summary>
/// GEMM for a handful of rows of op(A) (m ≤ <see cref="Gemm.SmallM"/>): generating one token at a time
/// multiplies a (1..B, C) activation by every weight matrix. There each element of B is used only m
/// times, so packing B (one read and one write of all of it) would cost as much as the product itself:
/// instead B is streamed once, straight from where it lies. The work is memory-bound, so it is
/// still split across cores (each core brings its own share of memory bandwidth).
/// <list type="bullet">
/// <item>op(B) = B (k×n, rows contiguous): axpy form, <c>C[i, chunk] += A[i,p]·B[p, chunk]</c>, with the
/// C chunk held in L1 while p runs over k.</item>
/// <item>op(B) = Bᵀ (B stored n×k, the x·Wᵀ forward with W stored (out, in)): dot form,
/// <c>C[i,j] = A[i,:]·B[j,:]</c>, both contiguous.</item>
/// </list>
/// </summary>
internal static unsafe class GemmSmallM
{
    /// <summary>Columns of C per axpy chunk: m chunks of 1 KiB stay in L1 with the B row segment.</summary>
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
        if (threads == 1 || n < 2 * Chunk)
        {
            RunColumns(a, b, c, ldc, m, 0, n, k, accumulate);
            return;
        }
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

    private static void Dot(GemmOperand a, GemmOperand b, float* c, nint ldc, int m, int j0, int j1, int k, bool accumulate)
    {
        for (int j = j0; j < j1; j++)
        {
            var bColumn = new ReadOnlySpan<float>(b.Data + j * b.ColStride, k); // row j of the stored B
            for (int i = 0; i < m; i++)
            {
                float dot = TensorPrimitives.Dot(new ReadOnlySpan<float>(a.Data + i * a.RowStride, k), bColumn);
                float* ci = c + i * ldc + j;
                *ci = accumulate ? *ci + dot : dot;
            }
        }
    }

    private static void Axpy(GemmOperand a, GemmOperand b, float* c, nint ldc, int m, int j0, int j1, int k, bool accumulate)
    {
        for (int jc = j0; jc < j1; jc += Chunk)
        {
            int len = Math.Min(Chunk, j1 - jc);
            if (!accumulate)
                for (int i = 0; i < m; i++) new Span<float>(c + i * ldc + jc, len).Clear();
            for (int p = 0; p < k; p++)
            {
                float* bRow = b.Data + p * b.RowStride + jc;
                for (int i = 0; i < m; i++) AxpyRow(a.Data[i * a.RowStride + p], bRow, c + i * ldc + jc, len);
            }
        }
    }

    /// <summary>y[0..len) += alpha·x[0..len), widest vectors first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AxpyRow(float alpha, float* x, float* y, int len)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var va = Vector512.Create(alpha);
            for (; j + 16 <= len; j += 16)
                Vector512.Store(Vector512.FusedMultiplyAdd(va, Vector512.Load(x + j), Vector512.Load(y + j)), y + j);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(alpha);
            for (; j + 8 <= len; j += 8)
                Vector256.Store(Vector256.MultiplyAddEstimate(va, Vector256.Load(x + j), Vector256.Load(y + j)), y + j);
        }
        if (Vector128.IsHardwareAccelerated)
        {
            var va = Vector128.Create(alpha);
            for (; j + 4 <= len; j += 4)
                Vector128.Store(Vector128.MultiplyAddEstimate(va, Vector128.Load(x + j), Vector128.Load(y + j)), y + j);
        }
        for (; j < len; j++) y[j] += alpha * x[j];
    }
}
