using System.Globalization;
using System.Text.Json.Nodes;
using AttentionLab.Diagnostics;
using AttentionLab.Inspection;
using AttentionLab.IO;
using AttentionLab.Kernels;
using AttentionLab.Models;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// <c>attnlab bench generate</c>: greedy tokens per second with the KV cache (and without, a full recompute of the
/// window per token through the same model) for GPT-2 with random weights, for each weight format asked for, with the
/// bytes each step reads and the bandwidth that achieves against <c>bench memory</c>'s read figure measured in the
/// same run; 16-bit rows add their accuracy against float32. The library's <see cref="GenerationBenchmark"/> measures.
/// <c>--preset</c> also takes a Hugging Face checkpoint's exact shape (smollm2-135m, …, <see cref="HfTransformerPresets"/>),
/// with random weights; the KV cache's bytes per token are printed with grouped-query attention's saving. A preset whose
/// weights and working set do not fit this machine is refused in one line.
/// </summary>
internal static class GenerateBenchmark
{
    public const string Summary = "generation tokens/s with the KV cache (and without), bytes read per token, % of the measured memory bandwidth [--dtype f32,bf16] [--tokens N] [--prompt-tokens P] [--preset NAME] [--json]";

    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        var a = new Args(argv, "no-recompute");
        if (a.Help)
        {
            stdout.WriteLine("usage: attnlab bench generate [--preset NAME] [--dtype LIST] [--tokens N] [--prompt-tokens P] [--attention NAME]");
            stdout.WriteLine("                              [--no-recompute] [--megabytes M] [--json]");
            stdout.WriteLine("  --preset NAME  model size (default gpt2, the 124M model; weights are random, speed does not depend on them);");
            stdout.WriteLine($"                 a GPT-2 preset ({string.Join(", ", DecoderConfig.Presets.Keys)}) or a Hugging Face checkpoint's shape");
            stdout.WriteLine($"                 ({string.Join(", ", HfTransformerPresets.Names)}), refused when it does not fit this machine's memory");
            stdout.WriteLine("  --dtype LIST   weight formats, comma-separated: f32, bf16, f16, q8_0 (default f32; float32 always runs, as the baseline)");
            stdout.WriteLine("  --tokens N     decode steps per format (default 32)");
            stdout.WriteLine("  --prompt-tokens P  prompt length in tokens (default 16; the prompt is random ids)");
            stdout.WriteLine("  --attention NAME   attention kernel (default fast)");
            stdout.WriteLine("  --no-recompute     skip the no-cache comparison");
            stdout.WriteLine($"  --megabytes M      buffer of the memory-bandwidth probe (default {MemoryBandwidth.DefaultBufferBytes >> 20} MiB)");
            return 0;
        }
        string presetName = a.String("preset") ?? "gpt2";
        var hf = HfTransformerPresets.Find(presetName);
        DecoderConfig config;
        if (hf is not null) config = LlamaFolder.ToConfig(hf);
        else
        {
            try { config = DecoderConfig.Preset(presetName); }
            catch (ArgumentException e) { throw new CliError($"{Cli.OneLine(e.Message)}; Hugging Face shapes: {string.Join(", ", HfTransformerPresets.Names)}"); }
        }
        if (a.Has("prompt")) throw new CliError("--prompt is text in every other command; the prompt length here is --prompt-tokens N");
        int promptLength = a.Int("prompt-tokens", 16, 1, config.ContextLength - 1);
        int tokens = a.Int("tokens", 32, 1, config.ContextLength - promptLength);
        var formats = CommandSupport.WeightFormats(a.String("dtype") ?? "f32");
        string? attention = a.String("attention");
        bool recompute = !a.Flag("no-recompute"), json = a.Json;
        int megabytes = a.Int("megabytes", (int)(MemoryBandwidth.DefaultBufferBytes >> 20), 1, 8192);
        a.EnsureAllUsed();
        var memory = LoadMemory.Estimate(config.ParameterCount, (long)config.VocabSize * config.Channels, "the token embedding",
            GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
        if (!memory.Fits)
            throw new CliError($"--preset {presetName}: {config.ParameterCount:N0} parameters need about {LoadMemory.Format(memory.RequiredBytes)} " +
                               $"({LoadMemory.Format(memory.WeightBytes)} of float32 weights + {LoadMemory.Format(memory.WorkingSetBytes)} working set) but this process can use {LoadMemory.Format(memory.AvailableBytes)}");
        if (config.ParameterCount > Array.MaxLength)      // the one parameter arena is a float[]
            throw new CliError($"--preset {presetName}: {config.ParameterCount:N0} parameters exceed the largest float32 arena ({Array.MaxLength:N0} values)");

        var progress = json ? null : new LineProgress(stderr);
        var r = GenerationBenchmark.Run(config, CommandSupport.Kernel(attention), formats, promptLength, tokens, recompute, (long)megabytes << 20, progress);
        var kv = KvCacheFootprint.For(config);
        if (json)
        {
            var o = Json(r);
            o["preset"] = presetName; o["architecture"] = hf?.ModelType ?? "gpt2";
            o["heads"] = config.Heads; o["key_value_heads"] = config.KeyValueHeads;
            o["kv_cache_bytes_per_token"] = kv.BytesPerToken; o["multi_head_kv_cache_bytes_per_token"] = kv.MultiHeadBytesPerToken;
            stdout.WriteLine(o.ToJsonString());
            return 0;
        }
        var inv = CultureInfo.InvariantCulture;
        string shape = hf is null ? $"GPT-2 {config.Layers}L {config.Heads}H {config.Channels}C"
            : $"{presetName} ({hf.ModelType} {config.Layers}L {config.Heads}H/{config.KeyValueHeads}kv {config.Channels}C)";
        stdout.WriteLine(string.Create(inv, $"greedy generation, {shape} ({config.ParameterCount:N0} parameters, random weights), " +
                         $"{promptLength}-token prompt, {tokens} steps, {r.Threads} threads, attention '{r.Attention}'"));
        stdout.WriteLine($"{kv.Describe()}");
        stdout.WriteLine(string.Create(inv, $"memory roof (same run): read {r.ReadGigabytesPerSecond:F1} GB/s on {r.Threads} thread(s), {r.Memory.Read(1):F1} on one"));
        stdout.WriteLine();
        stdout.WriteLine($"  {"dtype",-5} {"tokens/s",9} {"ms/token",9} {"MB weights",10} {"MB KV",7} {"GB/s",6} {"% roof",7} {"prefill tok/s",13} {"no-cache tok/s",14} {"vs f32",7}");
        var baseline = r.Rows[0];
        foreach (var row in r.Rows)
        {
            string noCache = recompute ? row.RecomputeTokensPerSecond.ToString("F2", inv) : "-";
            stdout.WriteLine(string.Create(inv, $"  {row.Format.Name(),-5} {row.TokensPerSecond,9:F2} {1000 / row.TokensPerSecond,9:F1} {row.WeightBytesPerToken / 1e6,10:F1} {row.KvBytesPerToken / 1e6,7:F2} " +
                $"{row.AchievedGigabytesPerSecond,6:F1} {100 * r.ShareOfRoof(row),6:F1}% {row.PrefillTokensPerSecond(promptLength),13:F1} {noCache,14} {row.TokensPerSecond / baseline.TokensPerSecond,6:F2}×"));
        }
        stdout.WriteLine();
        foreach (var row in r.Rows)
        {
            if (row.IdenticalToRecompute is bool same)
                stdout.WriteLine($"  {row.Format.Name()}: tokens identical, cache vs recompute: {(same ? "yes" : "no (float rounding picked another argmax)")}");
            if (row.Accuracy is { } acc)
            {
                string greedy = row.FirstDifferenceFromF32 is int d ? $"first differ at step {d} of {row.Ids.Length}" : $"identical over all {row.Ids.Length}";
                stdout.WriteLine(string.Create(inv, $"  {row.Format.Name()} vs f32 over the {acc.Positions}-token prompt: max |Δlogit| {acc.MaxAbsError:G3} ({100 * acc.MaxRelativeError:G3}% of max |logit|), KL mean {acc.MeanKl:G3} / max {acc.MaxKl:G3} nats, argmax agrees {100 * acc.ArgmaxAgreement:F1}%; greedy tokens {greedy}"));
            }
        }
        return 0;
    }

