namespace AttentionLab.Models;

/// <summary>Splits row-wise work over the cores when it is big enough to pay for the hand-off.</summary>
internal static class ParallelRows
{
    /// <summary>Below this many elements of work one core is faster than two (fork/join costs a few µs).</summary>
    public const long DefaultMinimumWork = 1 << 15;

    /// <summary>Calls body(start, count) over [0, rows) in one contiguous range per core, or once on this thread when
    /// <paramref name="work"/> is below <paramref name="minimumWork"/>.</summary>
    public static void For(int rows, long work, long minimumWork, Action<int, int> body)
    {
        int workers = Math.Min(Environment.ProcessorCount, rows);
        if (workers <= 1 || work < minimumWork) { body(0, rows); return; }
        Parallel.For(0, workers, w =>
        {
            int start = (int)((long)rows * w / workers), end = (int)((long)rows * (w + 1) / workers);
            body(start, end - start);
        });
    }
}
