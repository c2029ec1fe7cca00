using System.Runtime.InteropServices;

namespace AttentionLab.Models;

/// <summary>
/// Text generation for GPT-2: prompt → next-token logits → sample → append, one token at a time. It has no math of its
/// own: every logit comes from <see cref="DecoderModel"/>'s one forward path, either
/// <see cref="DecoderModel.ForwardCached"/> (the new token only, attending to the cached keys and values of the earlier
/// ones) or <see cref="DecoderModel.Forward"/> over the whole window (<c>useKvCache: false</c>). The two agree to float32
/// rounding (the GEMMs sum in another order for one row than for a window), which the tests check. The cached path runs
/// on an <see cref="ICachedDecoder"/>: the CPU model's own (<see cref="CpuCachedDecoder"/>) unless one is given, e.g. a
/// GPU's that keeps the cache on the device.
/// </summary>
public sealed class TextGenerator
{
    /// <param name="model">the model to sample from; an inference model (or <see cref="DecoderModel.InferenceView"/> of a
    /// training one) keeps generation from disturbing training</param>
    /// <param name="decoder">where the cached steps run (cleared at the start of each generation); null: a fresh
    /// <see cref="CpuCachedDecoder"/> over <paramref name="model"/> per generation</param>
    public TextGenerator(DecoderModel model, ICachedDecoder? decoder = null)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Decoder = decoder;
    }

    public DecoderModel Model { get; }

    /// <summary>The decoder of the cached path, or null for the CPU model's own.</summary>
    public ICachedDecoder? Decoder { get; }

    /// <summary>
    /// Generates up to <paramref name="maxNewTokens"/> tokens after <paramref name="prompt"/>, yielding each as soon as
    /// it is chosen. The model sees the most recent context-length tokens: a longer prompt is cropped to its end, and
    /// once the sequence outgrows the context the window slides. Sliding shifts every token to a new absolute position
    /// (and its position embedding), so the cache is then refilled for the new window; within the window each step
    /// processes only the new token.
    /// </summary>
    /// <param name="endOfSequenceIds">ids that end the sequence (a Hugging Face folder's generation_config.json
    /// eos_token_id, <see cref="IO.GenerationConfig"/>): the first one drawn is yielded and generation stops there, as
    /// transformers' generate does; null or empty: only <paramref name="maxNewTokens"/> stops it</param>
    public IEnumerable<int> Generate(IReadOnlyList<int> prompt, int maxNewTokens, SamplingOptions sampling, bool useKvCache = true,
        IReadOnlyCollection<int>? endOfSequenceIds = null)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(sampling);
        if (prompt.Count == 0) throw new ArgumentException("the prompt needs at least one token");
        if (maxNewTokens < 0) throw new ArgumentOutOfRangeException(nameof(maxNewTokens), "must be non-negative");
        foreach (int id in prompt)
            if ((uint)id >= (uint)Model.Config.VocabSize) throw new ArgumentException($"token id {id} is outside the vocabulary [0, {Model.Config.VocabSize})");
        if (useKvCache && !Model.AttentionOptions.IsCausal) useKvCache = false; // a bidirectional model recomputes
        // the sampler starts at the prompt's length: the token at position t is drawn with TokenSampler.Uniform(seed, t),
        // which is what the Explorer's stateless steps draw with too
        return Iterate(prompt.ToList(), maxNewTokens, new TokenSampler(sampling, position: prompt.Count), useKvCache, endOfSequenceIds ?? []);
    }

    private IEnumerable<int> Iterate(List<int> tokens, int maxNewTokens, TokenSampler sampler, bool useKvCache, IReadOnlyCollection<int> stop)
    {
        var cache = useKvCache ? Decoder ?? new CpuCachedDecoder(Model) : null;
        cache?.Clear();
        int context = Model.Config.ContextLength, cachedWindowStart = -1;
        for (int step = 0; step < maxNewTokens; step++)
        {
            int next = sampler.Next(NextLogits(CollectionsMarshal.AsSpan(tokens), cache, context, ref cachedWindowStart));
            tokens.Add(next);
            yield return next;
            if (stop.Contains(next)) yield break;
        }
    }

    /// <summary>(V) logits after the last of <paramref name="tokens"/>, through the cache when one is given.</summary>
    private ReadOnlySpan<float> NextLogits(ReadOnlySpan<int> tokens, ICachedDecoder? cache, int context, ref int cachedWindowStart)
    {
        int windowStart = Math.Max(0, tokens.Length - context);
        var window = tokens[windowStart..];
        if (cache is null)
        {
            Model.Forward(window, 1, window.Length);
            int v = Model.Config.VocabSize;
            return Model.Logits.Slice((window.Length - 1) * v, v);
        }
        bool incremental = windowStart == cachedWindowStart && cache.Length == window.Length - 1;
        if (incremental) return cache.Forward(window[^1..]);                  // one new token
        cache.Clear();                                                        // (re)fill the whole window
        cachedWindowStart = windowStart;
        return cache.Forward(window);
    }

    /// <summary>Greedy decoding (always the most likely token): the deterministic continuation benchmarks and tests
    /// compare across kernels and against the cache.</summary>
    public int[] Greedy(IReadOnlyList<int> prompt, int count, bool useKvCache = true) =>
        Generate(prompt, count, SamplingOptions.Greedy, useKvCache).ToArray();
}
