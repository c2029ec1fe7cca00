using System.Globalization;
using System.Text.Json;
using AttentionLab.Interpretability;
using AttentionLab.IO;
using AttentionLab.Rendering;
using AttentionLab.Text;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// <c>attnlab analyze METHOD</c>: the interpretability methods of namespace AttentionLab.Interpretability — logit
/// lens, activation patching, direct logit attribution, head ablation, induction heads, the neuron view and attention
/// sinks — on a saved model. This file parses and renders; the library computes.
/// </summary>
public static partial class AnalyzeCommand
{
    public const string Summary = "interpretability: logit lens, activation patching, logit attribution, head ablation, induction heads, neuron view, sinks";

    private const string Usage = """
        usage: attnlab analyze METHOD (--model DIR | --preset NAME [--seed S]) [options] [--json] [--svg FILE]

        methods (each takes --text TEXT or --ids 1,2,3 unless said; tokens as --token TEXT or --token-id N):
          lens       the residual stream at every layer through the final norm and unembedding: top tokens, and
                     --target's probability and rank  [--top K] [--last]
          patch      activation patching: --corrupt TEXT (or --corrupt-ids) of the same length; metric
                     logit[--token] − logit[--other] (or −log p(--token) without --other) at the last position;
                     --site resid|attn|mlp|z|all (default all); heatmaps of the recovered fraction
          attribute  direct logit attribution of logit[--token] (− logit[--other]) at the last position (or
                     --position P): every head, MLP, embedding and bias, with the final norm's scale frozen
          ablate     each head zero- or mean-ablated (--kind zero|mean; mean over --reference TEXT, default the
                     input itself): the change in loss, a layer × head map
          induction  a repeated random sequence (--period N, --seed S): each head's induction and previous-token
                     score, both halves' loss, and the top head ablated. --train DIR trains a 2-layer model on
                     repeated random tokens first (--steps N, default 600) and saves it to DIR
          neuron     one head's query–key products q ∘ k, before and after scaling: --layer L --head H
                     --query I --key J
          sinks      each head's weight on the first token, and what changes when no later query may attend to it

          --preset NAME    a GPT-2 preset with weights drawn from --seed (for timing: attnlab analyze patch
                           --preset gpt2 --random 1024 --token-id 1 --other-id 2 --site z)
          --random N       N random token ids (seed --seed; the corrupted prompt seed + 1)
          --svg FILE       also write the method's picture
          --json           machine-readable output (no progress lines)
        """;

