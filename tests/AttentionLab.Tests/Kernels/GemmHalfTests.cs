using System.Runtime.Intrinsics;
using AttentionLab.Kernels;

namespace AttentionLab.Tests.Kernels;

/// <summary>
/// The 16-bit-weight product against <see cref="GemmHalfReference"/> (each weight widened one at a time, sums in
/// double), both forms (B and Bᵀ), with and without accumulate, every remainder of the 64/32/16-column blocks and of
/// the 32/16/8-weight dot steps, one row streamed in address order (every remainder of its vectors and rows per pass, bit for
/// bit the float32 kernel's result on the widened weights), the few-row path (m ≤ 8) and the widened-panel path (m &gt; 8, panels narrower than
/// n included), one thread and the column split. The error bound is float32 summation's, (k + 3)·2⁻²⁴·Σ|a·b|: the
/// widening itself is exact. CI reruns the Simd category with DOTNET_EnableAVX512=0 and DOTNET_EnableAVX2=0, which
/// sends the same cases through the Vector256, Vector128 and scalar paths.
/// </summary>
[Trait("Category", "Simd")]
public class GemmHalfTests
{
    public static TheoryData<WeightFormat> Formats() => new() { WeightFormat.BF16, WeightFormat.F16 };

    [Theory]
    [MemberData(nameof(Formats))]
    public void VectorWideningEqualsTheScalarOneForEveryFinitePattern(WeightFormat format)
    {
        var bits = Enumerable.Range(0, 65536).Select(i => (ushort)i).Where(b => IsFinite(b, format)).ToArray();
        var widened = new float[bits.Length];
        HalfConversion.Widen(bits, format, widened);
        for (int i = 0; i < bits.Length; i++)
        {
            float expected = HalfConversion.ToSingle(bits[i], format);
            if (BitConverter.SingleToInt32Bits(widened[i]) != BitConverter.SingleToInt32Bits(expected))
                Assert.Fail($"{format} 0x{bits[i]:X4}: vector {widened[i]:R}, scalar {expected:R}");
        }
        // the scalar reference is the format's definition: BF16 the top half of a float32, F16 IEEE half
        Assert.Equal(1f, HalfConversion.ToSingle(format == WeightFormat.BF16 ? (ushort)0x3F80 : (ushort)0x3C00, format));
        Assert.Equal(-2f, HalfConversion.ToSingle(format == WeightFormat.BF16 ? (ushort)0xC000 : (ushort)0xC000, format));
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void NarrowingRoundsToTheNearestValueTiesToEven(WeightFormat format)
    {
        var random = new Random(3);
        for (int t = 0; t < 20000; t++)
        {
            float x = (float)((random.NextDouble() * 2 - 1) * Math.Pow(2, random.Next(-20, 15)));
            ushort q = HalfConversion.FromSingle(x, format);
            double error = Math.Abs(HalfConversion.ToSingle(q, format) - (double)x);
            // neither neighbour of the chosen value is closer
            foreach (int step in new[] { -1, 1 })
            {
                ushort neighbour = (ushort)(q + step);
                if (!IsFinite(neighbour, format) || ((neighbour ^ q) & 0x8000) != 0) continue;
                double other = Math.Abs(HalfConversion.ToSingle(neighbour, format) - (double)x);
                Assert.True(error < other || (error == other && (q & 1) == 0), $"{format} {x:R} → 0x{q:X4}, but 0x{neighbour:X4} is nearer");
            }
        }
        // a tie goes to the even pattern: 1 + 2⁻⁸ lies halfway between BF16's 1 and 1 + 2⁻⁷; 1 + 2⁻¹¹ between F16's 1 and 1 + 2⁻¹⁰
        float tie = format == WeightFormat.BF16 ? 1f + 1f / 256 : 1f + 1f / 2048;
        Assert.Equal(1f, HalfConversion.ToSingle(HalfConversion.FromSingle(tie, format), format));
        if (format == WeightFormat.F16) Assert.Throws<OverflowException>(() => HalfConversion.FromSingle(70000f, format));
        Assert.Throws<OverflowException>(() => HalfConversion.FromSingle(float.NaN, format));
    }

    /// <summary>Sizes 0..70 in each dimension in turn, the others at awkward values, for few rows (m ≤ 8) and many.</summary>
    public static IEnumerable<(int M, int N, int K)> EdgeSizes()
    {
        for (int d = 0; d <= 70; d++)
        {
            yield return (1 + d % 8, d, 37);
            yield return (1 + d % 8, 67, d);
            yield return (d % 12, 35, 21);
        }
        yield return (1, 200, 45);                                                               // one row: streamed, 16-column vectors, then columns
        yield return (1, 128 + 64 + 32 + 16 + 7, 33);                                             // every block width once (no Vector512), then columns
        yield return (3, 200, 97);
        yield return (9, 130, 70);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void EveryFormAndEdgeSizeMatchesReference(WeightFormat format)
    {
        var random = new Random(1);
        foreach (var (m, n, k) in EdgeSizes())
            foreach (bool transpose in new[] { false, true })
                foreach (bool accumulate in new[] { false, true })
                    Check(random, format, m, n, k, transpose, accumulate, maxThreads: 1);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void ThreadSplitAndWidenedPanelsMatchReference(WeightFormat format)
    {
        var random = new Random(2);
        // few rows, enough work to split the columns (n ≥ 512, m·n·k ≥ the parallel threshold)
        foreach (bool transpose in new[] { false, true })
        {
            Check(random, format, 2, 700, 2300, transpose, accumulate: true, maxThreads: 0);
            Check(random, format, 1, 1300, 2400, transpose, accumulate: false, maxThreads: 0);   // m·n·k ≥ Gemm.ParallelThreshold
            // many rows and enough work for the cores: the panel is widened in parallel, then the threaded packed GEMM
            Check(random, format, 12, 600, 450, transpose, accumulate: true, maxThreads: 0);
            // many rows, a panel narrower than n (here 13 columns, the production panel is 2²² floats): C panel by panel
            foreach (bool accumulate in new[] { false, true })
                Check(random, format, 11, 60, 45, transpose, accumulate, maxThreads: 0, panelFloats: 13 * 45);
        }
    }

    /// <summary>One row (a decode step) streams B row by row (<see cref="RowStream"/> with Vector512): every remainder of
    /// its 16-column vectors (n = 0..70), of its sixteen 16-bit rows per pass (k = 0..70), a tile boundary (n &gt; 2048 columns)
    /// and the column split across threads.</summary>
    [Theory]
    [MemberData(nameof(Formats))]
    public void OneRowMatchesReferenceAtEveryRemainder(WeightFormat format)
    {
        var random = new Random(6);
        for (int d = 0; d <= 70; d++)
            foreach (bool accumulate in new[] { false, true })
            {
                Check(random, format, 1, d, 37, transpose: false, accumulate, maxThreads: 1);
                Check(random, format, 1, 67, d, transpose: false, accumulate, maxThreads: 1);
            }
        foreach (bool accumulate in new[] { false, true })
        {
            Check(random, format, 1, 2048 + 16 + 5, 11, transpose: false, accumulate, maxThreads: 1);    // two tiles, the second ragged
            Check(random, format, 1, 3 * 256 + 7, 4100, transpose: false, accumulate, maxThreads: 0);   // threaded, a ragged last chunk
        }
    }

    /// <summary>One row sums each column's products in the float32 kernel's order (p = 0 … k − 1, one fused multiply-add
    /// each, from zero, then added to C), so a 16-bit B gives exactly the bits of float32 <see cref="Gemm"/> on its
    /// widened values, at every ISA this run allows (the register blocks without Vector512 match each other too).</summary>
    [Theory]
    [MemberData(nameof(Formats))]
    public void OneRowGivesTheFloat32KernelsBitsOnTheWidenedWeights(WeightFormat format)
    {
        var random = new Random(7);
        foreach (var (n, k, threads) in new[] { (67, 37, 1), (16, 8, 1), (200, 45, 1), (2048 + 21, 19, 1), (3 * 256 + 7, 4100, 0) })
            foreach (bool accumulate in new[] { false, true })
            {
                var a = RandomFloats(random, k);
                var b = RandomWeights(random, k * n, format);
                var widened = new float[b.Length];
                HalfConversion.Widen(b, format, widened);
                var c0 = RandomFloats(random, n);
                var half = (float[])c0.Clone();
                var single = (float[])c0.Clone();
                GemmHalf.Multiply(a, b, format, half, 1, n, k, accumulate: accumulate, maxThreads: threads);
                Gemm.Multiply(a, widened, single, 1, n, k, accumulate: accumulate, maxThreads: threads);
                for (int j = 0; j < n; j++)
                    if (BitConverter.SingleToInt32Bits(half[j]) != BitConverter.SingleToInt32Bits(single[j]))
                        Assert.Fail($"{format} n={n} k={k} acc={accumulate}: C[{j}] = {half[j]:R} from 16 bits, {single[j]:R} from float32");
            }
    }

    /// <summary>The kernels' loaders widen every finite pattern to the scalar reference's float, bit for bit: sixteen at a
    /// time (Vector512 hardware; F16 by its sign-extending form), thirty-two as even and odd elements (the paired load,
    /// which sees each pattern once in a lane's low half and once in its high half), and one at a time.</summary>
    [Theory]
    [MemberData(nameof(Formats))]
    public unsafe void LoadersWidenEveryFinitePatternExactly(WeightFormat format)
    {
        var bits = Enumerable.Range(0, 65536).Select(i => (ushort)i).Where(b => IsFinite(b, format)).ToArray();
        var loaded = new float[bits.Length & ~15];
        var single = new float[bits.Length];
        fixed (ushort* w = bits)
        {
            for (int i = 0; i < bits.Length; i++)
                single[i] = format == WeightFormat.BF16 ? BFloat16Loader.Load1(w + i) : Float16Loader.Load1(w + i);
            if (Vector512.IsHardwareAccelerated)
                for (int i = 0; i < loaded.Length; i += 16)
                    (format == WeightFormat.BF16 ? BFloat16Loader.Load16(w + i) : Float16Loader.Load16(w + i)).CopyTo(loaded.AsSpan(i));
        }
        CheckPairedLoad(bits, format);
        CheckPairedLoad(bits.Skip(1).ToArray(), format);        // every pattern in the other half of its lane too
        for (int i = 0; i < bits.Length; i++)
        {
            int expected = BitConverter.SingleToInt32Bits(HalfConversion.ToSingle(bits[i], format));
            if (BitConverter.SingleToInt32Bits(single[i]) != expected)
                Assert.Fail($"{format} 0x{bits[i]:X4}: Load1 {single[i]:R}, reference {HalfConversion.ToSingle(bits[i], format):R}");
            if (Vector512.IsHardwareAccelerated && i < loaded.Length && BitConverter.SingleToInt32Bits(loaded[i]) != expected)
                Assert.Fail($"{format} 0x{bits[i]:X4}: Load16 {loaded[i]:R}, reference {HalfConversion.ToSingle(bits[i], format):R}");
        }
    }

    private static unsafe void CheckPairedLoad(ushort[] bits, WeightFormat format)
    {
        if (!Vector512.IsHardwareAccelerated) return;
        Assert.True(BFloat16Loader.Paired && Float16Loader.Paired && !Float32Loader.Paired);
        fixed (ushort* w = bits)
            for (int i = 0; i + 32 <= bits.Length; i += 32)
            {
                Vector512<float> even, odd;
                if (format == WeightFormat.BF16) BFloat16Loader.Load32(w + i, out even, out odd);
                else Float16Loader.Load32(w + i, out even, out odd);
                for (int q = 0; q < 16; q++)
                {
                    foreach (var (value, at) in new[] { (even[q], i + 2 * q), (odd[q], i + 2 * q + 1) })
                        if (BitConverter.SingleToInt32Bits(value) != BitConverter.SingleToInt32Bits(HalfConversion.ToSingle(bits[at], format)))
                            Assert.Fail($"{format} 0x{bits[at]:X4}: Load32 {value:R}, reference {HalfConversion.ToSingle(bits[at], format):R}");
                }
            }
    }

    private static void Check(Random random, WeightFormat format, int m, int n, int k, bool transpose, bool accumulate, int maxThreads,
        int panelFloats = GemmHalf.PanelFloats)
    {
        var a = RandomFloats(random, m * k);
        var b = RandomWeights(random, k * n, format);
        var c0 = RandomFloats(random, m * n);
        var actual = (float[])c0.Clone();
        var expected = (float[])c0.Clone();
        GemmHalf.Multiply(a, b, format, actual, m, n, k, transpose, accumulate, maxThreads, panelFloats);
        GemmHalfReference.Multiply(a, b, format, expected, m, n, k, transpose, accumulate);
        double u = Math.Pow(2, -24);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double bound = accumulate ? Math.Abs(c0[i * n + j]) : 0;
                for (int p = 0; p < k; p++)
                    bound += Math.Abs(a[i * k + p] * HalfConversion.ToSingle(transpose ? b[j * k + p] : b[p * n + j], format));
                double tolerance = (k + 3) * u * bound + 1e-30;
                double error = Math.Abs(actual[i * n + j] - expected[i * n + j]);
                if (!(error <= tolerance))
                    Assert.Fail($"{format} {(transpose ? "Bᵀ" : "B")} m={m} n={n} k={k} acc={accumulate}: C[{i},{j}] = {actual[i * n + j]}, reference {expected[i * n + j]}, |error| {error:E2} > {tolerance:E2}");
            }
    }

    private static bool IsFinite(ushort bits, WeightFormat format) =>
        format == WeightFormat.BF16 ? (bits & 0x7F80) != 0x7F80 : (bits & 0x7C00) != 0x7C00;

    private static float[] RandomFloats(Random random, int length)
    {
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        return x;
    }

    /// <summary>Uniform in (−1, 1) rounded to the format, with a few F16 subnormals (|w| &lt; 2⁻¹⁴) mixed in.</summary>
    private static ushort[] RandomWeights(Random random, int length, WeightFormat format)
    {
        var bits = new ushort[length];
        for (int i = 0; i < length; i++)
        {
            double w = random.NextDouble() * 2 - 1;
            if (i % 7 == 3) w *= 1e-5;
            bits[i] = HalfConversion.FromSingle((float)w, format);
        }
        return bits;
    }
}
