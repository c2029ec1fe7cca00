using System.Diagnostics;
using AttentionLab.Attention;
using AttentionLab.Kernels;
using AttentionLab.Models;

namespace AttentionLab.Diagnostics;

/// <summary>One weight format's generation figures.</summary>
/// <param name="PrefillSeconds">the prompt through the cached decoder in one pass</param>
/// <param name="DecodeSeconds">the <c>Tokens</c> one-token steps after it (the KV cache), greedy</param>
/// <param name="RecomputeSeconds">the same tokens with no cache (the whole window every step); NaN when not run</param>
/// <param name="WeightBytesPerToken">weights one step reads, at their stored width</param>
/// <param name="KvBytesPerToken">keys and values one step reads, averaged over the steps (2·L·H·Tk·D·4 at Tk cached)</param>
/// <param name="IdenticalToRecompute">the cached and uncached greedy tokens agree (null when not run)</param>
/// <param name="Accuracy">against the float32 model (logits over the prompt); null for float32 itself</param>
/// <param name="FirstDifferenceFromF32">the first decode step whose greedy token differs from float32's, or null</param>
public sealed record GenerationBenchmarkRow(
    WeightFormat Format, double PrefillSeconds, double DecodeSeconds, double RecomputeSeconds, int Tokens,
    long WeightBytesPerToken, long KvBytesPerToken, bool? IdenticalToRecompute, WeightFormatAccuracy? Accuracy,
    int? FirstDifferenceFromF32, int[] Ids)
{
    public double TokensPerSecond => Tokens / DecodeSeconds;
    public double RecomputeTokensPerSecond => Tokens / RecomputeSeconds;
    public double PrefillTokensPerSecond(int promptTokens) => promptTokens / PrefillSeconds;

    /// <summary>(weights + KV) bytes per step × steps per second, in GB/s (10⁹).</summary>
    public double AchievedGigabytesPerSecond => (WeightBytesPerToken + KvBytesPerToken) * TokensPerSecond / 1e9;
}

/// <summary>What <c>attnlab bench generate</c> measured: the memory roof and one row per weight format.</summary>
/// <param name="ReadGigabytesPerSecond">the read bandwidth on <c>Threads</c> threads, measured in the same run</param>
public sealed record GenerationBenchmarkReport(
    DecoderConfig Config, string Attention, int PromptTokens, int Tokens, int Threads,
    MemoryBandwidthReport Memory, double ReadGigabytesPerSecond, IReadOnlyList<GenerationBenchmarkRow> Rows)
{
    /// <summary>A row's achieved GB/s as a share of the measured read bandwidth.</summary>
    public double ShareOfRoof(GenerationBenchmarkRow row) => row.AchievedGigabytesPerSecond / ReadGigabytesPerSecond;
}