    private static readonly Dictionary<string, Func<AnalyzeInput, TextWriter, int>> Methods = new(StringComparer.Ordinal)
    {
        ["lens"] = Lens, ["patch"] = Patch, ["attribute"] = Attribute, ["ablate"] = Ablate,
        ["induction"] = Induction, ["neuron"] = Neuron, ["sinks"] = Sinks,
    };

    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        if (argv.Length == 0) throw new CliError($"give a method: {string.Join(", ", Methods.Keys)} (attnlab analyze --help)");
        if (argv[0] is "--help" or "-h") { stdout.WriteLine(Usage); return 0; }
        if (!Methods.TryGetValue(argv[0], out var method))
            throw new CliError($"unknown method '{argv[0]}'; methods: {string.Join(", ", Methods.Keys)}");
        var args = new Args(argv[1..], "last");
        if (args.Help) { stdout.WriteLine(Usage); return 0; }
        if (argv[0] == "induction" && args.Has("train")) return TrainInduction(args, stdout);
        return method(AnalyzeInput.Open(args, stdout), stdout);
    }

    private static int Lens(AnalyzeInput input, TextWriter stdout)
    {
        var tokens = input.Tokens();
        int? target = input.Token("target");
        int top = input.Args.Int("top", 5, min: 1, max: 50);
        bool last = input.Args.Flag("last");
        string? svg = input.Args.Path("svg");
        input.Args.EnsureAllUsed();
        var result = LogitLens.Run(input.Model, tokens, target, top, last ? [tokens.Length - 1] : null);
        int stages = result.Stages.Length, p = result.Positions.Length;
        var map = new float[stages * p];
        for (int s = 0; s < stages; s++)
            for (int i = 0; i < p; i++) map[s * p + i] = target is null ? result[s, i].Top[0].Probability : result[s, i].TargetProbability;
        string what = target is null ? "top-1 probability" : $"p({input.Label(target.Value)})";
        AnalyzeInput.WriteSvg(svg, SignedHeatmapSvg.Render(map, result.Stages, result.Positions.Select(i => input.Label(tokens[i])).ToArray(),
            $"logit lens: {what} at each layer (rows) and position (columns)", "each stream read through the model's final norm and unembedding", limit: 1));
        if (input.Json)
        {
            JsonOutput.Print(stdout, w =>
            {
                w.WriteStartObject();
                w.WriteString("method", "lens");
                Ids(w, "tokens", tokens, input);
                if (target is { } t) { w.WriteNumber("target", t); w.WriteString("target_text", input.Label(t)); }
                w.WriteStartArray("stages");
                foreach (var s in result.Stages) w.WriteStringValue(s);
                w.WriteEndArray();
                w.WriteStartArray("cells");
                foreach (var cell in result.Cells)
                {
                    w.WriteStartObject();
                    w.WriteNumber("stage", cell.Stage);
                    w.WriteNumber("position", cell.Position);
                    w.WriteStartArray("top");
                    foreach (var tp in cell.Top)
                    {
                        w.WriteStartObject();
                        w.WriteNumber("token", tp.Token);
                        w.WriteString("text", input.Label(tp.Token));
                        w.WritePropertyName("p"); JsonOutput.Number(w, tp.Probability);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    if (target is not null) { w.WritePropertyName("target_p"); JsonOutput.Number(w, cell.TargetProbability); w.WriteNumber("target_rank", cell.TargetRank); }
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            });
            return 0;
        }
        stdout.WriteLine($"logit lens over {tokens.Length} tokens: each stage's residual stream through the final norm and unembedding (top-1 token, its p" +
            (target is null ? ")" : $"; p and rank of {Quote(input.Label(target.Value))})"));
        foreach (int i in Enumerable.Range(0, p))
        {
            stdout.WriteLine($"position {result.Positions[i]} {Quote(input.Label(tokens[result.Positions[i]]))}:");
            for (int s = 0; s < stages; s++)
            {
                var cell = result[s, i];
                string line = $"  {result.Stages[s],-28} {Quote(input.Label(cell.Top[0].Token)),-14} {F(cell.Top[0].Probability)}";
                if (target is not null) line += $"   target p {F(cell.TargetProbability)} rank {cell.TargetRank}";
                stdout.WriteLine(line);
            }
        }
        if (svg is not null) stdout.WriteLine($"wrote {svg}");
        return 0;
    }

    private static int Patch(AnalyzeInput input, TextWriter stdout)
    {
        var clean = input.Tokens(randomSeedOffset: "clean");
        var corrupted = input.Tokens("corrupt", "corrupt-ids", randomSeedOffset: "corrupt");
        var metric = new PatchMetric(input.RequireToken("token"), input.Token("other"));
        string siteName = input.Args.String("site") ?? "all";
        string? svg = input.Args.Path("svg");
        input.Args.EnsureAllUsed();
        PatchSite[] sites = siteName switch
        {
            "all" => [PatchSite.ResidPre, PatchSite.AttnOut, PatchSite.MlpOut, PatchSite.HeadZ],
            "resid" => [PatchSite.ResidPre], "attn" => [PatchSite.AttnOut], "mlp" => [PatchSite.MlpOut], "z" => [PatchSite.HeadZ],
            _ => throw new CliError($"--site must be resid, attn, mlp, z or all, got '{siteName}'"),
        };
        var patching = ActivationPatching.Prepare(input.Model, clean, corrupted, metric);
        string metricText = metric.Other is { } o ? $"logit[{input.Label(metric.Token)}] − logit[{input.Label(o)}]" : $"−log p({input.Label(metric.Token)})";
        if (!input.Json)
            stdout.WriteLine($"patching clean → corrupted ({clean.Length} tokens), metric {metricText}: clean {F(patching.CleanMetric)}, corrupted {F(patching.CorruptedMetric)}");
        var results = sites.Select(s => patching.Sweep(s, input.Progress(SiteName(s)))).ToList();
        var layers = Enumerable.Range(0, input.Model.Config.Layers).Select(l => $"blocks.{l}").ToArray();
        var positions = clean.Select((id, i) => $"{i}:{input.Label(id)}").ToArray();
        var heads = Enumerable.Range(0, input.Model.Config.Heads).Select(h => $"H{h}").ToArray();
        if (svg is not null)
        {
            // one SVG per site beside the named file when there are several: FILE-resid.svg, FILE-z.svg, …
            foreach (var r in results)
            {
                string path = results.Count == 1 ? svg : Path.ChangeExtension(svg, null) + "-" + SiteName(r.Site) + ".svg";
                AnalyzeInput.WriteSvg(path, SignedHeatmapSvg.Render(r.Recovered, layers, r.Site == PatchSite.HeadZ ? heads : positions,
                    $"activation patching, {SiteTitle(r.Site)}: fraction of {metricText} recovered", $"clean {F(r.CleanMetric)}, corrupted {F(r.CorruptedMetric)}; 1 = clean behaviour restored", limit: 1));
                if (!input.Json) stdout.WriteLine($"wrote {path}");
            }
        }
        if (input.Json)
        {
            JsonOutput.Print(stdout, w =>
            {
                w.WriteStartObject();
                w.WriteString("method", "patch");
                Ids(w, "clean", clean, input);
                Ids(w, "corrupted", corrupted, input);
                w.WriteString("metric", metricText);
                w.WritePropertyName("clean_metric"); JsonOutput.Number(w, patching.CleanMetric);
                w.WritePropertyName("corrupted_metric"); JsonOutput.Number(w, patching.CorruptedMetric);
                w.WriteStartObject("sites");
                foreach (var r in results)
                {
                    w.WriteStartObject(SiteName(r.Site));
                    w.WriteString("rows", "layer");
                    w.WriteString("columns", r.Site == PatchSite.HeadZ ? "head" : "position");
                    Rows(w, "recovered", r.Recovered, r.Rows, r.Columns);
                    Rows(w, "metric", r.Metric, r.Rows, r.Columns);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
                w.WriteEndObject();
            });
            return 0;
        }
        foreach (var r in results)
        {
            stdout.WriteLine($"{SiteTitle(r.Site)}: recovered fraction, rows = layers, columns = {(r.Site == PatchSite.HeadZ ? "heads" : "positions")}");
            Table(stdout, r.Recovered, layers, r.Site == PatchSite.HeadZ ? heads.Select(h => h[1..]).ToArray() : clean.Select((_, i) => i.ToString(CultureInfo.InvariantCulture)).ToArray());
        }
        return 0;
    }

    private static int Attribute(AnalyzeInput input, TextWriter stdout)
    {
        var tokens = input.Tokens();
        var metric = new PatchMetric(input.RequireToken("token"), input.Token("other"));
        int? position = input.Args.Has("position") ? input.Args.Int("position", 0, min: 0, max: tokens.Length - 1) : null;
        string? svg = input.Args.Path("svg");
        input.Args.EnsureAllUsed();
        var result = DirectLogitAttribution.Run(input.Model, tokens, metric, position);
        var cfg = input.Model.Config;
        string metricText = metric.Other is { } o ? $"logit[{input.Label(metric.Token)}] − logit[{input.Label(o)}]" : $"logit[{input.Label(metric.Token)}]";
        // the map: one row per layer, the heads then the MLP
        var map = new float[cfg.Layers * (cfg.Heads + 1)];
        for (int l = 0; l < cfg.Layers; l++)
        {
            for (int h = 0; h < cfg.Heads; h++) map[l * (cfg.Heads + 1) + h] = result.Heads[l * cfg.Heads + h];
            map[l * (cfg.Heads + 1) + cfg.Heads] = result.Mlps[l];
        }
        var columns = Enumerable.Range(0, cfg.Heads).Select(h => $"H{h}").Append("MLP").ToArray();
        var rows = Enumerable.Range(0, cfg.Layers).Select(l => $"blocks.{l}").ToArray();
        AnalyzeInput.WriteSvg(svg, SignedHeatmapSvg.Render(map, rows, columns, $"direct logit attribution of {metricText} at position {result.Position}",
            $"total {F(result.Total)}; final norm's scale frozen; embeddings and biases in the JSON"));
        if (input.Json)
        {
            JsonOutput.Print(stdout, w =>
            {
                w.WriteStartObject();
                w.WriteString("method", "attribute");
                Ids(w, "tokens", tokens, input);
                w.WriteNumber("position", result.Position);
                w.WriteString("metric", metricText);
                w.WritePropertyName("total"); JsonOutput.Number(w, result.Total);
                w.WritePropertyName("sum"); JsonOutput.Number(w, result.Sum);
                w.WriteStartArray("terms");
                foreach (var t in result.Terms)
                {
                    w.WriteStartObject();
                    w.WriteString("name", t.Name);
                    w.WriteNumber("layer", t.Layer);
                    w.WriteNumber("head", t.Head);
                    w.WritePropertyName("value"); JsonOutput.Number(w, t.Value);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                Rows(w, "heads", result.Heads, cfg.Layers, cfg.Heads);
                w.WriteEndObject();
            });
            return 0;
        }
        stdout.WriteLine($"direct logit attribution of {metricText} at position {result.Position} {Quote(input.Label(tokens[result.Position]))} (final norm's scale frozen)");
        stdout.WriteLine($"total {F(result.Total)} = Σ of {result.Terms.Length} terms {F(result.Sum)}; the largest:");
        foreach (var t in result.Terms.OrderByDescending(t => Math.Abs(t.Value)).Take(10))
            stdout.WriteLine($"  {t.Name,-24} {t.Value,10:+0.0000;-0.0000}");
        stdout.WriteLine("heads and MLPs (rows = layers):");
        Table(stdout, map, rows, columns.Select(c => c.TrimStart('H')).ToArray());
        if (svg is not null) stdout.WriteLine($"wrote {svg}");
        return 0;
    }

    private static int Ablate(AnalyzeInput input, TextWriter stdout)
    {
        var tokens = input.Tokens(randomSeedOffset: "clean");
        string kindName = input.Args.String("kind") ?? "zero";
        var kind = kindName switch { "zero" => AblationKind.Zero, "mean" => AblationKind.Mean, _ => throw new CliError($"--kind must be zero or mean, got '{kindName}'") };
        int[][]? reference = input.Args.String("reference") is null && !input.Args.Has("reference-ids") ? null : [input.Tokens("reference", "reference-ids")];
        if (reference is not null && kind == AblationKind.Zero) throw new CliError("--reference gives the means of mean ablation: add --kind mean");
        string? svg = input.Args.Path("svg");
        input.Args.EnsureAllUsed();
        var cfg = input.Model.Config;
        var result = HeadAblation.Run(input.Model, tokens, kind, reference, progress: input.Progress($"{kindName}-ablating heads"));
        var rows = Enumerable.Range(0, cfg.Layers).Select(l => $"blocks.{l}").ToArray();
        var heads = Enumerable.Range(0, cfg.Heads).Select(h => $"H{h}").ToArray();
        AnalyzeInput.WriteSvg(svg, SignedHeatmapSvg.Render(result.Delta, rows, heads, $"{kindName} ablation: change in loss per head",
            $"loss as trained {F(result.BaseLoss)} over {tokens.Length} tokens; red = the head helps (the loss rises without it)"));
        if (input.Json)
        {
            JsonOutput.Print(stdout, w =>
            {
                w.WriteStartObject();
                w.WriteString("method", "ablate");
                w.WriteString("kind", kindName);
                Ids(w, "tokens", tokens, input);
                w.WritePropertyName("base_loss"); JsonOutput.Number(w, result.BaseLoss);
                Rows(w, "loss", result.Loss, cfg.Layers, cfg.Heads);
                Rows(w, "delta", result.Delta, cfg.Layers, cfg.Heads);
                w.WriteEndObject();
            });
            return 0;
        }
        stdout.WriteLine($"{kindName} ablation over {tokens.Length} tokens: loss as trained {F(result.BaseLoss)}; change in loss with each head ablated (rows = layers):");
        Table(stdout, result.Delta, rows, Enumerable.Range(0, cfg.Heads).Select(h => h.ToString(CultureInfo.InvariantCulture)).ToArray());
        if (svg is not null) stdout.WriteLine($"wrote {svg}");
        return 0;
    }

    private static int Neuron(AnalyzeInput input, TextWriter stdout)
    {
        var tokens = input.Tokens();
        var cfg = input.Model.Config;
        int layer = input.Args.RequireInt("layer", 0, cfg.Layers - 1), head = input.Args.RequireInt("head", 0, cfg.Heads - 1);
        int query = input.Args.Int("query", tokens.Length - 1, 0, tokens.Length - 1), key = input.Args.Int("key", 0, 0, tokens.Length - 1);
        input.Args.EnsureAllUsed();
        var v = NeuronView.Run(input.Model, tokens, layer, head, query, key);
        if (input.Json)
        {
            JsonOutput.Print(stdout, w =>
            {
                w.WriteStartObject();
                w.WriteString("method", "neuron");
                Ids(w, "tokens", tokens, input);
                w.WriteNumber("layer", layer); w.WriteNumber("head", head); w.WriteNumber("query", query); w.WriteNumber("key", key);
                w.WritePropertyName("scale"); JsonOutput.Number(w, v.Scale);
                Floats(w, "q", v.Query); Floats(w, "k", v.Key); Floats(w, "products", v.Products); Floats(w, "scaled", v.Scaled);
                w.WritePropertyName("raw_score"); JsonOutput.Number(w, v.RawScore);
                w.WritePropertyName("score"); JsonOutput.Number(w, v.Score);
                Floats(w, "scores", v.Scores); Floats(w, "weights", v.Weights);
                w.WriteEndObject();
            });
            return 0;
        }
        stdout.WriteLine($"head {layer}.{head}, query {query} {Quote(input.Label(tokens[query]))} → key {key} {Quote(input.Label(tokens[key]))}: score = Σ_d q_d·k_d · {F(v.Scale)}");
        stdout.WriteLine("    d        q        k      q·k   q·k·scale");
        foreach (int d in Enumerable.Range(0, v.Products.Length).OrderByDescending(d => Math.Abs(v.Products[d])))
            stdout.WriteLine($"  {d,3} {v.Query[d],8:0.0000} {v.Key[d],8:0.0000} {v.Products[d],8:0.0000} {v.Scaled[d],11:0.0000}");
        stdout.WriteLine($"sum: raw {F(v.RawScore)}, scaled {F(v.Score)}; weight of this key after softmax {F(v.Weights[key])}");
        return 0;
    }

    private static int Sinks(AnalyzeInput input, TextWriter stdout)
    {
        var tokens = input.Tokens();
        string? svg = input.Args.Path("svg");
        input.Args.EnsureAllUsed();
        var cfg = input.Model.Config;
        var r = AttentionSinks.Run(input.Model, tokens);
        var rows = Enumerable.Range(0, cfg.Layers).Select(l => $"blocks.{l}").ToArray();
        var heads = Enumerable.Range(0, cfg.Heads).Select(h => $"H{h}").ToArray();
        AnalyzeInput.WriteSvg(svg, SignedHeatmapSvg.Render(r.Share, rows, heads, "attention sinks: mean weight on the first token per head",
            $"removing the first key: loss {F(r.Loss)} → {F(r.LossWithout)}", limit: 1));
        if (input.Json)
        {
            JsonOutput.Print(stdout, w =>
            {
                w.WriteStartObject();
                w.WriteString("method", "sinks");
                Ids(w, "tokens", tokens, input);
                Rows(w, "share", r.Share, cfg.Layers, cfg.Heads);
                Rows(w, "max_share_without", r.ShareAfter, cfg.Layers, cfg.Heads);
                w.WritePropertyName("loss"); JsonOutput.Number(w, r.Loss);
                w.WritePropertyName("loss_without_first_key"); JsonOutput.Number(w, r.LossWithout);
                Floats(w, "kl", r.Divergence);
                w.WriteNumber("same_top", r.SameTop);
                w.WriteEndObject();
            });
            return 0;
        }
        stdout.WriteLine($"mean attention weight on the first token {Quote(input.Label(tokens[0]))} (queries 1 … {tokens.Length - 1}), rows = layers:");
        Table(stdout, r.Share, rows, Enumerable.Range(0, cfg.Heads).Select(h => h.ToString(CultureInfo.InvariantCulture)).ToArray());
        stdout.WriteLine($"with the first key removed for every later query: loss {F(r.Loss)} → {F(r.LossWithout)}, mean KL {F(r.Divergence.Skip(1).Average())}, top token unchanged at {r.SameTop} of {tokens.Length - 1} positions");
        if (svg is not null) stdout.WriteLine($"wrote {svg}");
        return 0;
    }

    private static string SiteName(PatchSite s) => s switch { PatchSite.ResidPre => "resid", PatchSite.AttnOut => "attn", PatchSite.MlpOut => "mlp", _ => "z" };

    private static string SiteTitle(PatchSite s) => s switch
    {
        PatchSite.ResidPre => "hook_resid_pre (layer × position)", PatchSite.AttnOut => "hook_attn_out (layer × position)",
        PatchSite.MlpOut => "hook_mlp_out (layer × position)", _ => "attn.hook_z per head (layer × head)",
    };

    private static void Table(TextWriter stdout, float[] values, string[] rows, string[] columns)
    {
        int width = Math.Max(7, columns.Max(c => c.Length) + 1);
        stdout.WriteLine(new string(' ', 10) + string.Concat(columns.Select(c => c.PadLeft(width))));
        for (int i = 0; i < rows.Length; i++)
            stdout.WriteLine(rows[i].PadRight(10) + string.Concat(Enumerable.Range(0, columns.Length).Select(j => values[i * columns.Length + j].ToString("0.000", CultureInfo.InvariantCulture).PadLeft(width))));
    }

    private static void Rows(Utf8JsonWriter w, string name, float[] values, int rows, int columns)
    {
        w.WriteStartArray(name);
        for (int i = 0; i < rows; i++)
        {
            w.WriteStartArray();
            for (int j = 0; j < columns; j++) JsonOutput.Number(w, values[i * columns + j]);
            w.WriteEndArray();
        }
        w.WriteEndArray();
    }

    private static void Floats(Utf8JsonWriter w, string name, float[] values)
    {
        w.WriteStartArray(name);
        foreach (float x in values) JsonOutput.Number(w, x);
        w.WriteEndArray();
    }

    private static void Ids(Utf8JsonWriter w, string name, int[] ids, AnalyzeInput input)
    {
        w.WriteStartArray(name);
        foreach (int id in ids) w.WriteNumberValue(id);
        w.WriteEndArray();
        w.WriteStartArray(name + "_text");
        foreach (int id in ids) w.WriteStringValue(input.Label(id));
        w.WriteEndArray();
    }

    private static string F(double v) => CommandSupport.F(v);
    private static string Quote(string s) => "'" + AttentionHeatmap.Printable(s) + "'";
}
