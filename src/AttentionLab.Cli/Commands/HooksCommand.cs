using System.Globalization;
using AttentionLab.Hooks;
using AttentionLab.Models;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// <c>attnlab hooks</c>: every activation a model exposes to hooks, by its canonical (TransformerLens) name, with its
/// shape in the model's sizes; with <c>--text</c> or <c>--ids</c> it runs the model once with a cache of them all
/// and prints each one's shape and statistics. The names are <see cref="HookNames"/>; this file parses and renders.
/// </summary>
public static class HooksCommand
{
    public const string Summary = "the activations hooks can read or edit, by canonical name (blocks.0.attn.hook_pattern, …)";

    private const string Usage = """
        usage: attnlab hooks (--model DIR | --preset NAME) [--text TEXT | --ids 1,2,3] [--filter SUBSTRING] [--json]

        Lists every hook point of the model in forward order: its canonical name (TransformerLens's spelling),
        its shape and what it holds. These are the names DecoderModel.RunWithCache and RunWithHooks take.

          --model DIR      a model directory (train, demo, or a Hugging Face GPT-2 folder)
          --preset NAME    a GPT-2 preset's shapes without weights (gpt2, char, tiny, ...)
          --text TEXT      also run the model on TEXT with every activation cached and show each one's
                           shape, mean, standard deviation and largest |value| (--ids gives token ids instead)
          --filter S       only names containing S (e.g. --filter attn.hook_pattern, --filter blocks.3.)
          --json           machine-readable: {"hooks": [{"name","shape","meaning"[,"dims","mean","std","max_abs"]}]}
        """;

    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        var args = new Args(argv);
        if (args.Help) { stdout.WriteLine(Usage); return 0; }
        string? dir = args.Path("model"), preset = args.String("preset");
        string? text = args.String("text"), ids = args.String("ids");
        string filter = args.String("filter") ?? "";
        bool json = args.Json;
        args.EnsureAllUsed();
        if ((dir is null) == (preset is null)) throw new CliError("give exactly one of --model DIR or --preset NAME");
        if (preset is not null && (text is not null || ids is not null)) throw new CliError("--text and --ids need a model with weights: give --model DIR");

        DecoderConfig config;
        SavedModel? saved = null;
        if (dir is not null)
        {
            saved = SavedModel.Open(dir);
            config = saved.Model.Config;
        }
        else config = DecoderConfig.Preset(preset!);

        var hooks = HookNames.For(config).Where(h => h.Name.Contains(filter, StringComparison.Ordinal)).ToList();
        if (hooks.Count == 0) throw new CliError($"no hook name contains '{filter}'; run without --filter for the list");
        ActivationCache? cache = null;
        int length = 0;
        if (saved is not null && (text is not null || ids is not null))
        {
            var input = saved.Input(text, ids, "text");
            if (input.Length > config.ContextLength) throw new CliError($"{input.Length} tokens exceed the model's context of {config.ContextLength}");
            length = input.Length;
            var wanted = hooks.Select(h => h.Name).ToHashSet(StringComparer.Ordinal);
            (_, cache) = saved.Model.RunWithCache(input, wanted.Contains);
        }

        if (json)
        {
            JsonOutput.Print(stdout, w =>
            {
                w.WriteStartObject();
                w.WriteNumber("layers", config.Layers);
                w.WriteNumber("heads", config.Heads);
                w.WriteNumber("channels", config.Channels);
                w.WriteNumber("head_dim", config.HeadDim);
                if (cache is not null) w.WriteNumber("tokens", length);
                w.WriteStartArray("hooks");
                foreach (var h in hooks)
                {
                    w.WriteStartObject();
                    w.WriteString("name", h.Name);
                    w.WriteString("shape", h.Shape);
                    w.WriteString("meaning", h.Meaning);
                    if (cache is not null && cache.TryGet(h.Name, out var t))
                    {
                        JsonOutput.Shape(w, "dims", t.Shape.Select(d => (long)d));
                        var (mean, std, maxAbs) = Statistics(t.Data);
                        w.WritePropertyName("mean"); JsonOutput.Number(w, mean);
                        w.WritePropertyName("std"); JsonOutput.Number(w, std);
                        w.WritePropertyName("max_abs"); JsonOutput.Number(w, maxAbs);
                    }
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            });
            return 0;
        }

        stdout.WriteLine($"{hooks.Count} hook points (L = {config.Layers}, H = {config.Heads}, C = {config.Channels}, D = {config.HeadDim}, Hkv = {config.KeyValueHeads}" +
            (config.Activation == MlpActivation.SwiGlu ? $", M = {config.IntermediateSize}" : "") +
            (cache is null ? "" : $", run on T = {length} tokens") + "):");
        int width = hooks.Max(h => h.Name.Length);
        foreach (var h in hooks)
        {
            string line = $"  {h.Name.PadRight(width)}  {h.Shape,-15} {h.Meaning}";
            if (cache is not null && cache.TryGet(h.Name, out var t))
            {
                var (mean, std, maxAbs) = Statistics(t.Data);
                line = string.Create(CultureInfo.InvariantCulture,
                    $"  {h.Name.PadRight(width)}  {AttentionLab.Tensors.Tensor.ShapeString(t.Shape),-15} mean {mean,9:0.0000}  std {std,8:0.0000}  max|x| {maxAbs,8:0.000}");
            }
            stdout.WriteLine(line);
        }
        stdout.WriteLine("Use them from C#: model.RunWithCache(ids, name => name == \"blocks.0.attn.hook_pattern\"), model.RunWithHooks(ids, hooks).");
        return 0;
    }

    /// <summary>Mean, standard deviation and largest |x| over the finite values (masked scores are −∞).</summary>
    private static (double Mean, double Std, double MaxAbs) Statistics(float[] values)
    {
        double sum = 0, squares = 0, maxAbs = 0;
        long n = 0;
        foreach (float x in values)
        {
            if (!float.IsFinite(x)) continue;
            n++; sum += x; squares += (double)x * x; maxAbs = Math.Max(maxAbs, Math.Abs(x));
        }
        if (n == 0) return (0, 0, 0);
        double mean = sum / n;
        return (mean, Math.Sqrt(Math.Max(0, squares / n - mean * mean)), maxAbs);
    }
}
