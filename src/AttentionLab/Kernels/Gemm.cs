using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AttentionLab.Kernels;

/// <summary>The instruction sets the fast GEMM has a micro-kernel for, slowest first.</summary>
public enum GemmIsa { Scalar, Vector128, Avx2, Avx512 }

/// <summary>
/// The fast single-precision matrix multiply: same contract as <see cref="GemmReference.Multiply"/>
/// (row-major, <c>C[m×n] = op(A)·op(B)</c>, + C when accumulating). Cache-blocked and packed
/// (<see cref="GemmDriver{TKernel}"/>) around a register-tiled FMA micro-kernel chosen once for the
/// widest ISA the machine has; a dot/axpy path for a handful of rows (token-by-token generation); work
/// split over the cores when the product is big enough to repay the hand-off. Accumulates in float32.
/// See docs/gemm.md.
/// </summary>
public static unsafe class Gemm
{
    /// <summary>The micro-kernel this process uses (AVX-512, AVX2+FMA, Vector128 or scalar).</summary>
    public static GemmIsa Isa { get; } =
        Avx512F.IsSupported ? GemmIsa.Avx512
        : Avx2.IsSupported && Fma.IsSupported ? GemmIsa.Avx2
        : Vector128.IsHardwareAccelerated ? GemmIsa.Vector128
        : GemmIsa.Scalar;

    /// <summary>Products with fewer multiply-adds (m·n·k) than this run on the calling thread: below it
    /// the hand-off to a second core costs more than it saves (measured, see docs/gemm.md).</summary>
    internal const long ParallelThreshold = 3L << 20;

    /// <summary>A few-row product (a decode step) is bound by reading B, not by its m·n·k multiply-adds: it splits its
    /// columns over the cores once B is this many bytes (larger than a core's L2), because two cores read memory faster
    /// than one (`bench memory`: ~27 against ~21 GB/s on the 2-vCPU EPYC). GPT-2 124M's block matrices are 2.4–9.4 MB.</summary>
    internal const long SmallMParallelBytes = 1L << 20;

    /// <summary>The cores a product of this shape runs on: the few-row paths by the bytes of B they stream, the packed
    /// path by its multiply-adds. <paramref name="maxThreads"/> 0 = all.</summary>
    internal static int Threads(int m, int n, int k, bool smallM, int bytesPerWeight, int maxThreads)
    {
        bool parallel = smallM ? (long)n * k * bytesPerWeight >= SmallMParallelBytes : (long)m * n * k >= ParallelThreshold;
        return parallel ? Math.Min(maxThreads == 0 ? Environment.ProcessorCount : maxThreads, Environment.ProcessorCount) : 1;
    }

    /// <summary>At most this many rows of op(A) take the unpacked dot path (B transposed) instead of
    /// packing B; measured crossover ≈ 8 rows at k = 768 (docs/gemm.md).</summary>
    internal const int SmallMDot = 8;

    /// <summary>The same for the axpy path (B not transposed): at 8 rows it still takes half the time
    /// of the packed path (docs/gemm.md).</summary>
    internal const int SmallMAxpy = 8;

