using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AttentionLab.Kernels;

namespace AttentionLab.Tests.Kernels;

/// <summary>
/// The fast GEMM against <see cref="GemmReference"/>: every transpose form, with and without accumulate,
/// every micro-kernel this machine supports, sizes that hit every SIMD and tile remainder, cache-block
/// and thread-split boundaries. CI reruns the Simd category with DOTNET_EnableAVX512=0 and
/// DOTNET_EnableAVX2=0, which moves <see cref="Gemm.Isa"/> (and the small-m path's vectors) down a level.
/// </summary>
[Trait("Category", "Simd")]
public class GemmTests
{
    private static readonly (bool TransposeA, bool TransposeB)[] Forms = [(false, false), (false, true), (true, false), (true, true)];

    public static TheoryData<GemmIsa> SupportedIsas()
    {
        var data = new TheoryData<GemmIsa>();
        foreach (var isa in Enum.GetValues<GemmIsa>()) if (Gemm.IsSupported(isa)) data.Add(isa);
        return data;
    }

    /// <summary>Sizes 0..70 in each dimension in turn (the others held at awkward odd values), so every
    /// remainder modulo MR (12/6/4), NR (32/16/8/4) and the 4-wide transpose-pack is met, plus the
    /// few-rows paths (m ≤ 8) and k = 0.</summary>
    public static IEnumerable<(int M, int N, int K)> EdgeSizes()
    {
        for (int d = 0; d <= 70; d++)
        {
            yield return (d, 37, 19);
            yield return (29, d, 23);
            yield return (33, 17, d);
        }
    }

    /// <summary>A spread of sizes up to 257 (not the full cross product, which would take minutes).</summary>
    public static IEnumerable<(int M, int N, int K)> SpreadSizes()
    {
        int[] s = [1, 5, 13, 31, 64, 65, 100, 127, 129, 200, 257];
        for (int i = 0; i < s.Length; i++) yield return (s[i], s[(i + 3) % s.Length], s[(i + 7) % s.Length]);
    }

    [Theory]
    [MemberData(nameof(SupportedIsas))]
    public void EveryFormAndEdgeSizeMatchesReference(GemmIsa isa)
    {
        var random = new Random(1);
        foreach (var (m, n, k) in EdgeSizes().Concat(SpreadSizes()))
            foreach (var (ta, tb) in Forms)
                foreach (bool accumulate in new[] { false, true })
                    Check(random, m, n, k, ta, tb, accumulate, maxThreads: 1, isa);
    }

    [Theory]
    [MemberData(nameof(SupportedIsas))]
    public void SmallBlocksCrossEveryCacheBlockBoundary(GemmIsa isa)
    {
        // Blocks far smaller than production ones so that jc, pc and ic each take several (ragged) steps
        // at test-sized shapes; MC and NC deliberately not multiples of the tile.
        var blocks = new GemmBlockSizes(MC: 17, KC: 13, NC: 45);
        var random = new Random(2);
        foreach (var (m, n, k) in new[] { (50, 100, 40), (37, 91, 27), (13, 45, 13) })
            foreach (var (ta, tb) in Forms)
                foreach (bool accumulate in new[] { false, true })
                    Check(random, m, n, k, ta, tb, accumulate, maxThreads: 1, isa, blocks);
    }

    [Fact]
    public void ProductionBlocksAndBothThreadSplitsMatchReference()
    {
        var random = new Random(3);
        // Crosses NC = 3072 and KC = 256 (AVX-512 blocks) and is split across columns.
        Check(random, 20, 3100, 270, false, true, accumulate: true, maxThreads: 0, Gemm.Isa);
        // Crosses MC and is split across rows (C tall and narrow).
        Check(random, 400, 40, 300, true, false, accumulate: false, maxThreads: 0, Gemm.Isa);
        Check(random, 203, 150, 260, false, false, accumulate: false, maxThreads: 0, Gemm.Isa);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(8)]
    public void FewRowsPathMatchesReferenceSerialAndParallel(int m)
    {
        var random = new Random(4 + m);
        foreach (var (ta, tb) in Forms)
            foreach (bool accumulate in new[] { false, true })
            {
                Check(random, m, 3 * 256 + 7, 75, ta, tb, accumulate, maxThreads: 0, Gemm.Isa); // threaded, ragged chunk
                Check(random, m, 9, 300, ta, tb, accumulate, maxThreads: 1, Gemm.Isa);
            }
    }

    /// <summary>One row from a row-major B (a decode step) streams B row by row (RowStream, Vector512): every remainder
    /// of its 16-column vectors (n = 0..70) and of its eight rows per pass (k = 0..70), and a tile boundary (n &gt; 2048).</summary>
    [Fact]
    public void OneRowMatchesReferenceAtEveryRemainder()
    {
        var random = new Random(6);
        foreach (bool accumulate in new[] { false, true })
        {
            for (int d = 0; d <= 70; d++)
            {
                Check(random, 1, d, 37, false, false, accumulate, maxThreads: 1, Gemm.Isa);
                Check(random, 1, 67, d, false, false, accumulate, maxThreads: 1, Gemm.Isa);
            }
            Check(random, 1, 2048 + 16 + 5, 11, false, false, accumulate, maxThreads: 1, Gemm.Isa);
        }
    }

