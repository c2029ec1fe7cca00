using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AttentionLab.Diagnostics;

/// <summary>
/// Measures this machine's single-precision FMA peak: a loop of independent fused multiply-adds on
/// registers only (no memory traffic), on one thread and on <c>threads</c> threads at once. It is the
/// ceiling a GEMM is judged against ("% of peak"), measured in the same run because clocks, turbo and
/// whatever else shares the cores move it.
/// <para>Each worker reads the clock itself, just before and just after its loop, and a run lasts from the
/// earliest start to the latest end. (Starting one clock on the calling thread after releasing the workers
/// missed however long the workers ran before that thread was scheduled again: on 2 busy cores the 2-thread
/// figure read ~630 GFLOP/s against ~227 on one thread, an impossible 2.8×.) Each figure is the median of
/// the repeats, and the all-threads figure is capped at threads × the one-thread figure, the most that
/// independent register-only loops can give.</para>
/// </summary>
public static class FmaPeak
{
    /// <summary>GFLOP/s (2 per lane per FMA) of the widest accelerated vector: the median of
    /// <paramref name="repeat"/> runs on one thread, and of as many on <paramref name="threads"/> threads,
    /// the latter at most <paramref name="threads"/> × the former.</summary>
    public static (double SingleThread, double AllThreads) Measure(int threads, int repeat = 8, long iterations = 10_000_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeat, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        Loop(1000); // compile and warm up
        var m = Measure(threads, repeat, Stopwatch.GetTimestamp, Stopwatch.Frequency,
            (_, n) => Loop(n), iterations, FlopsPerIteration);
        return (m.SingleThread, m.AllThreads);
    }

    /// <summary>The better of two measurements taken around a benchmark (before and after it): on a shared machine one
    /// short measurement can land in a busy moment, and a low peak makes every "% of peak" too good. Each measurement is
    /// capped at threads × its own one-thread figure; the pair keeps that cap. On one thread the figure is the one-thread one.</summary>
    public static (double SingleThread, double AllThreads) Better((double SingleThread, double AllThreads) before,
        (double SingleThread, double AllThreads) after, int threads)
    {
        double one = Math.Max(before.SingleThread, after.SingleThread);
        return (one, threads == 1 ? one : Math.Min(Math.Max(before.AllThreads, after.AllThreads), threads * one));
    }

    /// <summary>What one <see cref="Measure(int, int, Func{long}, long, Func{int, long, float}, long, int)"/> found:
    /// the medians, and the all-threads median before the cap (reported so a capped figure is visible).</summary>
    internal sealed record Result(double SingleThread, double AllThreads, double AllThreadsUncapped);

    /// <summary>The probe with its clock and its work injected (tests give a fake clock or a sleeping loop).</summary>
    /// <param name="clock">Timestamp in ticks, read by each worker on its own thread.</param>
    /// <param name="loop">(worker index, iterations) → a sink value; the work each worker times.</param>
    internal static Result Measure(int threads, int repeat, Func<long> clock, long ticksPerSecond,
        Func<int, long, float> loop, long iterations, int flopsPerIteration)
    {
        var one = new double[repeat];
        var all = new double[repeat];
        for (int r = 0; r < repeat; r++)
        {
            one[r] = Gflops(1, iterations, flopsPerIteration, TimeWorkers(1, clock, ticksPerSecond, w => loop(w, iterations)));
            all[r] = Gflops(threads, iterations, flopsPerIteration, TimeWorkers(threads, clock, ticksPerSecond, w => loop(w, iterations)));
        }
        return Summarize(one, all, threads);
    }

    /// <summary>Median of each list; the all-threads median capped at <paramref name="threads"/> × the
    /// one-thread median.</summary>
    internal static Result Summarize(IReadOnlyList<double> singleThreadRuns, IReadOnlyList<double> allThreadRuns, int threads)
    {
        double one = Median(singleThreadRuns), all = Median(allThreadRuns);
        return new Result(one, Math.Min(all, threads * one), all);
    }

