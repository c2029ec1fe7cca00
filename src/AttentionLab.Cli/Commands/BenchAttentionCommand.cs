using System.Globalization;
using AttentionLab.Attention;
using AttentionLab.Diagnostics;
using AttentionLab.Rendering;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// <c>attnlab bench attention</c>: time and memory of attention variants against sequence length (the library's
/// <see cref="AttentionBenchmark"/>), as a table, <c>--json</c>, and an SVG plot on log axes.
/// </summary>
public static class BenchAttentionCommand
{
    public const string Summary = "attention variants vs sequence length: fwd / fwd+bwd ms, peak memory, error, SVG plot [--variants ...] [--seq-lens ...] [--json]";

    private const string DefaultVariants = "naive,fast,flash,window:256,performer:256";

    private static string Usage => $"""
        usage: attnlab bench attention [--variants LIST] [--seq-lens LIST] [--batch B] [--heads H] [--head-dim D]
                                       [--causal] [--repeat R] [--max-seconds S] [--memory-gb G] [--svg FILE] [--input-std S] [--json]

        Self-attention q, k, v (B, H, T, D) with random normal entries; every variant runs forward, then backward
        with its own saved state. Times are the best of R runs; ratios are against naive in the same run.
          --variants LIST    comma list of kernels (default {DefaultVariants}); separate a kernel's own
                             options with '+' or quote with ';': e.g. 'window:256+global:2;flash+tile:32'
                             known: {string.Join(", ", AttentionKernels.Names)}
          --seq-lens LIST    sequence lengths T (default 256,1024,4096,16384)
          --batch B          batch size (default 1)
          --heads H          heads (default 8)
          --head-dim D       dimensions per head (default 64)
          --causal           causal attention (default: bidirectional)
          --repeat R         timed runs per point, best kept (default 3; runs over a second are not repeated)
          --max-seconds S    a point predicted to take longer (T² from the variant's last measured length) is
                             extrapolated, not run (default 20)
          --memory-gb G      a point whose buffers need more is reported as too large, not run
                             (default: 60% of the memory available to the process)
          --svg FILE         write the plot (time and memory vs T, log axes) to FILE
          --input-std S      standard deviation of the random q, k entries (default 1; Performer's error grows with it)
        Peak memory is explicit accounting: q, k, v, o, dO, dq, dk, dv, the kernel's saved state and what its first
        call allocates (see docs/attention-variants.md). Error: max |output − exact| against naive, or fast/flash
        where naive did not run.

          --device cpu|cuda  cuda: the GPU kernels (naive, flash) forward and forward+backward; 'attnlab devices' lists
                             what this machine has

        example: attnlab bench attention --variants naive,flash,window:256 --seq-lens 256,1024 --svg attention.svg
        """;

    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        var args = new Args(argv, "causal");
        if (args.Help) { stdout.WriteLine(Usage); return 0; }
        var variants = SplitVariants(args.String("variants") ?? DefaultVariants);
        var lengths = ParseInts(args.String("seq-lens") ?? "256,1024,4096,16384", "--seq-lens");
        int batch = args.Int("batch", 1, 1, 4096);
        int heads = args.Int("heads", 8, 1, 4096);
        int headDim = args.Int("head-dim", 64, 1, 65536);
        bool causal = args.Flag("causal");
        int repeat = args.Int("repeat", 3, 1, 1000);
        double maxSeconds = args.Double("max-seconds", 20, 0.001, 1e6);
        double memoryGb = args.Double("memory-gb", 0, 0, 1e6);
        string? svg = args.String("svg");
        double inputStd = args.Double("input-std", 1, 1e-6, 1e6);
        bool json = args.Json;
        string device = CommandSupport.Device(args.String("device"));
        args.EnsureAllUsed();
        if (device == "cuda") return CudaCommands.BenchAttention(variants, lengths, batch, heads, headDim, causal, repeat, json, stdout);

