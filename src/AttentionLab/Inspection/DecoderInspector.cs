using System.Globalization;
using AttentionLab.Hooks;
using AttentionLab.Models;
using AttentionLab.Text;

namespace AttentionLab.Inspection;

/// <summary>What to compute in one <see cref="DecoderInspector.Inspect"/> call.</summary>
public sealed record InspectionOptions
{
    /// <summary>How many most likely next tokens to report.</summary>
    public int TopK { get; init; } = 5;

    /// <summary>Keep the (T, V) logits of every position (large for GPT-2's vocabulary).</summary>
    public bool IncludeLogits { get; init; } = true;

    /// <summary>Only this layer's maps (null: every layer). The forward pass always runs every layer.</summary>
    public int? Layer { get; init; }

    /// <summary>Only this head's maps (null: every head).</summary>
    public int? Head { get; init; }

    /// <summary>(L·H) multipliers on each head's output (1 = as trained, 0 = head zeroed); null = no intervention.
    /// Applied as hooks on <c>blocks.{l}.attn.hook_z</c> for this call only.</summary>
    public float[]? HeadGates { get; init; }

    /// <summary>The call's kernel, masks and further hooks; null = the model's kernel and masks.</summary>
    public ForwardOptions? Forward { get; init; }
}

/// <summary>One of the most likely next tokens.</summary>
public sealed record NextToken(int Id, string Token, double Probability);

/// <summary>
/// Everything <c>attnlab inspect --json</c> and the web Explorer show for one input of a GPT-2: the tokens, the
/// next-token distribution, every head's attention map and its mean entropy. As every report
/// (<see cref="IAttentionReport"/>) its maps are also <see cref="Groups"/>: one, "decoder", whose layer l is a view of
/// <paramref name="Attention"/>'s (H, T, T) slice (no copy).
/// </summary>
/// <param name="Attention">(L, H, T, T) attention probabilities, row = query, column = key (heads not selected are 0)</param>
/// <param name="Entropy">(L, H) mean row entropy of each map, in nats</param>
/// <param name="Logits">(T, V) or empty when not requested</param>
/// <param name="ApproximationError">for an approximate kernel (window, performer): max |weights − exact softmax weights|
/// over the maps inspected, from the same q, k and v; null for exact kernels</param>
public sealed record InspectionReport(
    int[] Ids, string[] Tokens, int Layers, int Heads, int Length, int VocabSize,
    float[] Attention, double[] Entropy, float[] Logits, NextToken[] Next,
    string Kernel, bool KernelIsExact, bool IsCausal, double? ApproximationError, float? Loss) : IAttentionReport
{
    public const string Gpt2ModelType = "gpt2";

    /// <summary>The (T, T) map of one head.</summary>
    public ReadOnlySpan<float> Map(int layer, int head) => Attention.AsSpan((layer * Heads + head) * Length * Length, Length * Length);

    public string ModelType => Gpt2ModelType;

    /// <summary>The model's own config.json model_type: "gpt2", or for the Llama family (which the GPT views draw as
    /// "gpt2", <see cref="ModelType"/>) "llama", "qwen2", "qwen3" or "mistral".</summary>
    public string Architecture { get; init; } = Gpt2ModelType;

    /// <summary>Hkv: the key/value heads (H for multi-head attention; query head h reads key/value head h / (H/Hkv)).</summary>
    public int? KeyValueHeads { get; init; }

    /// <summary>The tokens' text, joined.</summary>
    public string Input => string.Concat(Tokens);

    /// <summary>The most likely next token ("" when none was asked for).</summary>
    public string Output => Next.Length == 0 ? "" : Next[0].Token;

    /// <summary>One group, "decoder": (L) maps (H, T, T), causal unless the call lifted the mask (views, built on each
    /// read so a <c>with</c> copy's groups are its own).</summary>
    public IReadOnlyList<AttentionGroup> Groups => [DecoderGroup(Tokens, Layers, Heads, Length, Attention, IsCausal)];

    /// <summary>A decoder-only stack's one group over (L, H, T, T) weights, each layer a slice of them.</summary>
    public static AttentionGroup DecoderGroup(IReadOnlyList<string> tokens, int layers, int heads, int length, float[] attention, bool isCausal)
    {
        int size = heads * length * length;
        var kind = isCausal ? AttentionKinds.DecoderSelf : AttentionKinds.EncoderSelf;
        return new AttentionGroup(AttentionGroup.Decoder, kind,
            Enumerable.Range(0, layers).Select(l => new AttentionMap(kind, l, heads, tokens, tokens, attention.AsMemory(l * size, size))).ToList());
    }
}