    /// <summary>Runs <paramref name="work"/> on <paramref name="threads"/> threads released together; each
    /// reads <paramref name="clock"/> just before and just after its work. Returns the seconds from the
    /// earliest start to the latest end, so every worker's whole run is inside the interval.</summary>
    internal static double TimeWorkers(int threads, Func<long> clock, long ticksPerSecond, Func<int, float> work)
    {
        var starts = new long[threads];
        var ends = new long[threads];
        var sinks = new float[threads];
        using var go = new Barrier(threads);
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() =>
            {
                go.SignalAndWait();
                starts[id] = clock();
                sinks[id] = work(id);
                ends[id] = clock();
            }) { IsBackground = true };
            workers[t].Start();
        }
        foreach (var w in workers) w.Join();
        GC.KeepAlive(sinks);
        return (ends.Max() - starts.Min()) / (double)ticksPerSecond;
    }

    private static double Gflops(int threads, long iterations, int flopsPerIteration, double seconds) =>
        threads * (double)iterations * flopsPerIteration / seconds / 1e9;

    private static double Median(IReadOnlyList<double> values)
    {
        ArgumentOutOfRangeException.ThrowIfZero(values.Count);
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /// <summary>12 FMAs per iteration on 12 independent accumulators (≥ latency × pipes = 4 × 2 on Zen 5).</summary>
    private static int FlopsPerIteration =>
        12 * 2 * (Vector512.IsHardwareAccelerated ? 16 : Vector256.IsHardwareAccelerated ? 8 : Vector128.IsHardwareAccelerated ? 4 : 1);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop(long iterations)
    {
        if (Vector512.IsHardwareAccelerated) return Loop512(iterations);
        if (Vector256.IsHardwareAccelerated) return Loop256(iterations);
        if (Vector128.IsHardwareAccelerated) return Loop128(iterations);
        float x = 1f, y = 1e-7f, s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0, s8 = 0, s9 = 0, s10 = 0, s11 = 0;
        for (long i = 0; i < iterations; i++)
        {
            s0 = s0 * x + y; s1 = s1 * x + y; s2 = s2 * x + y; s3 = s3 * x + y; s4 = s4 * x + y; s5 = s5 * x + y;
            s6 = s6 * x + y; s7 = s7 * x + y; s8 = s8 * x + y; s9 = s9 * x + y; s10 = s10 * x + y; s11 = s11 * x + y;
        }
        return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + s11;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop512(long iterations)
    {
        var x = Vector512.Create(1f); var y = Vector512.Create(1e-7f);
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default;
        Vector512<float> s6 = default, s7 = default, s8 = default, s9 = default, s10 = default, s11 = default;
        for (long i = 0; i < iterations; i++)
        {
            s0 = Vector512.FusedMultiplyAdd(s0, x, y); s1 = Vector512.FusedMultiplyAdd(s1, x, y);
            s2 = Vector512.FusedMultiplyAdd(s2, x, y); s3 = Vector512.FusedMultiplyAdd(s3, x, y);
            s4 = Vector512.FusedMultiplyAdd(s4, x, y); s5 = Vector512.FusedMultiplyAdd(s5, x, y);
            s6 = Vector512.FusedMultiplyAdd(s6, x, y); s7 = Vector512.FusedMultiplyAdd(s7, x, y);
            s8 = Vector512.FusedMultiplyAdd(s8, x, y); s9 = Vector512.FusedMultiplyAdd(s9, x, y);
            s10 = Vector512.FusedMultiplyAdd(s10, x, y); s11 = Vector512.FusedMultiplyAdd(s11, x, y);
        }
        return Vector512.Sum(s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + s11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop256(long iterations)
    {
        var x = Vector256.Create(1f); var y = Vector256.Create(1e-7f);
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default;
        Vector256<float> s6 = default, s7 = default, s8 = default, s9 = default, s10 = default, s11 = default;
        for (long i = 0; i < iterations; i++)
        {
            s0 = Vector256.MultiplyAddEstimate(s0, x, y); s1 = Vector256.MultiplyAddEstimate(s1, x, y);
            s2 = Vector256.MultiplyAddEstimate(s2, x, y); s3 = Vector256.MultiplyAddEstimate(s3, x, y);
            s4 = Vector256.MultiplyAddEstimate(s4, x, y); s5 = Vector256.MultiplyAddEstimate(s5, x, y);
            s6 = Vector256.MultiplyAddEstimate(s6, x, y); s7 = Vector256.MultiplyAddEstimate(s7, x, y);
            s8 = Vector256.MultiplyAddEstimate(s8, x, y); s9 = Vector256.MultiplyAddEstimate(s9, x, y);
            s10 = Vector256.MultiplyAddEstimate(s10, x, y); s11 = Vector256.MultiplyAddEstimate(s11, x, y);
        }
        return Vector256.Sum(s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + s11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop128(long iterations)
    {
        var x = Vector128.Create(1f); var y = Vector128.Create(1e-7f);
        Vector128<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default;
        Vector128<float> s6 = default, s7 = default, s8 = default, s9 = default, s10 = default, s11 = default;
        for (long i = 0; i < iterations; i++)
        {
            s0 = Vector128.MultiplyAddEstimate(s0, x, y); s1 = Vector128.MultiplyAddEstimate(s1, x, y);
            s2 = Vector128.MultiplyAddEstimate(s2, x, y); s3 = Vector128.MultiplyAddEstimate(s3, x, y);
            s4 = Vector128.MultiplyAddEstimate(s4, x, y); s5 = Vector128.MultiplyAddEstimate(s5, x, y);
            s6 = Vector128.MultiplyAddEstimate(s6, x, y); s7 = Vector128.MultiplyAddEstimate(s7, x, y);
            s8 = Vector128.MultiplyAddEstimate(s8, x, y); s9 = Vector128.MultiplyAddEstimate(s9, x, y);
            s10 = Vector128.MultiplyAddEstimate(s10, x, y); s11 = Vector128.MultiplyAddEstimate(s11, x, y);
        }
        return Vector128.Sum(s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + s11);
    }
}
