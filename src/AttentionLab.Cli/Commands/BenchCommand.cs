using System.Globalization;
using System.Text.Json;
using AttentionLab.Diagnostics;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// <c>attnlab bench &lt;what&gt; [options]</c>: runs a benchmark from the library and renders its result as a
/// table or (<c>--json</c>) one JSON object. Each benchmark is a subcommand in <see cref="Subcommands"/>.
/// </summary>
public static class BenchCommand
{
    public const string Summary = "benchmark a kernel against the machine's peak and the plain reference";

    /// <summary>Benchmark name → (one-line summary, handler(args, stdout, stderr) → exit code).</summary>
    public static readonly Dictionary<string, (string Summary, Func<string[], TextWriter, TextWriter, int> Run)> Subcommands =
        new(StringComparer.Ordinal)
        {
            ["gemm"] = ("matrix multiply on GPT-2 shapes: ms, GFLOP/s, % of measured FMA peak [--threads N] [--repeat R] [--json]", Gemm),
            ["train"] = (BenchTrainCommand.Summary, BenchTrainCommand.Run),
            ["generate"] = (GenerateBenchmark.Summary, GenerateBenchmark.Run),
            ["memory"] = (BenchMemoryCommand.Summary, BenchMemoryCommand.Run),
            ["attention"] = (BenchAttentionCommand.Summary, BenchAttentionCommand.Run),
            ["fuzz"] = (BenchFuzzCommand.Summary, BenchFuzzCommand.Run),
        };

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            // a bare "bench" is an error: usage to stderr, after one line saying what is missing
            var w = args.Length == 0 ? stderr : stdout;
            if (args.Length == 0) stderr.WriteLine("attnlab bench: missing benchmark name");
            w.WriteLine("usage: attnlab bench <benchmark> [options]");
            w.WriteLine();
            foreach (var (name, (summary, _)) in Subcommands) w.WriteLine($"  {name,-8} {summary}");
            return args.Length == 0 ? 2 : 0;
        }
        if (!Subcommands.TryGetValue(args[0], out var sub))
            throw new CliError($"unknown benchmark '{args[0]}' (known: {string.Join(", ", Subcommands.Keys)})");
        return sub.Run(args[1..], stdout, stderr);
    }

    private static int Gemm(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        var args = new Args(argv);
        if (args.Help)
        {
            stdout.WriteLine("usage: attnlab bench gemm [--threads N] [--repeat R] [--json]");
            stdout.WriteLine("  --threads N   cores to use (default: all)");
            stdout.WriteLine("  --repeat R    timed batches per shape, best kept (default 5)");
            stdout.WriteLine(CommandSupport.DeviceHelp);
            return 0;
        }
        int threads = args.Int("threads", Environment.ProcessorCount, 1, Environment.ProcessorCount);
        int repeat = args.Int("repeat", 5, 1, 1000);
        bool json = args.Json;
        string device = CommandSupport.Device(args.String("device"));
        args.EnsureAllUsed();
        if (device == "cuda") return CudaCommands.BenchGemm(repeat, json, stdout);

        var report = GemmBenchmark.Run(GemmBenchmark.DefaultShapes, threads, repeat);
        if (json) WriteJson(report, stdout);
        else WriteTable(report, stdout);
        return 0;
    }

    private static void WriteTable(GemmBenchmarkReport r, TextWriter w)
    {
        var inv = CultureInfo.InvariantCulture;
        w.WriteLine(string.Create(inv, $"GEMM ({r.Isa}, {r.Threads} thread(s)); measured FMA peak {r.PeakGflops:F1} GFLOP/s ({r.PeakGflopsSingleThread:F1} on one thread); best of repeats"));
        w.WriteLine();
        w.WriteLine($"{"shape",-22} {"m",6} {"n",6} {"k",6} {"form",4} {"ms",9} {"GFLOP/s",8} {"% peak",7}");
        foreach (var t in r.Shapes)
        {
            var s = t.Shape;
            w.WriteLine(string.Create(inv, $"{s.Name,-22} {s.M,6} {s.N,6} {s.K,6} {s.Form,4} {t.Milliseconds,9:F3} {t.Gflops,8:F1} {t.PercentOfPeak,6:F1}%"));
        }
        var b = r.BaselineShape;
        w.WriteLine();
        w.WriteLine(string.Create(inv, $"vs GemmReference on {b.M}×{b.N}×{b.K} {b.Form}: reference {r.ReferenceMilliseconds:F2} ms, fast is {r.SpeedupOverReference:F0}× faster"));
    }

    private static void WriteJson(GemmBenchmarkReport r, TextWriter w)
    {
        var o = new
        {
            isa = r.Isa,
            threads = r.Threads,
            peak_gflops = r.PeakGflops,
            peak_gflops_single_thread = r.PeakGflopsSingleThread,
            baseline = new { m = r.BaselineShape.M, n = r.BaselineShape.N, k = r.BaselineShape.K, form = r.BaselineShape.Form, reference_ms = r.ReferenceMilliseconds, speedup = r.SpeedupOverReference },
            shapes = r.Shapes.Select(t => new
            {
                name = t.Shape.Name, m = t.Shape.M, n = t.Shape.N, k = t.Shape.K, form = t.Shape.Form,
                ms = t.Milliseconds, gflops = t.Gflops, percent_of_peak = t.PercentOfPeak,
            }),
        };
        w.WriteLine(JsonSerializer.Serialize(o, new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
    }
}
