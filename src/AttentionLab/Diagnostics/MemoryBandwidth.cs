using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace AttentionLab.Diagnostics;

/// <summary>One kernel on one thread count: the best of the repeats.</summary>
/// <param name="Kernel">"read" (Σ a[i]) or "triad" (a[i] = b[i] + s·c[i], STREAM's)</param>
/// <param name="Bytes">bytes the kernel moves per pass, counted as STREAM counts them: read 4·N, triad 3·4·N
/// (the write-allocate read of a is not counted)</param>
public sealed record MemoryBandwidthResult(string Kernel, int Threads, long Bytes, double Seconds, double GigabytesPerSecond);

/// <summary>What <c>attnlab bench memory</c> measured.</summary>
/// <param name="BufferBytes">the read buffer; the triad's three arrays are a third of it each</param>
public sealed record MemoryBandwidthReport(long BufferBytes, int Repeats, IReadOnlyList<MemoryBandwidthResult> Results)
{
    /// <summary>The read figure (GB/s) on <paramref name="threads"/> threads, or on the most threads measured below it.</summary>
    public double Read(int threads) =>
        Results.Where(r => r.Kernel == "read" && r.Threads <= threads).OrderByDescending(r => r.Threads).Select(r => r.GigabytesPerSecond).FirstOrDefault();
}

/// <summary>
/// The machine's memory bandwidth, the roof every memory-bound figure (a generation step streams all its weights) is
/// held against. STREAM-like (McCalpin): a sum over a buffer far larger than the caches (<c>read</c>) and the triad
/// <c>a = b + s·c</c> over three such arrays, each split into one contiguous share per thread, every worker timing itself
/// from the same barrier (as <see cref="FmaPeak"/>: the run lasts from the earliest start to the latest end); the best
/// of the repeats is kept, as STREAM does. The buffers are written before timing, so every page is resident.
/// GB/s are 10⁹ bytes per second.
/// </summary>
public static class MemoryBandwidth
{
    /// <summary>512 MiB: far beyond any L3 of this project's machines (32 MiB per EPYC CCD).</summary>
    public const long DefaultBufferBytes = 512L << 20;

    /// <param name="threadCounts">e.g. [1, 2]; each at most <see cref="Environment.ProcessorCount"/></param>
    /// <param name="progress">one line per measurement as it finishes</param>
    public static MemoryBandwidthReport Measure(IReadOnlyList<int> threadCounts, long bufferBytes = DefaultBufferBytes, int repeats = 5,
        IProgress<MemoryBandwidthResult>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(threadCounts);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        if (bufferBytes < 3 * 4 * 1024 || bufferBytes / 4 > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(bufferBytes), "the buffer must be 12 KiB .. 8 GiB");
        foreach (int t in threadCounts)
            if (t < 1 || t > Environment.ProcessorCount) throw new ArgumentOutOfRangeException(nameof(threadCounts), $"{t} threads: this machine has {Environment.ProcessorCount} cores");
        int n = (int)(bufferBytes / 4), third = n / 3;
        var read = new float[n];
        var a = new float[third];
        var b = new float[third];
        var c = new float[third];
        read.AsSpan().Fill(1f); b.AsSpan().Fill(1f); c.AsSpan().Fill(2f); a.AsSpan().Fill(0f);     // every page resident
        var results = new List<MemoryBandwidthResult>();
        foreach (int threads in threadCounts)
        {
            var r = Best("read", threads, 4L * n, repeats, id => { var (s, len) = Share(n, threads, id); return Sum(read.AsSpan(s, len)); });
            results.Add(r); progress?.Report(r);
            r = Best("triad", threads, 3 * 4L * third, repeats, id =>
            {
                var (s, len) = Share(third, threads, id);
                TensorPrimitives.MultiplyAdd(c.AsSpan(s, len), 3f, b.AsSpan(s, len), a.AsSpan(s, len));        // a = c·s + b
                return a[s];
            });
            results.Add(r); progress?.Report(r);
        }
        return new MemoryBandwidthReport(4L * n, repeats, results);
    }

    private static MemoryBandwidthResult Best(string kernel, int threads, long bytes, int repeats, Func<int, float> work)
    {
        work(0);                                                                                      // compile
        double best = double.PositiveInfinity;
        for (int i = 0; i < repeats; i++)
            best = Math.Min(best, FmaPeak.TimeWorkers(threads, Stopwatch.GetTimestamp, Stopwatch.Frequency, work));
        return new MemoryBandwidthResult(kernel, threads, bytes, best, bytes / best / 1e9);
    }

    /// <summary>Σ x with four independent vector accumulators (one would bind the loop to the add's latency, not to
    /// memory), widest vectors first.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static float Sum(ReadOnlySpan<float> x)
    {
        ref float r = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        int i = 0;
        float total = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; i + 64 <= x.Length; i += 64)
            {
                s0 += Vector512.LoadUnsafe(ref r, (nuint)i); s1 += Vector512.LoadUnsafe(ref r, (nuint)(i + 16));
                s2 += Vector512.LoadUnsafe(ref r, (nuint)(i + 32)); s3 += Vector512.LoadUnsafe(ref r, (nuint)(i + 48));
            }
            total = Vector512.Sum(s0 + s1 + s2 + s3);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; i + 32 <= x.Length; i += 32)
            {
                s0 += Vector256.LoadUnsafe(ref r, (nuint)i); s1 += Vector256.LoadUnsafe(ref r, (nuint)(i + 8));
                s2 += Vector256.LoadUnsafe(ref r, (nuint)(i + 16)); s3 += Vector256.LoadUnsafe(ref r, (nuint)(i + 24));
            }
            total = Vector256.Sum(s0 + s1 + s2 + s3);
        }
        return total + TensorPrimitives.Sum(x[i..]);
    }

    /// <summary>Worker <paramref name="id"/>'s contiguous share of n elements.</summary>
    private static (int Start, int Length) Share(int n, int threads, int id)
    {
        int start = (int)((long)n * id / threads), end = (int)((long)n * (id + 1) / threads);
        return (start, end - start);
    }
}
