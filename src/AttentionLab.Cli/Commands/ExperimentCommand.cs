using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using AttentionLab.Datasets;
using AttentionLab.Experiments;
using AttentionLab.IO;
using AttentionLab.Training;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// <c>attnlab experiment NAME</c>: trains the char model under each setting of an ablation (library:
/// <see cref="ExperimentCatalog"/>), prints a table and writes the loss curves as an SVG.
/// </summary>
internal static class ExperimentCommand
{
    public const string Summary = "ablations: train the char model under each setting, compare, plot (scaling, causal-mask, …)";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        string? name = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : null;
        var a = new Args(name is null ? args : args[1..]);
        if (a.Help) { Usage(stdout); return 0; }
        bool json = a.Json;
        var budgetText = a.String("budget");
        int? steps = a.Has("steps") ? a.Int("steps", 0, 1, 1_000_000) : null;
        var outDir = a.String("out");
        var data = a.Path("data") ?? TinyShakespeare.Source;
        a.EnsureAllUsed();
        if (name is null) throw new CliError($"which experiment? one of: {string.Join(", ", ExperimentCatalog.Names)}");
        IExperiment experiment;
        try { experiment = ExperimentCatalog.Find(name); }
        catch (ArgumentException e) { throw new CliError(e.Message); }
        if (budgetText is not null && steps is not null) throw new CliError("give --budget or --steps, not both");
        var budget = budgetText is null ? TimeSpan.FromSeconds(60) : ParseBudget(budgetText);
        outDir ??= Path.Combine("runs", $"experiment-{name}-{DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}");
        CommandSupport.EnsureWritable(outDir);

        var corpus = Corpus.Load(data, "char");
        var options = new ExperimentOptions { Budget = budget, Steps = steps };
        var log = json ? TextWriter.Null : stdout;
        log.WriteLine($"attnlab experiment {name} — {experiment.Summary}");
        log.WriteLine(steps is int s ? $"{s} steps per setting" : $"training budget {budget.TotalSeconds:0.#} s, shared evenly by the settings that train (one after the other)");
        var since = Stopwatch.StartNew();
        string? current = null;
        void Progress(ExperimentProgress p)
        {
            if (p.Setting != current) { current = p.Setting; since.Restart(); log.WriteLine($"  [{p.Index + 1}/{p.Count}] {p.Setting} …"); }
            else if (since.Elapsed.TotalSeconds >= 5)
            {
                since.Restart();
                log.WriteLine($"      step {p.Step}{(p.PlannedSteps is > 0 and < 1_000_000 ? $"/{p.PlannedSteps}" : "")}  loss {p.Loss:0.000}");
            }
        }
        ExperimentResult result;
        try { result = experiment.Run(new ExperimentContext(corpus, options, Progress)); }
        catch (InvalidOperationException e) when (e.Message.Contains("loss became", StringComparison.Ordinal)) { throw new CliError(e.Message, 1); }

        Directory.CreateDirectory(outDir);
        var svgPath = Path.Combine(outDir, $"{name}.svg");
        var jsonPath = Path.Combine(outDir, $"{name}.json");
        DurableFile.Replace(svgPath, ExperimentPlot.Svg(result));
        var document = ExperimentJson.ToJson(result);
        document["svg"] = svgPath;
        DurableFile.Replace(jsonPath, document.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        if (json)
        {
            stdout.WriteLine(document.ToJsonString());
            return 0;
        }
        log.WriteLine();
        WriteTable(log, result);
        log.WriteLine();
        foreach (var r in result.Runs)
            if (r.Measures["sample"] is JsonNode sample)
            {
                log.WriteLine($"── sample from {r.Setting}, generated causally ──");
                log.WriteLine(((string)sample!).Trim('\n'));
                log.WriteLine();
            }
        log.WriteLine(result.Finding);
        log.WriteLine($"saved {svgPath} and {jsonPath}");
        return 0;
    }

    /// <summary>"60s", "90", "2m", "1.5m".</summary>
    private static TimeSpan ParseBudget(string text)
    {
        string t = text.Trim();
        double factor = 1;
        if (t.EndsWith('s')) t = t[..^1];
        else if (t.EndsWith('m')) { t = t[..^1]; factor = 60; }
        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v) || v <= 0 || v * factor > 24 * 3600)
            throw new CliError($"--budget must be a positive duration such as 60s or 2m (at most 24 h), got '{text}'");
        return TimeSpan.FromSeconds(v * factor);
    }

    private static void WriteTable(TextWriter w, ExperimentResult result)
    {
        var header = new List<string> { "setting", "steps", "params", "train", "val" };
        header.AddRange(result.Columns);
        var rows = result.Runs.Select(r =>
        {
            var row = new List<string> { r.Setting, r.Steps.ToString(CultureInfo.InvariantCulture), r.Parameters.ToString("N0", CultureInfo.InvariantCulture),
                CommandSupport.F(r.TrainLoss, "0.000"), CommandSupport.F(r.ValidationLoss, "0.000") };
            row.AddRange(result.Columns.Select(c => Cell(r.Measures[c])));
            return row;
        }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        string Line(IReadOnlyList<string> cells) => string.Join("  ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i])));
        w.WriteLine(Line(header));
        w.WriteLine(string.Join("  ", widths.Select(n => new string('─', n))));
        foreach (var r in rows) w.WriteLine(Line(r));
    }

    private static string Cell(JsonNode? node) => node switch
    {
        null => "—",
        JsonValue v when v.TryGetValue(out double d) => d == Math.Round(d) && Math.Abs(d) < 1e9 ? d.ToString("0", CultureInfo.InvariantCulture) : d.ToString("0.000", CultureInfo.InvariantCulture),
        JsonValue v when v.TryGetValue(out string? s) => s ?? "",
        _ => node.ToJsonString(),
    };

    private static void Usage(TextWriter w)
    {
        w.WriteLine("usage: attnlab experiment NAME [--budget 60s] [--steps N] [--out DIR] [--data FILE] [--json]");
        w.WriteLine();
        w.WriteLine("Trains the same character-level GPT (2 layers, 4 heads, 64 wide, context 64; causal-mask: 16) on tiny Shakespeare (bundled) under each");
        w.WriteLine("setting of an ablation — same seed, same initial weights, same batches — one setting after the other, each with an");
        w.WriteLine("equal share of --budget (default 60s; or exactly --steps N each), then prints a table and writes NAME.svg (the loss");
        w.WriteLine("curves) and NAME.json into --out (default runs/experiment-NAME-<timestamp>). --json prints");
        w.WriteLine("{\"experiment\", \"claim\", \"finding\", \"setup\", \"runs\": [{\"setting\", \"steps\", \"train_loss\", \"val_loss\", …}]}.");
        w.WriteLine();
        foreach (var e in ExperimentCatalog.All) w.WriteLine($"  {e.Name,-17} {e.Summary}");
    }
}