    private static JsonObject Json(GenerationBenchmarkReport r) => new()
    {
        ["model"] = $"{r.Config.Layers}L {r.Config.Heads}H {r.Config.Channels}C", ["parameters"] = r.Config.ParameterCount,
        ["prompt_tokens"] = r.PromptTokens, ["new_tokens"] = r.Tokens, ["threads"] = r.Threads, ["attention"] = r.Attention,
        ["read_gb_per_s"] = r.ReadGigabytesPerSecond,
        ["memory"] = BenchMemoryCommand.Json(r.Memory),
        ["rows"] = new JsonArray(r.Rows.Select(row => (JsonNode)new JsonObject
        {
            ["dtype"] = row.Format.Name(),
            ["kv_cache_tokens_per_s"] = row.TokensPerSecond,
            ["prefill_tokens_per_s"] = row.PrefillTokensPerSecond(r.PromptTokens),
            ["recompute_tokens_per_s"] = double.IsNaN(row.RecomputeSeconds) ? null : row.RecomputeTokensPerSecond,
            ["weight_bytes_per_token"] = row.WeightBytesPerToken, ["kv_bytes_per_token"] = row.KvBytesPerToken,
            ["achieved_gb_per_s"] = row.AchievedGigabytesPerSecond, ["share_of_read_bandwidth"] = r.ShareOfRoof(row),
            ["speedup_vs_f32"] = row.TokensPerSecond / r.Rows[0].TokensPerSecond,
            ["identical_tokens"] = row.IdenticalToRecompute,
            ["accuracy"] = row.Accuracy is { } acc ? AccuracyJson(acc) : null,
            ["first_greedy_difference_from_f32"] = row.FirstDifferenceFromF32,
        }).ToArray()),
    };

    public static JsonObject AccuracyJson(WeightFormatAccuracy acc) => new()
    {
        ["dtype"] = acc.Format.Name(), ["positions"] = acc.Positions, ["max_abs_error"] = acc.MaxAbsError,
        ["max_relative_error"] = acc.MaxRelativeError, ["mean_kl"] = acc.MeanKl, ["max_kl"] = acc.MaxKl,
        ["argmax_agreement"] = acc.ArgmaxAgreement, ["greedy_tokens"] = acc.GreedyTokens,
        ["first_greedy_difference"] = acc.FirstGreedyDifference,
    };

    private sealed class LineProgress(TextWriter w) : IProgress<string>
    {
        public void Report(string value) => w.WriteLine($"  … {value}");
    }
}
