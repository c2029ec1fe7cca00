namespace AttentionLab.Models;

/// <summary>Splits row-wise work over the cores when it is big enough to pay for the hand-off.</summary>
internal static class ParallelRows
{
    /// <summary>Below this many elements of work one core is faster than two (fork/join costs a few µs).
    /// Tests set it to 0 to run every split path on small models (either value gives the same results).</summary>
    internal static long MinimumWork = 1 << 15;

    public static void For(int rows, long work, Action<int, int> body)
    {
        int workers = Math.Min(Environment.ProcessorCount, rows);
        if (workers <= 1 || work < MinimumWork) { body(0, rows); return; }
        Parallel.For(0, workers, w =>
        {
            int start = (int)((long)rows * w / workers), end = (int)((long)rows * (w + 1) / workers);
            body(start, end - start);
        });
    }
}
