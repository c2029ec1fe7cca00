using AttentionLab.IO;

namespace AttentionLab.Inspection;

/// <summary>
/// One parameter tensor (or, for a layer stack, the same tensor in every layer), named as PyTorch's
/// <c>named_parameters()</c> names it.
/// </summary>
/// <param name="Name">e.g. <c>attention.query.weight</c>, or <c>h.*.attn.c_attn.weight</c> for every layer</param>
/// <param name="Shape">the shape of one copy, as PyTorch stores it</param>
/// <param name="Copies">how many copies (layers); 1 for a single tensor; 0 for a tied tensor that shares storage</param>
/// <param name="Note">why it has this shape, in one phrase</param>
public sealed record ParameterEntry(string Name, long[] Shape, int Copies, string Note)
{
    /// <summary>Elements in one copy: the product of <see cref="Shape"/>.</summary>
    public long PerCopy => Shape.Aggregate(1L, (a, b) => checked(a * b));

    /// <summary>Elements counted for the model: <see cref="PerCopy"/> × <see cref="Copies"/>.</summary>
    public long Count => checked(PerCopy * Copies);

    public string ShapeText => "(" + string.Join(", ", Shape) + ")";
}

/// <summary>
/// Parameter counts per tensor and in total, for the exercises' GPTModel (seed 004, Part 6) and for Hugging Face
/// GPT-2. Pure arithmetic on the configuration; no model is built.
/// </summary>
public sealed class ParameterCount
{
    /// <summary>Which model: "seed" or "gpt2".</summary>
    public required string Architecture { get; init; }
    public required IReadOnlyList<ParameterEntry> Entries { get; init; }

    public long Total => Entries.Aggregate(0L, (sum, e) => checked(sum + e.Count));

    /// <summary>The entries with the largest <see cref="ParameterEntry.Count"/> (more than one on a tie).</summary>
    public IReadOnlyList<ParameterEntry> Largest
    {
        get
        {
            long max = Entries.Max(e => e.Count);
            return Entries.Where(e => e.Count == max).ToArray();
        }
    }

    /// <summary>
    /// The exercises' GPTModel: <c>token_embedding</c> (V, C), <c>position_embedding</c> (max_len, C), one
    /// attention with <c>query</c>, <c>key</c>, <c>value</c>, <c>out</c> = <c>Linear(C, C)</c> with bias, and
    /// <c>output_head = Linear(C, V, bias=False)</c>. No LayerNorm, no MLP, untied output head.
    /// </summary>
    public static ParameterCount Seed(int vocab, int dModel, int heads, int maxLength)
    {
        Validate(vocab, dModel, heads, maxLength, layers: 1);
        long V = vocab, C = dModel, T = maxLength;
        var entries = new List<ParameterEntry>
        {
            new("token_embedding.weight", [V, C], 1, "one C-vector per vocabulary entry"),
            new("position_embedding.weight", [T, C], 1, "one C-vector per position up to max_len"),
        };
        foreach (var name in new[] { "query", "key", "value", "out" })
        {
            // nn.Linear stores weight as (out_features, in_features) and computes y = x·Wᵀ + b.
            entries.Add(new($"attention.{name}.weight", [C, C], 1, "Linear(C, C) weight"));
            entries.Add(new($"attention.{name}.bias", [C], 1, "Linear(C, C) bias"));
        }
        entries.Add(new("output_head.weight", [V, C], 1, "Linear(C, V, bias=False): one C-vector per vocabulary entry"));
        return Checked(new ParameterCount { Architecture = "seed", Entries = entries });
    }

