using System.Diagnostics;
using System.Text.Json.Nodes;
using AttentionLab.Attention;
using AttentionLab.Inspection;
using AttentionLab.IO;
using AttentionLab.Models;
using AttentionLab.Training;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// <c>attnlab bench generate</c>: greedy tokens per second with the KV cache and without (a full recompute of the
/// window per token through the same model), for GPT-2 124M with random weights, or a model of a Hugging Face
/// checkpoint's exact shape (<c>--preset smollm2-135m</c>, <see cref="HfTransformerPresets"/>) with random weights; the
/// KV cache's bytes per token with it. A preset whose weights and working set do not fit this machine is refused.
/// </summary>
internal static class GenerateBenchmark
{
    public const string Summary = "generation tokens/s with and without the KV cache (GPT-2 124M or smollm2-135m..., random weights) [--tokens N] [--prompt-tokens P] [--preset NAME] [--attention NAME] [--json]";

    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        var a = new Args(argv);
        if (a.Help)
        {
            stdout.WriteLine("usage: attnlab bench generate [--preset NAME] [--tokens N] [--prompt-tokens P] [--attention NAME] [--json]");
            stdout.WriteLine("  --preset NAME  model size (default gpt2, the 124M model; weights are random, speed does not depend on them);");
            stdout.WriteLine($"                 a GPT-2 preset ({string.Join(", ", Gpt2Config.Presets.Keys)}) or a Hugging Face checkpoint's shape");
            stdout.WriteLine($"                 ({string.Join(", ", HfTransformerPresets.Names)}), refused when it does not fit this machine's memory");
            stdout.WriteLine("  --tokens N     tokens to generate per method (default 32)");
            stdout.WriteLine("  --prompt-tokens P  prompt length in tokens (default 16; the prompt is random ids)");
            stdout.WriteLine("  --attention NAME   attention kernel (default fast)");
            return 0;
        }
        string presetName = a.String("preset") ?? "gpt2";
        var hf = HfTransformerPresets.Find(presetName);
        Gpt2Config config;
        if (hf is not null) config = LlamaFolder.ToConfig(hf);
        else
        {
            try { config = Gpt2Config.Preset(presetName); }
            catch (ArgumentException e) { throw new CliError($"{Cli.OneLine(e.Message)}; Hugging Face shapes: {string.Join(", ", HfTransformerPresets.Names)}"); }
        }
        int tokens = a.Int("tokens", 32, 1, 100_000);
        if (a.Has("prompt")) throw new CliError("--prompt is text in every other command; the prompt length here is --prompt-tokens N");
        int promptLength = a.Int("prompt-tokens", 16, 1, config.ContextLength);
        string? attention = a.String("attention");
        bool json = a.Json;
        a.EnsureAllUsed();
        var memory = LoadMemory.Estimate(config.ParameterCount, (long)config.VocabSize * config.Channels, "the token embedding",
            GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
        if (!memory.Fits)
            throw new CliError($"--preset {presetName}: {config.ParameterCount:N0} parameters need about {LoadMemory.Format(memory.RequiredBytes)} " +
                               $"({LoadMemory.Format(memory.WeightBytes)} of float32 weights + {LoadMemory.Format(memory.WorkingSetBytes)} working set) but this process can use {LoadMemory.Format(memory.AvailableBytes)}");
        if (config.ParameterCount > Array.MaxLength)      // the one parameter arena is a float[]
            throw new CliError($"--preset {presetName}: {config.ParameterCount:N0} parameters exceed the largest float32 arena ({Array.MaxLength:N0} values)");

        var model = new Gpt2Model(config, CommandSupport.Kernel(attention), training: false);
        model.InitializeWeights(1);
        var generator = new Gpt2Generator(model);
        var random = new Random(2);
        var prompt = Enumerable.Range(0, promptLength).Select(_ => random.Next(config.VocabSize)).ToArray();
        // warm up the JIT on a few tokens of each path
        _ = generator.Generate(prompt, 2, SamplingOptions.Greedy).ToArray();
        _ = generator.Generate(prompt, 2, SamplingOptions.Greedy, useKvCache: false).ToArray();

        var (cached, cachedIds) = Time(() => generator.Generate(prompt, tokens, SamplingOptions.Greedy).ToArray());
        var (recompute, recomputeIds) = Time(() => generator.Generate(prompt, tokens, SamplingOptions.Greedy, useKvCache: false).ToArray());
        bool same = cachedIds.SequenceEqual(recomputeIds);
        double Rate(double seconds) => tokens / seconds;
        var kv = KvCacheFootprint.For(config);
        string shape = hf is null ? $"GPT-2 {config.Layers}L {config.Heads}H {config.Channels}C"
            : $"{presetName} ({hf.ModelType} {config.Layers}L {config.Heads}H/{config.KeyValueHeads}kv {config.Channels}C)";
        if (json)
        {
            stdout.WriteLine(new JsonObject
            {
                ["preset"] = presetName, ["architecture"] = hf?.ModelType ?? "gpt2",
                ["model"] = $"{config.Layers}L {config.Heads}H {config.Channels}C", ["parameters"] = config.ParameterCount,
                ["heads"] = config.Heads, ["key_value_heads"] = config.KeyValueHeads,
                ["kv_cache_bytes_per_token"] = kv.BytesPerToken, ["multi_head_kv_cache_bytes_per_token"] = kv.MultiHeadBytesPerToken,
                ["prompt_tokens"] = promptLength, ["new_tokens"] = tokens, ["threads"] = Environment.ProcessorCount,
                ["attention"] = model.Attention.Name,
                ["kv_cache_tokens_per_s"] = Rate(cached), ["recompute_tokens_per_s"] = Rate(recompute),
                ["speedup_vs_recompute"] = recompute / cached, ["identical_tokens"] = same,
            }.ToJsonString());
            return 0;
        }
        stdout.WriteLine($"greedy generation, {shape} ({config.ParameterCount:N0} parameters, random weights), " +
                         $"{promptLength}-token prompt, {tokens} new tokens, {Environment.ProcessorCount} threads");
        stdout.WriteLine($"  {"method",-44} {"tokens/s",10} {"ms/token",10} {"vs cache",9}");
        void Row(string name, double s) => stdout.WriteLine($"  {name,-44} {Rate(s),10:F2} {1000 * s / tokens,10:F1} {s / cached,8:F2}×");
        Row("KV cache (one new token per step)", cached);
        Row("no cache: recompute the window every step", recompute);
        stdout.WriteLine($"  tokens identical, cache vs recompute: {(same ? "yes" : "no (float rounding picked another argmax)")}");
        stdout.WriteLine($"  {kv.Describe()}");
        return 0;
    }

    private static (double Seconds, int[] Ids) Time(Func<int[]> f)
    {
        var clock = Stopwatch.StartNew();
        var ids = f();
        return (clock.Elapsed.TotalSeconds, ids);
    }
}
