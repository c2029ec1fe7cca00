using System.Diagnostics;
using AttentionLab.Diagnostics;

namespace AttentionLab.Tests.Kernels;

public class FmaPeakTests
{
    /// <summary>Of a measurement before and one after a benchmark, each figure keeps the higher reading (a low one is a
    /// busy moment), and the all-threads figure stays at most threads × the one-thread figure.</summary>
    [Fact]
    public void BetterOfTwoKeepsEachHigherReadingUnderTheCap()
    {
        Assert.Equal((110.0, 220.0), FmaPeak.Better((100, 150), (110, 300), threads: 2));  // 300 capped at 2 × 110
        Assert.Equal((115.0, 210.0), FmaPeak.Better((115, 210), (60, 117), threads: 2));  // the busy "after" is ignored
        Assert.Equal((115.0, 115.0), FmaPeak.Better((115, 100), (60, 117), threads: 1));
    }

    [Fact]
    public void RunLastsFromTheEarliestWorkerStartToTheLatestEnd()
    {
        // A fake clock that counts its reads: 3 workers read it 6 times (start and end each), so a run that
        // is timed inside the workers spans exactly reads 1..6 = 5 ticks whatever the interleaving. A clock
        // started or stopped on the calling thread would add reads and change the span.
        long reads = 0;
        double seconds = FmaPeak.TimeWorkers(3, () => Interlocked.Increment(ref reads), 1, _ => 0f);
        Assert.Equal(6, reads);
        Assert.Equal(5, seconds);
    }

    [Fact]
    public void RunCoversTheSlowestWorker()
    {
        // worker w sleeps 30·(w+1) ms: the run must last at least as long as the slowest (90 ms)
        double seconds = FmaPeak.TimeWorkers(3, Stopwatch.GetTimestamp, Stopwatch.Frequency,
            w => { Thread.Sleep(30 * (w + 1)); return 0f; });
        Assert.InRange(seconds, 0.090, 10);
    }

    [Fact]
    public void FiguresAreMediansAndAllThreadsIsCappedAtThreadsTimesOne()
    {
        // the bug this guards against: one lucky 2-thread run of 630 against ~227 on one thread
        var capped = FmaPeak.Summarize([227, 150, 230], [630, 640, 300], threads: 2);
        Assert.Equal(227, capped.SingleThread);         // median, not the best (230)
        Assert.Equal(630, capped.AllThreadsUncapped);   // median of the 2-thread runs
        Assert.Equal(2 * 227, capped.AllThreads);       // ≤ 2 × the one-thread median

        var plausible = FmaPeak.Summarize([200, 210, 220, 400], [300, 390, 380, 10], threads: 2);
        Assert.Equal(215, plausible.SingleThread);      // even count: mean of the middle two
        Assert.Equal(340, plausible.AllThreads);        // under the cap: unchanged
        Assert.Equal(340, plausible.AllThreadsUncapped);
    }

    [Fact]
    public void SleepingWorkersGiveThePeakTheirTimingImplies()
    {
        // injected work: each "iteration batch" sleeps 20 ms, so one thread does 1e6 iterations × 24 flops in
        // 20 ms (≈ 1.2 GFLOP/s) and 2 threads, sleeping side by side, at most twice that
        var m = FmaPeak.Measure(2, 3, Stopwatch.GetTimestamp, Stopwatch.Frequency,
            (_, _) => { Thread.Sleep(20); return 0f; }, iterations: 1_000_000, flopsPerIteration: 24);
        double ideal = 1e6 * 24 / 0.020 / 1e9;
        Assert.InRange(m.SingleThread, 0.05 * ideal, ideal * 1.001); // a sleep lasts at least its time
        Assert.True(m.AllThreads <= 2 * m.SingleThread * (1 + 1e-12));
        Assert.True(m.AllThreadsUncapped <= 2 * ideal * 1.001);
    }

    [Fact]
    public void MeasuredPeakOnTwoThreadsIsAtMostTwiceOneThread()
    {
        var (one, all) = FmaPeak.Measure(2, repeat: 3, iterations: 200_000);
        Assert.True(one > 0 && double.IsFinite(one));
        Assert.InRange(all, 0, 2 * one * (1 + 1e-12));
    }
}