        foreach (var v in variants) AttentionKernels.Parse(v); // a bad name or option: the parser's one line, listing the known kernels
        foreach (int t in lengths)
            if ((long)batch * heads * t * headDim > Array.MaxLength)
                throw new CliError($"--seq-lens {t}: q alone would be B·H·T·D = {(long)batch * heads * t * headDim:N0} floats, more than one array can hold; use a shorter length or fewer heads");
        if (svg is not null) CommandSupport.EnsureWritable(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(svg)) ?? ".", "x"));

        var options = new AttentionBenchmarkOptions(variants, lengths, batch, heads, headDim, causal, repeat, maxSeconds,
            (long)(memoryGb * (1L << 30)), InputStd: inputStd);
        var results = AttentionBenchmark.Run(options);
        string title = $"attention B={batch}, H={heads}, D={headDim}{(causal ? ", causal" : "")}: {Environment.ProcessorCount} core(s)";
        if (svg is not null) File.WriteAllText(svg, AttentionBenchmarkSvg.Render(results, title));
        if (json) WriteJson(results, stdout);
        else WriteTable(results, title, svg, stdout);
        return 0;
    }

    /// <summary>"naive,window:256+global:2" → ["naive", "window:256,global:2"]: commas separate variants, so a
    /// variant's own options are joined with '+' (or variants are separated with ';' and keep their commas).</summary>
    internal static List<string> SplitVariants(string text)
    {
        var parts = text.Contains(';') ? text.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(p => p.Replace('+', ',')).ToArray();
        if (parts.Length == 0) throw new CliError("--variants is empty");
        return parts.Select(p => p.Replace('+', ',')).ToList();
    }

    private static List<int> ParseInts(string text, string option)
    {
        var result = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1)
                throw new CliError($"{option} must be comma-separated positive integers, got '{part}'");
            else result.Add(n);
        return result;
    }

    private static string Ms(double? ms) => ms is { } x ? x.ToString(x < 10 ? "0.000" : "0.0", CultureInfo.InvariantCulture) : "—";

    private static string Bytes(long b) => b >= 1L << 30 ? $"{b / (double)(1L << 30):0.00} GiB" : b >= 1 << 20 ? $"{b / (double)(1 << 20):0.0} MiB" : $"{b / 1024.0:0.0} KiB";

    private static void WriteTable(IReadOnlyList<AttentionBenchmarkResult> results, string title, string? svg, TextWriter w)
    {
        var inv = CultureInfo.InvariantCulture;
        w.WriteLine(title);
        w.WriteLine();
        w.WriteLine($"{"variant",-24} {"T",6} {"fwd ms",10} {"fwd+bwd ms",11} {"×naive",7} {"peak mem",11} {"naive/",7} {"max|err|",9}  how");
        foreach (var r in results)
        {
            string how = r.Measurement switch
            {
                AttentionMeasurement.Measured => "measured",
                AttentionMeasurement.Extrapolated => "extrapolated (T²)",
                _ => r.ForwardBackwardMs is null ? "too large for memory" : "too large; time extrapolated (T²)",
            };
            string speed = r.SpeedupOverNaive is { } s ? s.ToString(s >= 10 ? "0" : "0.00", inv) : "—";
            string mem = r.MemoryRatioToNaive is { } m ? m.ToString(m >= 10 ? "0" : "0.00", inv) : "—";
            string err = r.MaxAbsError is { } e ? e.ToString("0.0e+0", inv) : "—";
            w.WriteLine($"{r.Variant,-24} {r.SequenceLength,6} {Ms(r.ForwardMs),10} {Ms(r.ForwardBackwardMs),11} {speed,7} {Bytes(r.PeakBytes),11} {mem,7} {err,9}  {how}");
        }
        w.WriteLine();
        w.WriteLine("×naive: naive's fwd+bwd time / this one's; naive/: naive's peak memory / this one's; err vs the first exact kernel that ran");
        if (svg is not null) w.WriteLine($"plot written to {svg}");
    }

    private static void WriteJson(IReadOnlyList<AttentionBenchmarkResult> results, TextWriter stdout) => JsonOutput.Print(stdout, w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("results");
        foreach (var r in results)
        {
            w.WriteStartObject();
            w.WriteString("variant", r.Variant);
            w.WriteNumber("seq_len", r.SequenceLength);
            Nullable(w, "fwd_ms", r.ForwardMs);
            Nullable(w, "fwd_bwd_ms", r.ForwardBackwardMs);
            w.WriteNumber("peak_bytes", r.PeakBytes);
            w.WriteNumber("state_bytes", r.StateBytes);
            Nullable(w, "max_abs_err", r.MaxAbsError);
            if (r.ErrorBaseline is null) w.WriteNull("error_baseline"); else w.WriteString("error_baseline", r.ErrorBaseline);
            w.WriteString("measurement", r.Measurement switch
            {
                AttentionMeasurement.Measured => "measured",
                AttentionMeasurement.Extrapolated => "extrapolated",
                _ => "too_large",
            });
            w.WriteBoolean("exact", r.IsExact);
            Nullable(w, "speedup_vs_naive", r.SpeedupOverNaive);
            Nullable(w, "memory_ratio_vs_naive", r.MemoryRatioToNaive);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });

    private static void Nullable(System.Text.Json.Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v)) w.WriteNumber(name, v);
        else w.WriteNull(name);
    }
}