    [Fact]
    public void PublicEntryUsesTheWidestSupportedIsa()
    {
        var expected = Avx512F.IsSupported ? GemmIsa.Avx512
            : Avx2.IsSupported && Fma.IsSupported ? GemmIsa.Avx2
            : Vector128.IsHardwareAccelerated ? GemmIsa.Vector128 : GemmIsa.Scalar;
        Assert.Equal(expected, Gemm.Isa);
        var random = new Random(5);
        var (a, b, c) = (Random(random, 30 * 40), Random(random, 40 * 50), new float[30 * 50]);
        var expectedC = new float[30 * 50];
        Gemm.Multiply(a, b, c, 30, 50, 40, transposeB: false);
        GemmReference.Multiply(a, b, expectedC, 30, 50, 40);
        for (int i = 0; i < c.Length; i++) Assert.Equal(expectedC[i], c[i], 1e-4f);
    }

    [Fact]
    public void SteadyStateSingleThreadedCallsAllocateNothing()
    {
        // Pack buffers are per-thread and reused; only the hand-off to other cores (Parallel.For) allocates.
        var (a, b, c) = (new float[100 * 300], new float[300 * 200], new float[100 * 200]);
        Gemm.Multiply(a, b, c, 100, 200, 300, false, true, maxThreads: 1);
        Gemm.Multiply(a, b, c, 2, 200, 300, false, false, maxThreads: 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Gemm.Multiply(a, b, c, 100, 200, 300, false, true, maxThreads: 1);
        Gemm.Multiply(a, b, c, 100, 200, 300, true, false, accumulate: true, maxThreads: 1);
        Gemm.Multiply(a, b, c, 2, 200, 300, false, false, maxThreads: 1);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void ValidatesArguments()
    {
        var x = new float[12];
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(x, x, new float[12], 3, 4, 5));
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(x, x, new float[11], 3, 4, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(x, x, x, -1, 4, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(x, x, new float[12], 3, 4, 1, maxThreads: -1));
        var buffer = new float[40];
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(buffer.AsSpan(0, 12), x, buffer.AsSpan(8, 12), 3, 4, 4));
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(x, buffer.AsSpan(0, 16), buffer.AsSpan(15, 12), 3, 4, 4));
        Gemm.Multiply(buffer.AsSpan(0, 12), buffer.AsSpan(12, 16), buffer.AsSpan(28, 12), 3, 4, 4); // adjacent is fine
    }

    /// <summary>
    /// Runs one product and compares every element with the double-accumulating reference. Tolerance:
    /// a float32 sum of k products (any order, FMA or not) satisfies |ĉ − c| ≤ γ_k·Σ|a||b| with
    /// γ_k ≈ k·u, u = 2⁻²⁴ (Higham, Accuracy and Stability of Numerical Algorithms, §3.1); adding the old
    /// C and the block partial sums costs a few more roundings, hence (k + 3)·u·(Σ|a||b| + |c₀|). This is a
    /// bound, not an estimate, so a correct kernel cannot fail it, while a dropped, doubled or misplaced
    /// term is off by about Σ|a||b| / k, hundreds of times the tolerance.
    /// </summary>
    private static void Check(Random random, int m, int n, int k, bool ta, bool tb, bool accumulate,
        int maxThreads, GemmIsa isa, GemmBlockSizes? blocks = null)
    {
        var a = Random(random, m * k);
        var b = Random(random, k * n);
        var c0 = Random(random, m * n);
        var actual = (float[])c0.Clone();
        var expected = (float[])c0.Clone();
        var bound = c0.Select(Math.Abs).ToArray();
        if (!accumulate) Array.Fill(bound, 0f);

        Gemm.Multiply(a, b, actual, m, n, k, ta, tb, accumulate, maxThreads, isa, blocks);
        GemmReference.Multiply(a, b, expected, m, n, k, ta, tb, accumulate);
        GemmReference.Multiply(a.Select(Math.Abs).ToArray(), b.Select(Math.Abs).ToArray(), bound, m, n, k, ta, tb, accumulate: true);

        double u = Math.Pow(2, -24);
        for (int i = 0; i < m * n; i++)
        {
            double tolerance = (k + 3) * u * bound[i] + 1e-30;
            double error = Math.Abs(actual[i] - expected[i]);
            if (!(error <= tolerance))
                Assert.Fail($"{isa} {(ta ? 'T' : 'N')}{(tb ? 'T' : 'N')} m={m} n={n} k={k} acc={accumulate}: C[{i / n},{i % n}] = {actual[i]}, reference {expected[i]}, |error| {error:E2} > {tolerance:E2}");
        }
    }

    private static float[] Random(Random random, int length)
    {
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        return x;
    }
}