    /// <summary>
    /// Hugging Face <c>GPT2LMHeadModel</c>: <c>wte</c> (V, C), <c>wpe</c> (max_len, C), then per layer
    /// <c>ln_1</c>, <c>attn.c_attn</c> (C, 3C)+3C, <c>attn.c_proj</c> (C, C)+C, <c>ln_2</c>,
    /// <c>mlp.c_fc</c> (C, 4C)+4C, <c>mlp.c_proj</c> (4C, C)+C; then <c>ln_f</c>. <c>lm_head</c> is tied to
    /// <c>wte</c> (same storage), so it adds nothing. Conv1D weights are stored (in, out).
    /// </summary>
    public static ParameterCount Gpt2(int vocab, int dModel, int heads, int maxLength, int layers)
    {
        Validate(vocab, dModel, heads, maxLength, layers);
        long V = vocab, C = dModel, T = maxLength;
        int L = layers;
        var entries = new List<ParameterEntry>
        {
            new("transformer.wte.weight", [V, C], 1, "token embedding, one C-vector per vocabulary entry"),
            new("transformer.wpe.weight", [T, C], 1, "position embedding, one C-vector per position"),
            new("transformer.h.*.ln_1.weight", [C], L, "LayerNorm gain"),
            new("transformer.h.*.ln_1.bias", [C], L, "LayerNorm bias"),
            new("transformer.h.*.attn.c_attn.weight", [C, 3 * C], L, "q, k and v projections in one matrix"),
            new("transformer.h.*.attn.c_attn.bias", [3 * C], L, "q, k and v biases"),
            new("transformer.h.*.attn.c_proj.weight", [C, C], L, "attention output projection"),
            new("transformer.h.*.attn.c_proj.bias", [C], L, "attention output bias"),
            new("transformer.h.*.ln_2.weight", [C], L, "LayerNorm gain"),
            new("transformer.h.*.ln_2.bias", [C], L, "LayerNorm bias"),
            new("transformer.h.*.mlp.c_fc.weight", [C, 4 * C], L, "MLP expansion to 4C"),
            new("transformer.h.*.mlp.c_fc.bias", [4 * C], L, "MLP expansion bias"),
            new("transformer.h.*.mlp.c_proj.weight", [4 * C, C], L, "MLP projection back to C"),
            new("transformer.h.*.mlp.c_proj.bias", [C], L, "MLP projection bias"),
            new("transformer.ln_f.weight", [C], 1, "final LayerNorm gain"),
            new("transformer.ln_f.bias", [C], 1, "final LayerNorm bias"),
            new("lm_head.weight", [V, C], 0, "tied to transformer.wte.weight: same storage, counted once"),
        };
        return Checked(new ParameterCount { Architecture = "gpt2", Entries = entries });
    }