/// <summary>
/// The one inspection call the CLI and the web Explorer share: runs the model (inference, no gradients) over the ids
/// and collects the maps, entropies and the next-token distribution.
/// </summary>
public static class DecoderInspector
{
    /// <param name="model">any decoder model (GPT-2, the Llama family); its attention kernel and options are used as they are</param>
    /// <param name="tokenizer">labels the tokens; null shows ids</param>
    /// <param name="ids">(T) token ids, 1 ≤ T ≤ the context length</param>
    public static InspectionReport Inspect(DecoderModel model, ITokenizer? tokenizer, IReadOnlyList<int> ids, InspectionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(ids);
        options ??= new InspectionOptions();
        var c = model.Config;
        int T = ids.Count, V = c.VocabSize, L = c.Layers, H = c.Heads;
        Check(model, ids, options.TopK, options.Layer);
        if (options.Head is int oh && (oh < 0 || oh >= H)) throw new ArgumentException($"head must be in [0, {H - 1}] for this {H}-head model, got {oh}");

        var tokens = ids.ToArray();
        var kernel = options.Forward?.Attention ?? model.Attention;
        bool causal = (options.Forward?.AttentionOptions ?? model.AttentionOptions).IsCausal;
        var attention = new float[L * H * T * T];
        var entropy = new double[L * H];
        // each block's weights as the forward produces them, copied into the (L, H, T, T) report
        var loss = Run(model, tokens, options.HeadGates, options.Forward, (l, weights) =>
        {
            if (options.Layer is int only && only != l) return;
            Parallel.For(0, H, h =>                                           // heads are independent: one per core
            {
                if (options.Head is int oneHead && oneHead != h) return;
                var map = weights.Span.Slice(h * T * T, T * T);
                map.CopyTo(attention.AsSpan((l * H + h) * T * T, T * T));
                entropy[l * H + h] = HeadEntropy.Mean(map, T, T);
            });
        });
        double? approximationError = null;
        if (!kernel.IsExact)
        {
            // the same q, k, v through exact attention: how far the approximation's weights are from softmax's
            double worst = 0;
            for (int l = 0; l < L; l++)
            {
                if (options.Layer is int only && only != l) continue;
                var exact = model.AttentionWeights(l, Attention.AttentionKernels.Fast);      // (1, H, T, T)
                for (int h = 0; h < H; h++)
                {
                    if (options.Head is int oneHead && oneHead != h) continue;
                    worst = Math.Max(worst, Attention.ApproximationError.Compare(attention.AsSpan((l * H + h) * T * T, T * T),
                        exact.AsSpan(h * T * T, T * T), Attention.AttentionKernels.Fast.Name).MaxAbs);
                }
            }
            approximationError = worst;
        }
        var logits = model.Logits;                                           // (T, V)
        return new InspectionReport(tokens, Labels(tokens, tokenizer), L, H, T, V, attention, entropy,
            options.IncludeLogits ? logits.ToArray() : [], TopTokens(logits.Slice((T - 1) * V, V), options.TopK, tokenizer),
            kernel.Name, kernel.IsExact, causal, approximationError, loss)
        {
            Architecture = LlamaStateDict.IsLlamaFamily(model.Config) ? IO.LlamaFolder.ModelType(model.Config) : InspectionReport.Gpt2ModelType,
            KeyValueHeads = model.Config.KeyValueHeads,
        };
    }

