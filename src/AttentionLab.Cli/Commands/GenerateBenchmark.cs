using System.Diagnostics;
using System.Text.Json.Nodes;
using AttentionLab.Attention;
using AttentionLab.Models;
using AttentionLab.Training;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// <c>attnlab bench generate</c>: greedy tokens per second with the KV cache and without (a full recompute of the
/// window per token through the same model), for GPT-2 124M with random weights.
/// </summary>
internal static class GenerateBenchmark
{
    public const string Summary = "generation tokens/s with and without the KV cache (GPT-2 124M, random weights) [--tokens N] [--prompt-tokens P] [--preset NAME] [--attention NAME] [--json]";

    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        var a = new Args(argv);
        if (a.Help)
        {
            stdout.WriteLine("usage: attnlab bench generate [--preset NAME] [--tokens N] [--prompt-tokens P] [--attention NAME] [--json]");
            stdout.WriteLine("  --preset NAME  model size (default gpt2, the 124M model; weights are random, speed does not depend on them)");
            stdout.WriteLine("  --tokens N     tokens to generate per method (default 32)");
            stdout.WriteLine("  --prompt-tokens P  prompt length in tokens (default 16; the prompt is random ids)");
            stdout.WriteLine("  --attention NAME   attention kernel (default fast)");
            return 0;
        }
        Gpt2Config config;
        try { config = Gpt2Config.Preset(a.String("preset") ?? "gpt2"); }
        catch (ArgumentException e) { throw new CliError(Cli.OneLine(e.Message)); }
        int tokens = a.Int("tokens", 32, 1, 100_000);
        if (a.Has("prompt")) throw new CliError("--prompt is text in every other command; the prompt length here is --prompt-tokens N");
        int promptLength = a.Int("prompt-tokens", 16, 1, config.ContextLength);
        string? attention = a.String("attention");
        bool json = a.Json;
        a.EnsureAllUsed();

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
        if (json)
        {
            stdout.WriteLine(new JsonObject
            {
                ["model"] = $"{config.Layers}L {config.Heads}H {config.Channels}C", ["parameters"] = config.ParameterCount,
                ["prompt_tokens"] = promptLength, ["new_tokens"] = tokens, ["threads"] = Environment.ProcessorCount,
                ["attention"] = model.Attention.Name,
                ["kv_cache_tokens_per_s"] = Rate(cached), ["recompute_tokens_per_s"] = Rate(recompute),
                ["speedup_vs_recompute"] = recompute / cached, ["identical_tokens"] = same,
            }.ToJsonString());
            return 0;
        }
        stdout.WriteLine($"greedy generation, GPT-2 {config.Layers}L {config.Heads}H {config.Channels}C ({config.ParameterCount:N0} parameters, random weights), " +
                         $"{promptLength}-token prompt, {tokens} new tokens, {Environment.ProcessorCount} threads");
        stdout.WriteLine($"  {"method",-44} {"tokens/s",10} {"ms/token",10} {"vs cache",9}");
        void Row(string name, double s) => stdout.WriteLine($"  {name,-44} {Rate(s),10:F2} {1000 * s / tokens,10:F1} {s / cached,8:F2}×");
        Row("KV cache (one new token per step)", cached);
        Row("no cache: recompute the window every step", recompute);
        stdout.WriteLine($"  tokens identical, cache vs recompute: {(same ? "yes" : "no (float rounding picked another argmax)")}");
        return 0;
    }

    private static (double Seconds, int[] Ids) Time(Func<int[]> f)
    {
        var clock = Stopwatch.StartNew();
        var ids = f();
        return (clock.Elapsed.TotalSeconds, ids);
    }
}