    /// <summary>
    /// A Llama-family decoder (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM), named as
    /// their modeling files name the tensors: <c>model.embed_tokens</c> (V, C); per layer <c>input_layernorm</c> (C),
    /// <c>self_attn.q_proj</c> (H·D, C), <c>k_proj</c> and <c>v_proj</c> (Hkv·D, C) — grouped-query attention: Hkv
    /// key/value heads, each shared by H/Hkv query heads —, <c>o_proj</c> (C, H·D), Qwen2's q/k/v biases, Qwen3's
    /// <c>q_norm</c>/<c>k_norm</c> (D), <c>post_attention_layernorm</c> (C), the SwiGLU MLP's <c>gate_proj</c> and
    /// <c>up_proj</c> (I, C) and <c>down_proj</c> (C, I); then <c>model.norm</c> (C) and <c>lm_head</c> (V, C) unless
    /// tied. RMSNorm has a gain and no bias; rotary positions add no parameters.
    /// </summary>
    public static ParameterCount Llama(HfTransformerConfig c)
    {
        long V = c.VocabSize, C = c.Channels, I = c.IntermediateSize, D = c.HeadDim, Q = c.Heads * D, K = c.KeyValueHeads * D;
        int L = c.Layers;
        var e = new List<ParameterEntry>
        {
            new("model.embed_tokens.weight", [V, C], 1, "token embedding, one C-vector per vocabulary entry"),
            new("model.layers.*.input_layernorm.weight", [C], L, "RMSNorm gain (no bias)"),
            new("model.layers.*.self_attn.q_proj.weight", [Q, C], L, $"{c.Heads} query heads of {D}"),
        };
        if (c.QkvBias) e.Add(new("model.layers.*.self_attn.q_proj.bias", [Q], L, "query bias"));
        e.Add(new("model.layers.*.self_attn.k_proj.weight", [K, C], L, $"{c.KeyValueHeads} key heads of {D}, each shared by {c.Heads / c.KeyValueHeads} query heads"));
        if (c.QkvBias) e.Add(new("model.layers.*.self_attn.k_proj.bias", [K], L, "key bias"));
        e.Add(new("model.layers.*.self_attn.v_proj.weight", [K, C], L, $"{c.KeyValueHeads} value heads of {D}"));
        if (c.QkvBias) e.Add(new("model.layers.*.self_attn.v_proj.bias", [K], L, "value bias"));
        e.Add(new("model.layers.*.self_attn.o_proj.weight", [C, Q], L, "attention output projection"));
        if (c.OutputProjectionBias) e.Add(new("model.layers.*.self_attn.o_proj.bias", [C], L, "attention output bias"));
        if (c.QkNorm)
        {
            e.Add(new("model.layers.*.self_attn.q_norm.weight", [D], L, "per-head RMSNorm of q, one gain per head channel"));
            e.Add(new("model.layers.*.self_attn.k_norm.weight", [D], L, "per-head RMSNorm of k"));
        }
        e.Add(new("model.layers.*.post_attention_layernorm.weight", [C], L, "RMSNorm gain"));
        e.Add(new("model.layers.*.mlp.gate_proj.weight", [I, C], L, "SwiGLU gate: silu(x·Wgᵀ)"));
        if (c.MlpBias) e.Add(new("model.layers.*.mlp.gate_proj.bias", [I], L, "gate bias"));
        e.Add(new("model.layers.*.mlp.up_proj.weight", [I, C], L, "SwiGLU up: multiplied by the gate"));
        if (c.MlpBias) e.Add(new("model.layers.*.mlp.up_proj.bias", [I], L, "up bias"));
        e.Add(new("model.layers.*.mlp.down_proj.weight", [C, I], L, "back to C"));
        if (c.MlpBias) e.Add(new("model.layers.*.mlp.down_proj.bias", [C], L, "down bias"));
        e.Add(new("model.norm.weight", [C], 1, "final RMSNorm gain"));
        e.Add(c.TiedOutput
            ? new("lm_head.weight", [V, C], 0, "tied to model.embed_tokens.weight: same storage, counted once")
            : new("lm_head.weight", [V, C], 1, "output projection, its own matrix (untied)"));
        return Checked(new ParameterCount { Architecture = c.ModelType, Entries = e });
    }

    private static void Validate(int vocab, int dModel, int heads, int maxLength, int layers)
    {
        if (vocab <= 0) throw new ArgumentException($"vocab must be at least 1, got {vocab}");
        if (dModel <= 0) throw new ArgumentException($"d_model must be at least 1, got {dModel}");
        if (heads <= 0) throw new ArgumentException($"heads must be at least 1, got {heads}");
        if (maxLength <= 0) throw new ArgumentException($"max_len must be at least 1, got {maxLength}");
        if (layers <= 0) throw new ArgumentException($"layers must be at least 1, got {layers}");
        // Heads do not change the count (they split C, they do not add weights), but a model must have D = C / H whole.
        if (dModel % heads != 0)
            throw new ArgumentException($"heads ({heads}) must divide d_model ({dModel}): each head gets d_model / heads channels, and {dModel} / {heads} is not a whole number");
    }

    /// <summary>Evaluates every count once so an overflow is reported here, not later while printing.</summary>
    private static ParameterCount Checked(ParameterCount count)
    {
        try { _ = count.Total; }
        catch (OverflowException) { throw new ArgumentException("the parameter count does not fit in 64 bits; use smaller sizes"); }
        return count;
    }
}
