using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using AttentionLab.Inspection;
using AttentionLab.IO;
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
        string? text = a.String("text") ?? a.String("prompt"), ids = a.String("ids"), target = a.String("target");
        int? layer = a.Has("layer") ? a.Int("layer", 0, 0) : null;
        int? head = a.Has("head") ? a.Int("head", 0, 0) : null;
        string? attention = a.String("attention");
        bool json = a.Json;
        string device = CommandSupport.Device(a.String("device"));
        string? dtype = a.String("dtype");
        a.EnsureAllUsed();

        if (!ModelFolderInfo.Read(dir).IsDecoder)
        {
            if (dtype is not null && CommandSupport.WeightFormat(dtype) != AttentionLab.Kernels.WeightFormat.F32)
                throw new CliError("--dtype bf16/f16 is for GPT-2 and Llama-family models; this model runs in float32");
            return InspectOtherModel(dir, text, ids, target, layer, head, attention, json, stdout);
        }
        if (target is not null) throw new CliError("--target is for seq2seq models (the start of the answer to decode from)");
        var saved = SavedModel.Open(dir, attention, dtype, device);
        saved.Model.Device = CommandSupport.OpenDevice(device);
        var c = saved.Model.Config;
        if (layer >= c.Layers) throw new CliError($"--layer must be in [0, {c.Layers - 1}] for this {c.Layers}-layer model, got {layer}");
        if (head >= c.Heads) throw new CliError($"--head must be in [0, {c.Heads - 1}] for this {c.Heads}-head model, got {head}");
        var input = saved.Input(text, ids, "text");
        if (input.Length > c.ContextLength)
        {
            stderr.WriteLine($"attnlab inspect: warning: {input.Length} tokens; showing the last {c.ContextLength} (the model's context)");
            input = input[^c.ContextLength..];
        }
        var report = DecoderInspector.Inspect(saved.Model, saved.Tokenizer, input);
        if (json) stdout.WriteLine(InspectionJson.ToJson(report).ToJsonString());
        else Print(report, stdout, layer, head, CommandSupport.IsTerminal(stdout));
        return 0;
    }

    /// <summary>A saved encoder-decoder, BERT or ViT: every attention map (encoder, decoder, cross) for one input.</summary>
    private static int InspectOtherModel(string dir, string? text, string? ids, string? target, int? layer, int? head, string? attention,
        bool json, TextWriter stdout)
    {
        if (ids is not null) throw new CliError("--ids is for GPT-2 models; give this model its input with --text");
        var kernel = attention is null ? null : CommandSupport.Kernel(attention);
        ModelAttention report;
        try { report = TransformerModelInspector.Inspect(dir, text, kernel, target); }
        catch (ArgumentException e) { throw new CliError(e.Message); }
        if (json) { stdout.WriteLine(report.ToJson().ToJsonString()); return 0; }
        stdout.WriteLine($"{report.ModelType}: input {report.Input}");
        stdout.WriteLine($"output: {report.Output}");
        stdout.WriteLine();
        foreach (var map in report.Maps)
        {
            if (layer is int l && l != map.Layer) continue;
            for (int h = 0; h < map.Heads; h++)
            {
                if (head is int oh && oh != h) continue;
                stdout.WriteLine($"{map.Kind} layer {map.Layer} head {h} (rows: queries, columns: keys; darker = more attention)");
                foreach (var line in AttentionHeatmap.Render(map.Head(h), map.QueryLabels, map.KeyLabels))
                    stdout.WriteLine(line);
                stdout.WriteLine();
            }
        }
        stdout.WriteLine("head roles (the strongest: mean attention mass a query puts on that key, 0-1; cross-attention at its best shift d):");
        foreach (var map in report.Maps.GroupBy(m => m.Kind).SelectMany(g => g.OrderBy(m => m.Layer)))   // by kind, then layer
        {
            if (layer is int l && l != map.Layer) continue;
            foreach (var s in HeadRoles.Compute(map))
                if (head is not int oh || oh == s.Head) stdout.WriteLine(RoleLine(s));
        }
        return 0;
    }

    /// <summary>"  cross layer 0 head 1: anti_diagonal 0.47 (d = +1); entropy 0.35 nats, row max 0.80".</summary>
    internal static string RoleLine(HeadRoleScores s)
    {
        var best = s.Strongest;
        string role = best is null ? "none" : best.Shift is int d
            ? string.Create(CultureInfo.InvariantCulture, $"{best.Role} {best.Score:0.00} (d = {d:+0;-0;0})")
            : string.Create(CultureInfo.InvariantCulture, $"{best.Role} {best.Score:0.00}");
        return string.Create(CultureInfo.InvariantCulture, $"  {s.Kind} layer {s.Layer} head {s.Head}: {role}; entropy {s.Entropy:0.00} nats, row max {s.RowMax:0.00}");
    }

    private static void Print(InspectionReport r, TextWriter w, int? onlyLayer, int? onlyHead, bool colour)
    {
        w.WriteLine($"{r.Length} tokens: {string.Join(" ", r.Tokens.Select(AttentionHeatmap.Printable))}");
        w.WriteLine($"attention kernel: {r.Kernel} ({(r.KernelIsExact ? "exact" : "approximate")}, {(r.IsCausal ? "causal" : "bidirectional")})" +
                    (r.ApproximationError is double e ? $"; max |weights − exact| = {e:0.000e+0}" : "") +
                    (r.Loss is float loss ? $"; loss on the text {loss:0.0000}" : ""));
        w.WriteLine("next token:");
        foreach (var (id, label, p) in r.Next)
            w.WriteLine($"  {(p >= 1e-4 ? p.ToString("P2", CultureInfo.InvariantCulture) : p.ToString("0.0e+0", CultureInfo.InvariantCulture)),8}  {AttentionHeatmap.Printable(label),-12} (id {id})");
        w.WriteLine();
        for (int l = 0; l < r.Layers; l++)
        {
            if (onlyLayer is int ol && ol != l) continue;
            for (int h = 0; h < r.Heads; h++)
            {
                if (onlyHead is int oh && oh != h) continue;
                var map = r.Map(l, h);
                w.WriteLine($"layer {l} head {h}: mean entropy {r.Entropy[l * r.Heads + h]:0.000} nats (rows: queries, columns: keys; darker = more attention)");
                WriteMap(w, map, r.Tokens, colour);
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

    private static void Usage(TextWriter w)
    {
        w.WriteLine("usage: attnlab inspect --model DIR (--text TEXT | --prompt TEXT | --ids 1,2,3) [--target PREFIX] [--layer L] [--head H] [--attention NAME] [--dtype f32|bf16|f16|q8_0] [--json]");
        w.WriteLine();
        w.WriteLine("Runs the model once over the text and shows the five most likely next tokens, then each head's causal");
        w.WriteLine("attention map (row = query token, column = key token, darker = more weight; each row sums to 1) with its");
        w.WriteLine("mean entropy. --layer/--head pick one map. --json prints {\"tokens\", \"logits\" (T×V), \"attention\" (L×H×T×T),");
        w.WriteLine("\"entropy\" (L×H)} plus \"ids\", \"next\", \"kernel\", \"exact\", \"causal\", \"loss\" and \"approximation_error\".");
        w.WriteLine($"--attention NAME runs another kernel than the one the model was saved with ({string.Join(", ", AttentionLab.Attention.AttentionKernels.Names)}).");
        w.WriteLine("For a seq2seq, BERT or ViT folder --text is the source, a text with _ or [MASK] blanks, or index:N / class:NAME");
        w.WriteLine("(a held-out image); --target PREFIX (seq2seq) decodes greedily after that start of the answer. The text ends");
        w.WriteLine("with each head's strongest role (HeadRoles: previous, next, self or first key; diagonal or anti-diagonal");
        w.WriteLine("for cross-attention); --json has every head's scores under each map's \"roles\".");
        w.WriteLine("--dtype f32|bf16|f16|q8_0 holds the block linears and the token table / head in that width (default: the folder's own:");
        w.WriteLine("a BF16 folder stays BF16, loaded without a float32 copy); activations, the KV cache and softmax stay float32 (docs/inference-dtypes.md).");
        w.WriteLine(CommandSupport.DeviceHelp + "; cuda runs the matrix products on the GPU");
    }
}
