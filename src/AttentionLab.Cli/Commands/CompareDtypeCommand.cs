using System.Globalization;
using System.Text.Json.Nodes;
using AttentionLab.Diagnostics;
using AttentionLab.IO;
using AttentionLab.Kernels;

namespace AttentionLab.Cli.Commands;

/// <summary><c>attnlab compare-dtype</c>: a saved GPT-2 with 16-bit weights against the same model in float32 — logits
/// error, KL of the next-token distributions, and where greedy continuations part (<see cref="WeightFormatAccuracy"/>).</summary>
internal static class CompareDtypeCommand
{
    public const string Summary = "a saved model with BF16/F16 weights against float32: logit error, KL, greedy tokens compared";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var a = new Args(args);
        if (a.Help) { Usage(stdout); return 0; }
        var dir = a.Require("model");
        string? text = a.String("text") ?? a.String("prompt"), ids = a.String("ids");
        var format = CommandSupport.WeightFormat(a.String("dtype") ?? "bf16");
        if (format == WeightFormat.F32) throw new CliError("--dtype: compare bf16, f16 or q8_0 with float32");
        int tokens = a.Int("tokens", 200, 1, 100_000);
        bool json = a.Json;
        a.EnsureAllUsed();

        var saved = SavedModel.Open(dir, dtype: "f32");
        var input = saved.Input(text, ids, "text");
        var folder = DecoderFolder.ReadWeightFormat(dir);
        var candidate = saved.Model.WithWeightFormat(format);
        var r = WeightFormatAccuracy.Measure(saved.Model, candidate, input, input, tokens);
        if (json)
        {
            var o = GenerateBenchmark.AccuracyJson(r);
            o["folder_dtype"] = folder.Name();
            o["reference_greedy"] = new JsonArray(r.ReferenceGreedy.Select(i => (JsonNode)i).ToArray());
            o["greedy"] = new JsonArray(r.Greedy.Select(i => (JsonNode)i).ToArray());
            stdout.WriteLine(o.ToJsonString());
            return 0;
        }
        var inv = CultureInfo.InvariantCulture;
        var c = saved.Model.Config;
        stdout.WriteLine($"{dir}: GPT-2 {c.Layers}L {c.Heads}H {c.Channels}C, stored {folder.Name()}; {format.Name()} weights against float32");
        if (folder != WeightFormat.F32)
            stdout.WriteLine($"  (the folder is {folder.Name()}: its float32 model is the widened {folder.Name()} weights)");
        stdout.WriteLine(string.Create(inv, $"  logits over {r.Positions} positions: max |Δ| {r.MaxAbsError:G4}, max |Δ| / max |logit| {100 * r.MaxRelativeError:G4}%"));
        stdout.WriteLine(string.Create(inv, $"  KL(p_f32 ‖ p_{format.Name()}) per position: mean {r.MeanKl:G4} nats, max {r.MaxKl:G4}; same argmax at {100 * r.ArgmaxAgreement:F1}% of positions"));
        stdout.WriteLine(r.FirstGreedyDifference is int d
            ? $"  greedy: the first {d} of {tokens} tokens agree; token {d} differs ({r.ReferenceGreedy[d]} in f32, {r.Greedy[d]} in {format.Name()})"
            : $"  greedy: all {tokens} tokens identical");
        if (saved.Tokenizer is { } tok)
        {
            stdout.WriteLine($"  f32:  {Quote(tok.Decode(r.ReferenceGreedy))}");
            stdout.WriteLine($"  {format.Name(),-4}: {Quote(tok.Decode(r.Greedy))}");
        }
        return 0;
    }

    private static string Quote(string s) => "\"" + s.Replace("\n", "\\n", StringComparison.Ordinal) + "\"";

    private static void Usage(TextWriter w)
    {
        w.WriteLine("usage: attnlab compare-dtype --model DIR (--text TEXT | --ids 1,2,3) [--dtype bf16|f16] [--tokens N] [--json]");
        w.WriteLine();
        w.WriteLine("Loads the model in float32 and again with its block linears and token table / head rounded to --dtype (default");
        w.WriteLine("bf16; activations, KV cache and softmax stay float32), runs both over the text and prints the largest logit");
        w.WriteLine("error (absolute, and against the largest logit), the KL divergence of the next-token distributions (mean and max");
        w.WriteLine("over positions), how often the argmax agrees, and N greedy tokens (default 200) after the text from each, with the");
        w.WriteLine("first step where they differ. See docs/inference-dtypes.md.");
    }
}