    /// <param name="a">op(A): stored (m, k), or (k, m) when <paramref name="transposeA"/>.</param>
    /// <param name="b">op(B): stored (k, n), or (n, k) when <paramref name="transposeB"/>.</param>
    /// <param name="c">(m, n), overwritten, or added to when <paramref name="accumulate"/>.</param>
    /// <param name="maxThreads">Cores to use; 0 means all (<see cref="Environment.ProcessorCount"/>).</param>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c,
        int m, int n, int k, bool transposeA = false, bool transposeB = false, bool accumulate = false, int maxThreads = 0)
    {
        Validate(a, b, c, m, n, k);
        ArgumentOutOfRangeException.ThrowIfNegative(maxThreads);
        // C is written while A and B are still being read (block by block), so it must not alias them.
        var cUsed = c[..(m * n)];
        if (cUsed.Overlaps(a[..(m * k)]) || cUsed.Overlaps(b[..(k * n)]))
            throw new ArgumentException("C must not overlap A or B");
        Multiply(a, b, c, m, n, k, transposeA, transposeB, accumulate, maxThreads, Isa);
    }

    /// <summary>The same, forcing one micro-kernel and optionally smaller cache blocks (so tests run
    /// every kernel the machine supports and cross block boundaries at small sizes).</summary>
    internal static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c,
        int m, int n, int k, bool transposeA, bool transposeB, bool accumulate, int maxThreads, GemmIsa isa,
        GemmBlockSizes? blocks = null)
    {
        Validate(a, b, c, m, n, k);
        if (!IsSupported(isa)) throw new PlatformNotSupportedException($"{isa} is not supported on this machine");
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate) c[..(m * n)].Clear();
            return;
        }
        fixed (float* pa = a, pb = b, pc = c)
        {
            var opA = GemmOperand.RowMajor(pa, m, k, transposeA);
            var opB = GemmOperand.RowMajor(pb, k, n, transposeB);
            bool smallM = m <= (transposeB ? SmallMDot : SmallMAxpy);
            int threads = Threads(m, n, k, smallM, sizeof(float), maxThreads);
            if (smallM) GemmSmallM.Run(opA, opB, pc, n, m, n, k, accumulate, threads);
            else RunBlocked(opA, opB, pc, m, n, k, accumulate, threads, isa, blocks ?? BlockSizes(isa));
        }
    }

    internal static bool IsSupported(GemmIsa isa) => isa switch
    {
        GemmIsa.Avx512 => Avx512F.IsSupported,
        GemmIsa.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        GemmIsa.Vector128 => Vector128.IsHardwareAccelerated,
        _ => true,
    };

    /// <summary>Cache blocks per micro-kernel: KC·NR·4 bytes of B micro-panel in L1 (48 KiB on Zen 5),
    /// MC·KC·4 of packed A in L2 (1 MiB), KC·NC·4 of packed B in L2/L3. Derivation in docs/gemm.md.</summary>
    internal static GemmBlockSizes BlockSizes(GemmIsa isa) => isa switch
    {
        GemmIsa.Avx512 => new(MC: 192, KC: 256, NC: 3072),
        GemmIsa.Avx2 => new(MC: 144, KC: 256, NC: 2048),
        GemmIsa.Vector128 => new(MC: 128, KC: 256, NC: 1024),
        _ => new(MC: 64, KC: 256, NC: 512),
    };

    /// <summary>Splits C into slabs — across columns when C is wide, else across rows, on micro-tile
    /// boundaries — and runs the blocked loops on each slab with the running thread's pack buffers.</summary>
    private static void RunBlocked(GemmOperand a, GemmOperand b, float* c, int m, int n, int k,
        bool accumulate, int threads, GemmIsa isa, GemmBlockSizes blocks)
    {
        if (threads == 1) RunSlab(a, b, c, n, m, n, k, accumulate, isa, blocks);
        else RunSlabsInParallel(a, b, c, m, n, k, accumulate, threads, isa, blocks);
    }

    // Separate from RunBlocked so the lambda's closure is only allocated when threads are used.
    private static void RunSlabsInParallel(GemmOperand a, GemmOperand b, float* c, int m, int n, int k,
        bool accumulate, int threads, GemmIsa isa, GemmBlockSizes blocks)
    {
        var (mr, nr) = TileShape(isa);
        bool splitColumns = n / nr >= m / mr;
        int tiles = splitColumns ? (n + nr - 1) / nr : (m + mr - 1) / mr;
        // A few slabs per thread, handed out as threads free up, so a core slowed by other work does not
        // hold up the rest; each slab at least MinSlabWidth rows or columns, because every slab re-packs
        // the operand the slabs share, which must stay small next to the slab's multiply (docs/gemm.md).
        int slabs = Math.Min(threads * SlabsPerThread, tiles * (splitColumns ? nr : mr) / MinSlabWidth);
        slabs = Math.Max(slabs, Math.Min(threads, tiles));
        Parallel.For(0, slabs, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            int first = (int)((long)tiles * t / slabs), last = (int)((long)tiles * (t + 1) / slabs);
            if (splitColumns)
            {
                int j0 = first * nr, j1 = Math.Min(n, last * nr);
                RunSlab(a, b.At(0, j0), c + j0, n, m, j1 - j0, k, accumulate, isa, blocks);
            }
            else
            {
                int i0 = first * mr, i1 = Math.Min(m, last * mr);
                RunSlab(a.At(i0, 0), b, c + (nint)i0 * n, n, i1 - i0, n, k, accumulate, isa, blocks);
            }
        });
    }

    private const int SlabsPerThread = 4;
    private const int MinSlabWidth = 512;

    private static void RunSlab(GemmOperand a, GemmOperand b, float* c, nint ldc, int m, int n, int k,
        bool accumulate, GemmIsa isa, GemmBlockSizes blocks)
    {
        switch (isa)
        {
            case GemmIsa.Avx512: GemmDriver<GemmKernelAvx512>.Run(a, b, c, ldc, m, n, k, accumulate, blocks); break;
            case GemmIsa.Avx2: GemmDriver<GemmKernelAvx2>.Run(a, b, c, ldc, m, n, k, accumulate, blocks); break;
            case GemmIsa.Vector128: GemmDriver<GemmKernelVector128>.Run(a, b, c, ldc, m, n, k, accumulate, blocks); break;
            default: GemmDriver<GemmKernelScalar>.Run(a, b, c, ldc, m, n, k, accumulate, blocks); break;
        }
    }

    private static (int MR, int NR) TileShape(GemmIsa isa) => isa switch
    {
        GemmIsa.Avx512 => (GemmKernelAvx512.MR, GemmKernelAvx512.NR),
        GemmIsa.Avx2 => (GemmKernelAvx2.MR, GemmKernelAvx2.NR),
        GemmIsa.Vector128 => (GemmKernelVector128.MR, GemmKernelVector128.NR),
        _ => (GemmKernelScalar.MR, GemmKernelScalar.NR),
    };

    internal static void Validate(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), "matrix sizes must be non-negative");
        if (a.Length < (long)m * k) throw new ArgumentException($"A has {a.Length} elements, needs {(long)m * k}");
        if (b.Length < (long)k * n) throw new ArgumentException($"B has {b.Length} elements, needs {(long)k * n}");
        if (c.Length < (long)m * n) throw new ArgumentException($"C has {c.Length} elements, needs {(long)m * n}");
    }
}