    /// <summary>
    /// Every head at a glance without keeping every map (<see cref="AttentionOverview"/>): thumbnails, entropies and
    /// role scores of all heads and the full maps of one layer, from one forward pass.
    /// </summary>
    /// <param name="model">any decoder model (GPT-2, the Llama family); its attention kernel and options are used as they are</param>
    /// <param name="tokenizer">labels the tokens; null shows ids</param>
    /// <param name="ids">(T) token ids, 1 ≤ T ≤ the context length</param>
    public static AttentionOverview Overview(DecoderModel model, ITokenizer? tokenizer, IReadOnlyList<int> ids, OverviewOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(ids);
        options ??= new OverviewOptions();
        var c = model.Config;
        int T = ids.Count, V = c.VocabSize, L = c.Layers, H = c.Heads;
        Check(model, ids, options.TopK, options.Layer);
        if (options.ThumbnailSide < 1) throw new ArgumentException($"the thumbnail side must be at least 1, got {options.ThumbnailSide}");

        var tokens = ids.ToArray();
        var kernel = options.Forward?.Attention ?? model.Attention;
        bool causal = (options.Forward?.AttentionOptions ?? model.AttentionOptions).IsCausal;
        int S = AttentionThumbnail.Side(T, options.ThumbnailSide);
        var thumbnails = new float[L * H * S * S];                          // (L, H, S, S)
        var layerMaps = new float[(options.Layer is null ? L : 1) * H * T * T];  // (H, T, T) or (L, H, T, T)
        var entropy = new double[L * H];
        var roles = new HeadRoleScores[L * H];
        var loss = Run(model, tokens, options.HeadGates, options.Forward, (l, weights) =>
        {
            Parallel.For(0, H, h =>
            {
                var map = weights.Span.Slice(h * T * T, T * T);             // (T, T)
                if (options.Layer is null) map.CopyTo(layerMaps.AsSpan((l * H + h) * T * T, T * T));
                else if (l == options.Layer) map.CopyTo(layerMaps.AsSpan(h * T * T, T * T));
                var thumbnail = thumbnails.AsSpan((l * H + h) * S * S, S * S);
                if (S == T) map.CopyTo(thumbnail);
                else AttentionThumbnail.MaxPool(map, T, thumbnail, S);
                entropy[l * H + h] = HeadEntropy.Mean(map, T, T);
                roles[l * H + h] = HeadRoles.Compute(map, tokens, l, h, entropy[l * H + h]);
            });
        });
        var last = model.Logits.Slice((T - 1) * V, V);
        return new AttentionOverview(tokens, Labels(tokens, tokenizer), L, H, T, S, thumbnails, options.Layer, layerMaps,
            entropy, roles, TopTokens(last, options.TopK, tokenizer), kernel.Name, kernel.IsExact, causal, loss);
    }

    private static void Check(DecoderModel model, IReadOnlyList<int> ids, int topK, int? layer)
    {
        var c = model.Config;
        if (ids.Count == 0 || ids.Count > c.ContextLength) throw new ArgumentException($"need 1 to {c.ContextLength} tokens, got {ids.Count}");
        if (topK < 1) throw new ArgumentException($"top-k must be at least 1, got {topK}");
        foreach (int id in ids) if ((uint)id >= (uint)c.VocabSize) throw new ArgumentException($"token id {id} is outside the vocabulary [0, {c.VocabSize})");
        if (layer is int l && (l < 0 || l >= c.Layers)) throw new ArgumentException($"layer must be in [0, {c.Layers - 1}] for this {c.Layers}-layer model, got {l}");
    }

    /// <summary>
    /// One forward with the call's options, the head gates as hooks on <c>hook_z</c> and a reader on every
    /// <c>hook_pattern</c> handing each block's weights to <paramref name="observe"/>; returns the mean loss of each
    /// id predicting the next (null for one token). Nothing is set on the model.
    /// </summary>
    private static float? Run(DecoderModel model, int[] tokens, float[]? gates, ForwardOptions? call, Action<int, ReadOnlyMemory<float>> observe)
    {
        var c = model.Config;
        var hooks = new HookSet();
        if (gates is not null) hooks.GateHeads(gates, c.Layers, c.Heads);
        hooks.Read(name => name.EndsWith(".attn.hook_pattern", StringComparison.Ordinal), (context, weights) => observe(context.Layer, weights));
        float loss = model.SequenceLoss(tokens, (call ?? ForwardOptions.None) with { Hooks = hooks });
        return tokens.Length == 1 ? null : loss;
    }

    private static string[] Labels(int[] tokens, ITokenizer? tokenizer) =>
        tokens.Select(id => tokenizer is null ? id.ToString(CultureInfo.InvariantCulture) : tokenizer.TokenText(id)).ToArray();

    /// <summary>The <paramref name="k"/> most likely next tokens under softmax(logits), ties by id.</summary>
    /// <param name="logits">(V)</param>
    public static NextToken[] TopTokens(ReadOnlySpan<float> logits, int k, ITokenizer? tokenizer)
    {
        var probabilities = Probabilities(logits);
        return Enumerable.Range(0, logits.Length).OrderByDescending(i => probabilities[i]).ThenBy(i => i).Take(k)
            .Select(i => new NextToken(i, tokenizer is null ? i.ToString(CultureInfo.InvariantCulture) : tokenizer.TokenText(i), probabilities[i]))
            .ToArray();
    }

    /// <summary>softmax(logits) in double; subtracts the max so exp never overflows.</summary>
    /// <param name="logits">(V)</param>
    public static double[] Probabilities(ReadOnlySpan<float> logits)
    {
        float max = float.NegativeInfinity;
        foreach (var z in logits) max = MathF.Max(max, z);
        var p = new double[logits.Length];
        double sum = 0;
        for (int i = 0; i < p.Length; i++) sum += p[i] = Math.Exp(logits[i] - max);
        for (int i = 0; i < p.Length; i++) p[i] /= sum;
        return p;
    }
}
