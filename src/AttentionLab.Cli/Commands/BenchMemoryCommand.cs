using System.Globalization;
using System.Text.Json.Nodes;
using AttentionLab.Diagnostics;

namespace AttentionLab.Cli.Commands;

/// <summary><c>attnlab bench memory</c>: the machine's memory bandwidth (STREAM-like read and triad), the roof that
/// generation's figures are held against.</summary>
internal static class BenchMemoryCommand
{
    public const string Summary = "memory bandwidth: STREAM-like read and triad over a buffer far larger than the caches, GB/s [--threads 1,2] [--megabytes M] [--repeat R] [--json]";

    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        var a = new Args(argv);
        if (a.Help)
        {
            stdout.WriteLine("usage: attnlab bench memory [--threads 1,2] [--megabytes M] [--repeat R] [--json]");
            stdout.WriteLine("  --threads LIST   thread counts to measure (default 1,2, at most the cores)");
            stdout.WriteLine($"  --megabytes M    read buffer in MiB (default {MemoryBandwidth.DefaultBufferBytes >> 20}; the triad's three arrays are a third each)");
            stdout.WriteLine("  --repeat R       passes per kernel, the best kept (default 5)");
            stdout.WriteLine();
            stdout.WriteLine("read: Σ a[i] over the buffer (4 bytes an element); triad: a[i] = b[i] + s·c[i] (STREAM's count, 12 bytes an");
            stdout.WriteLine("element). Each thread takes one contiguous share; GB/s are 10^9 bytes per second.");
            return 0;
        }
        int cores = Environment.ProcessorCount;
        var threads = ParseThreads(a.String("threads"), cores);
        int megabytes = a.Int("megabytes", (int)(MemoryBandwidth.DefaultBufferBytes >> 20), 1, 8192);
        int repeat = a.Int("repeat", 5, 1, 1000);
        bool json = a.Json;
        a.EnsureAllUsed();

        var inv = CultureInfo.InvariantCulture;
        var progress = new SynchronousProgress<MemoryBandwidthResult>(r =>
            stderr.WriteLine(string.Create(inv, $"  {r.Kernel}, {r.Threads} thread(s): {r.GigabytesPerSecond:F1} GB/s")));
        var report = MemoryBandwidth.Measure(threads, (long)megabytes << 20, repeat, progress);
        if (json)
        {
            stdout.WriteLine(Json(report).ToJsonString());
            return 0;
        }
        stdout.WriteLine(string.Create(inv, $"memory bandwidth: {report.BufferBytes >> 20} MiB buffer, best of {report.Repeats}, {cores} logical cores"));
        stdout.WriteLine($"  {"kernel",-8} {"threads",7} {"GB/s",8} {"ms/pass",9}");
        foreach (var r in report.Results)
            stdout.WriteLine(string.Create(inv, $"  {r.Kernel,-8} {r.Threads,7} {r.GigabytesPerSecond,8:F1} {1000 * r.Seconds,9:F1}"));
        return 0;
    }

    public static JsonObject Json(MemoryBandwidthReport report) => new()
    {
        ["buffer_bytes"] = report.BufferBytes,
        ["repeats"] = report.Repeats,
        ["results"] = new JsonArray(report.Results.Select(r => (JsonNode)new JsonObject
        {
            ["kernel"] = r.Kernel, ["threads"] = r.Threads, ["bytes"] = r.Bytes, ["seconds"] = r.Seconds, ["gb_per_s"] = r.GigabytesPerSecond,
        }).ToArray()),
    };

    private static int[] ParseThreads(string? text, int cores)
    {
        if (text is null) return cores >= 2 ? [1, 2] : [1];
        var list = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int t) || t < 1)
                throw new CliError($"--threads: '{part}' is not a positive whole number");
            if (t > cores) throw new CliError($"--threads: {t} is more than this machine's {cores} cores");
            list.Add(t);
        }
        return list.Distinct().ToArray();
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