/// <summary>
/// Greedy generation speed of GPT-2 (random weights: speed does not depend on them) for each weight format, held
/// against the machine's read bandwidth measured in the same run. A decode step with the KV cache reads every weight
/// once (at its stored width) and the cached keys and values, so (weights + KV bytes) × tokens/s is the bandwidth it
/// achieves; the share of <see cref="MemoryBandwidth"/>'s read figure says how close to the roof it runs. The prompt's
/// prefill is timed apart (it is compute-bound). The 16-bit rows carry their accuracy against float32.
/// </summary>
public static class GenerationBenchmark
{
    /// <param name="formats">the weight formats to run, float32 always first (added when missing: the others are
    /// compared with it)</param>
    /// <param name="recompute">also time the no-cache path (the whole window per token)</param>
    /// <param name="progress">a line as each part starts</param>
    public static GenerationBenchmarkReport Run(DecoderConfig config, IAttentionKernel kernel, IReadOnlyList<WeightFormat> formats,
        int promptTokens, int tokens, bool recompute, long memoryBufferBytes = MemoryBandwidth.DefaultBufferBytes,
        IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(formats);
        if (promptTokens < 1 || tokens < 1) throw new ArgumentOutOfRangeException(nameof(tokens), "the prompt and the generation need at least one token each");
        if (promptTokens + tokens > config.ContextLength)
            throw new ArgumentOutOfRangeException(nameof(tokens), $"{promptTokens} prompt + {tokens} new tokens exceed the context length {config.ContextLength}");
        int threads = Environment.ProcessorCount;
        progress?.Report($"memory bandwidth ({memoryBufferBytes >> 20} MiB, {threads} thread(s))");
        var memory = MemoryBandwidth.Measure(threads > 1 ? [1, threads] : [1], memoryBufferBytes, repeats: 3);

        var f32 = new DecoderModel(config, kernel, training: false);
        f32.InitializeWeights(1);
        var random = new Random(2);
        var prompt = Enumerable.Range(0, promptTokens).Select(_ => random.Next(config.VocabSize)).ToArray();
        var rows = new List<GenerationBenchmarkRow>();
        int[]? f32Ids = null;
        foreach (var format in formats.Prepend(WeightFormat.F32).Distinct())
        {
            progress?.Report($"{format.Name()}: prefill {promptTokens} tokens, then {tokens} steps");
            var model = format == WeightFormat.F32 ? f32 : f32.WithWeightFormat(format);
            var decoder = new CpuCachedDecoder(model);
            decoder.Cache.Reserve(promptTokens + tokens);                   // the timed steps never regrow the cache
            Decode(decoder, prompt, 2);                                     // warm up the JIT
            var (prefill, decode, ids) = Decode(decoder, prompt, tokens);   // on the warm cache: no step allocates
            double recomputeSeconds = double.NaN;
            bool? identical = null;
            if (recompute)
            {
                progress?.Report($"{format.Name()}: {tokens} steps without the cache");
                var generator = new TextGenerator(model);
                _ = generator.Greedy(prompt, 2, useKvCache: false);
                var clock = Stopwatch.StartNew();
                var again = generator.Greedy(prompt, tokens + 1, useKvCache: false);
                recomputeSeconds = clock.Elapsed.TotalSeconds * tokens / (tokens + 1);
                identical = again.SequenceEqual(ids);
            }
            WeightFormatAccuracy? accuracy = null;
            int? first = null;
            if (format == WeightFormat.F32) f32Ids = ids;
            else
            {
                progress?.Report($"{format.Name()}: accuracy against float32 over the prompt");
                accuracy = WeightFormatAccuracy.Measure(f32, model, prompt, prompt, greedyTokens: 0);
                int d = 0;
                while (d < ids.Length && ids[d] == f32Ids![d]) d++;
                first = d < ids.Length ? d : null;
            }
            // step i (1..tokens) attends over Tk = prompt + i cached positions: the mean Tk is prompt + (tokens + 1)/2;
            // each position holds a key and a value of D for each of the Hkv key/value heads (Hkv·D = C for GPT-2)
            long kv = (long)Math.Round(2.0 * config.Layers * config.KeyValueHeads * config.HeadDim * 4 * (promptTokens + (tokens + 1) / 2.0));
            rows.Add(new GenerationBenchmarkRow(format, prefill, decode, recomputeSeconds, tokens, model.WeightBytesPerToken(), kv,
                identical, accuracy, first, ids));
        }
        return new GenerationBenchmarkReport(config, kernel.Name, promptTokens, tokens, threads, memory, memory.Read(threads), rows);
    }

    /// <summary>The prompt in one cached pass from an empty cache, then <paramref name="steps"/> one-token steps,
    /// greedy: (prefill seconds, decode seconds, the steps + 1 chosen ids).</summary>
    private static (double Prefill, double Decode, int[] Ids) Decode(CpuCachedDecoder decoder, int[] prompt, int steps)
    {
        decoder.Clear();
        var sampler = new TokenSampler(SamplingOptions.Greedy, prompt.Length);
        var ids = new int[steps + 1];
        var clock = Stopwatch.StartNew();
        ids[0] = sampler.Next(decoder.Forward(prompt));
        double prefill = clock.Elapsed.TotalSeconds;
        clock.Restart();
        for (int i = 1; i <= steps; i++) ids[i] = sampler.Next(decoder.Forward(ids.AsSpan(i - 1, 1)));
        return (prefill, clock.Elapsed.TotalSeconds, ids);
    }
}
