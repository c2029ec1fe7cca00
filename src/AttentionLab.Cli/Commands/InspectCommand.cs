using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using AttentionLab.Models;
using AttentionLab.Rendering;
using Spectre.Console;

namespace AttentionLab.Cli.Commands;

/// <summary><c>attnlab inspect</c>: the next-token prediction and every head's attention map for a text.</summary>
internal static class InspectCommand
{
    public const string Summary = "show a model's next-token prediction and per-head attention maps for a text";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var a = new Args(args);
        if (a.Help) { Usage(stdout); return 0; }
        var dir = a.Require("model");
        string? text = a.String("text"), ids = a.String("ids");
        int? layer = a.Has("layer") ? a.Int("layer", 0, 0) : null;
        int? head = a.Has("head") ? a.Int("head", 0, 0) : null;
        bool json = a.Json;
        a.EnsureAllUsed();

        var saved = SavedModel.Open(dir);
        var c = saved.Model.Config;
        if (layer >= c.Layers) throw new CliError($"--layer must be in [0, {c.Layers - 1}] for this {c.Layers}-layer model, got {layer}");
        if (head >= c.Heads) throw new CliError($"--head must be in [0, {c.Heads - 1}] for this {c.Heads}-head model, got {head}");
        var input = saved.Input(text, ids, "text");
        if (input.Length > c.ContextLength)
        {
            stderr.WriteLine($"attnlab inspect: warning: {input.Length} tokens; showing the last {c.ContextLength} (the model's context)");
            input = input[^c.ContextLength..];
        }
        var result = Analyze(saved, input);
        if (json) stdout.WriteLine(Json(result).ToJsonString());
        else Print(result, stdout, layer, head, CommandSupport.IsTerminal(stdout));
        return 0;
    }

    internal sealed record Analysis(int[] Ids, string[] Labels, float[] Logits, float[] Attention, double[] Entropy,
        int Layers, int Heads, int T, int V, (int Id, string Label, double Probability)[] Top);

    internal static Analysis Analyze(SavedModel saved, int[] ids)
    {
        var c = saved.Model.Config;
        int T = ids.Length, V = c.VocabSize, L = c.Layers, H = c.Heads;
        var logits = new float[T * V];
        var attention = new float[L * H * T * T];
        var last = saved.Generator.Forward(ids, logits, attention);
        var entropy = new double[L * H];
        for (int m = 0; m < L * H; m++) entropy[m] = AttentionHeatmap.MeanEntropy(attention.AsSpan(m * T * T, T * T), T);
        string Label(int id) => saved.Tokenizer is null ? id.ToString(CultureInfo.InvariantCulture) : saved.Tokenizer.TokenText(id);
        // softmax of the last position: subtract the max for stability
        float max = last.Max();
        double sum = 0;
        foreach (var z in last) sum += Math.Exp(z - max);
        var top = Enumerable.Range(0, V).OrderByDescending(i => last[i]).ThenBy(i => i).Take(5)
            .Select(i => (i, Label(i), Math.Exp(last[i] - max) / sum)).ToArray();
        return new Analysis(ids, ids.Select(Label).ToArray(), logits, attention, entropy, L, H, T, V, top);
    }

    private static void Print(Analysis r, TextWriter w, int? onlyLayer, int? onlyHead, bool colour)
    {
        w.WriteLine($"{r.T} tokens: {string.Join(" ", r.Labels.Select(AttentionHeatmap.Printable))}");
        w.WriteLine("next token:");
        foreach (var (id, label, p) in r.Top)
            w.WriteLine($"  {(p >= 1e-4 ? p.ToString("P2", CultureInfo.InvariantCulture) : p.ToString("0.0e+0", CultureInfo.InvariantCulture)),8}  {AttentionHeatmap.Printable(label),-12} (id {id})");
        w.WriteLine();
        for (int l = 0; l < r.Layers; l++)
        {
            if (onlyLayer is int ol && ol != l) continue;
            for (int h = 0; h < r.Heads; h++)
            {
                if (onlyHead is int oh && oh != h) continue;
                var map = r.Attention.AsSpan((l * r.Heads + h) * r.T * r.T, r.T * r.T);
                w.WriteLine($"layer {l} head {h}: mean entropy {r.Entropy[l * r.Heads + h]:0.000} nats (rows: queries, columns: keys; darker = more attention)");
                WriteMap(w, map, r.Labels, colour);
                w.WriteLine();
            }
        }
        w.WriteLine("entropy per head (nats; 0 = each query attends to one key):");
        for (int l = 0; l < r.Layers; l++)
            w.WriteLine($"  layer {l}: {string.Join("  ", Enumerable.Range(0, r.Heads).Select(h => $"h{h} {r.Entropy[l * r.Heads + h]:0.000}"))}");
    }

    /// <summary>Plain shaded blocks, or (on a terminal) a white → dark blue background ramp per cell.</summary>
    internal static void WriteMap(TextWriter w, ReadOnlySpan<float> map, IReadOnlyList<string> labels, bool colour)
    {
        var lines = AttentionHeatmap.Render(map, labels);
        if (!colour) { foreach (var line in lines) w.WriteLine(line); return; }
        int T = labels.Count;
        AnsiConsole.WriteLine(lines[0]);
        for (int i = 0; i < T; i++)
        {
            var sb = new StringBuilder(Markup.Escape(AttentionHeatmap.Fit(AttentionHeatmap.Printable(labels[i]), 8))).Append('│');
            for (int j = 0; j < T; j++)
            {
                double v = Math.Clamp(map[i * T + j], 0f, 1f);
                double s = Math.Sqrt(v); // sqrt: small weights stay visible
                int red = (int)(255 - s * 225), green = (int)(255 - s * 185), blue = (int)(255 - s * 75);
                sb.Append(CultureInfo.InvariantCulture, $"[on #{red:x2}{green:x2}{blue:x2}]  [/]");
            }
            AnsiConsole.MarkupLine(sb.ToString());
        }
    }

    private static JsonObject Json(Analysis r)
    {
        JsonArray Rows(float[] data, int offset, int rows, int cols)
        {
            var arr = new JsonArray();
            for (int i = 0; i < rows; i++)
                arr.Add(new JsonArray(Enumerable.Range(0, cols).Select(j => (JsonNode)data[offset + i * cols + j]).ToArray()));
            return arr;
        }
        var attention = new JsonArray();
        var entropy = new JsonArray();
        for (int l = 0; l < r.Layers; l++)
        {
            var heads = new JsonArray();
            var hs = new JsonArray();
            for (int h = 0; h < r.Heads; h++)
            {
                heads.Add(Rows(r.Attention, (l * r.Heads + h) * r.T * r.T, r.T, r.T));
                hs.Add(r.Entropy[l * r.Heads + h]);
            }
            attention.Add(heads);
            entropy.Add(hs);
        }
        return new JsonObject
        {
            ["tokens"] = new JsonArray(r.Labels.Select(s => (JsonNode)s).ToArray()),
            ["ids"] = new JsonArray(r.Ids.Select(i => (JsonNode)i).ToArray()),
            ["next"] = new JsonArray(r.Top.Select(t => (JsonNode)new JsonObject { ["id"] = t.Id, ["token"] = t.Label, ["probability"] = t.Probability }).ToArray()),
            ["logits"] = Rows(r.Logits, 0, r.T, r.V),
            ["attention"] = attention,
            ["entropy"] = entropy,
        };
    }

    private static void Usage(TextWriter w)
    {
        w.WriteLine("usage: attnlab inspect --model DIR (--text TEXT | --ids 1,2,3) [--layer L] [--head H] [--json]");
        w.WriteLine();
        w.WriteLine("Runs the model once over the text and shows the five most likely next tokens, then each head's causal");
        w.WriteLine("attention map (row = query token, column = key token, darker = more weight; each row sums to 1) with its");
        w.WriteLine("mean entropy. --layer/--head pick one map. --json prints {\"tokens\", \"logits\" (T×V), \"attention\" (L×H×T×T),");
        w.WriteLine("\"entropy\" (L×H)} plus \"ids\" and \"next\".");
    }
}
