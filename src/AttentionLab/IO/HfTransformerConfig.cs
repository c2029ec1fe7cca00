using System.Text.Json;

namespace AttentionLab.IO;

/// <summary>
/// The rope_scaling block of a Hugging Face config. Only <c>llama3</c> (the default of Llama 3.1/3.2, HF
/// <c>_compute_llama3_parameters</c> in modeling_rope_utils.py) is read; any other type is refused with one line.
/// </summary>
/// <param name="Factor">How much longer the context is than the original (8 for Llama 3.1, 32 for Llama 3.2).</param>
/// <param name="LowFrequencyFactor">Wavelengths longer than original/low are divided by Factor (1 in Llama 3.x).</param>
/// <param name="HighFrequencyFactor">Wavelengths shorter than original/high are kept (4 in Llama 3.x).</param>
/// <param name="OriginalContextLength">original_max_position_embeddings (8192 in Llama 3.x).</param>
public sealed record RopeScaling(double Factor, double LowFrequencyFactor, double HighFrequencyFactor, int OriginalContextLength);

/// <summary>
/// The fields of a Hugging Face config.json for the Llama family (LlamaForCausalLM, MistralForCausalLM,
/// Qwen2ForCausalLM, Qwen3ForCausalLM) that decide the model's shape, with HF's defaults where a field is absent
/// (configuration_llama.py, configuration_mistral.py, configuration_qwen2.py, configuration_qwen3.py). Architecture
/// facts that are not in the file are derived from <see cref="ModelType"/>: Qwen2 always has q/k/v biases, Qwen3
/// always has per-head q/k RMSNorm.
/// <code>
///   var hf = HfTransformerConfig.Read("SmolLM2-135M");   // hf.KeyValueHeads: 3, hf.Heads: 9, hf.TiedOutput: true
/// </code>
/// </summary>
public sealed record HfTransformerConfig
{
    /// <summary>The model_type values read: llama, mistral, qwen2, qwen3.</summary>
    public static IReadOnlyList<string> ModelTypes { get; } = ["llama", "mistral", "qwen2", "qwen3"];

    /// <summary>config.json's model_type (one of <see cref="ModelTypes"/>).</summary>
    public required string ModelType { get; init; }

    /// <summary>architectures[0] (e.g. "LlamaForCausalLM"), or null when absent.</summary>
    public string? Architecture { get; init; }

    /// <summary>vocab_size (V).</summary>
    public required int VocabSize { get; init; }

    /// <summary>hidden_size (C).</summary>
    public required int Channels { get; init; }

    /// <summary>intermediate_size: the width of the gated MLP's gate and up projections.</summary>
    public required int IntermediateSize { get; init; }

    /// <summary>num_hidden_layers (L).</summary>
    public required int Layers { get; init; }

    /// <summary>num_attention_heads (H, query heads).</summary>
    public required int Heads { get; init; }

    /// <summary>num_key_value_heads (Hkv; HF default: H). H must divide by it.</summary>
    public required int KeyValueHeads { get; init; }

    /// <summary>head_dim (D; HF default: C / H). Qwen3 and Gemma-style configs give it explicitly.</summary>
    public required int HeadDim { get; init; }

    /// <summary>max_position_embeddings: the longest context the model was trained for.</summary>
    public required int ContextLength { get; init; }

    /// <summary>rms_norm_eps (HF default 1e-6).</summary>
    public double RmsNormEpsilon { get; init; } = 1e-6;

    /// <summary>rope_theta, the base of the rotary frequencies (HF default 10000).</summary>
    public double RopeTheta { get; init; } = 10000;

    /// <summary>rope_scaling of type llama3, or null.</summary>
    public RopeScaling? RopeScaling { get; init; }

    /// <summary>hidden_act; only "silu" (SwiGLU) is read.</summary>
    public string HiddenActivation { get; init; } = "silu";

    /// <summary>tie_word_embeddings (HF default false; true for SmolLM2 and Qwen2.5-0.5B).</summary>
    public bool TiedOutput { get; init; }

    /// <summary>Biases on q, k and v projections: attention_bias for Llama/Qwen3, always true for Qwen2.</summary>
    public bool QkvBias { get; init; }

    /// <summary>A bias on the output projection o_proj: attention_bias for Llama/Qwen3 (Llama puts it on all four),
    /// never for Qwen2.</summary>
    public bool OutputProjectionBias { get; init; }

    /// <summary>mlp_bias (Llama only; default false): biases on gate, up and down.</summary>
    public bool MlpBias { get; init; }

    /// <summary>Per-head RMSNorm of q and k before the rotation (Qwen3).</summary>
    public bool QkNorm { get; init; }

    /// <summary>Mistral's sliding_window (keys further back than this are not seen), or null for full attention. Qwen2's
    /// sliding_window counts only when use_sliding_window is true.</summary>
    public int? SlidingWindow { get; init; }

    /// <summary>bos_token_id, or null.</summary>
    public int? BosTokenId { get; init; }

    /// <summary>eos_token_id: one id or a list (Llama 3 gives several).</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>torch_dtype ("bfloat16", "float16", "float32"), or null.</summary>
    public string? TorchDtype { get; init; }

    /// <summary>Reads <c>config.json</c> in <paramref name="directory"/>.</summary>
    /// <exception cref="InvalidDataException">a missing or damaged file, an unknown model_type, a field out of range or
    /// a rope_scaling type other than llama3: one line that says which</exception>
    public static HfTransformerConfig Read(string directory)
    {
        var path = Path.Combine(directory, ModelFolder.ConfigFile);
        if (!File.Exists(path)) throw new InvalidDataException($"{directory} has no {ModelFolder.ConfigFile}");
        using var doc = InputFile.ParseJson(InputFile.ReadAllBytes(path, DecoderFolder.MaxConfigBytes, ModelFolder.ConfigFile), path);
        return Parse(doc.RootElement, path);
    }

    /// <summary>Reads a config.json object; <paramref name="what"/> names it in messages.</summary>
    public static HfTransformerConfig Parse(JsonElement root, string what)
    {
        var f = new JsonFields(root, what);
        string type = f.RequiredString("model_type");
        if (!ModelTypes.Contains(type))
            throw new InvalidDataException($"{what}: model_type '{(type.Length <= 40 ? type : type[..40] + "…")}' is not one of {string.Join(", ", ModelTypes)}");
        string? architecture = null;
        if (f.Optional("architectures", JsonValueKind.Array) is JsonElement archs && archs.GetArrayLength() > 0)
            architecture = InputFile.GetText(archs[0], $"{what}: 'architectures[0]'");

        const int Big = 1 << 24;
        int channels = f.RequiredInt("hidden_size", 1, Big);
        int heads = f.RequiredInt("num_attention_heads", 1, 4096);
        int kvHeads = f.OptionalInt("num_key_value_heads", 1, 4096) ?? heads;
        if (heads % kvHeads != 0)
            throw new InvalidDataException($"{what}: num_attention_heads ({heads}) must divide by num_key_value_heads ({kvHeads})");
        int? headDim = f.OptionalInt("head_dim", 1, 65536);
        if (headDim is null && channels % heads != 0)
            throw new InvalidDataException($"{what}: hidden_size ({channels}) must divide by num_attention_heads ({heads}) when head_dim is not given");
        string act = f.OptionalString("hidden_act") ?? "silu";
        if (act != "silu")
            throw new InvalidDataException($"{what}: hidden_act '{act}' is not supported (only silu, the SwiGLU MLP, is)");

        bool attentionBias = f.OptionalBool("attention_bias") ?? false;
        int? window = f.OptionalInt("sliding_window", 1, int.MaxValue);
        if (type == "qwen2" && f.OptionalBool("use_sliding_window") != true) window = null;
        if (type is "llama" or "qwen3") window = null;    // their configs carry the key but their attention ignores it

        return new HfTransformerConfig
        {
            ModelType = type,
            Architecture = architecture,
            VocabSize = f.RequiredInt("vocab_size", 1, Big),
            Channels = channels,
            IntermediateSize = f.RequiredInt("intermediate_size", 1, Big),
            Layers = f.RequiredInt("num_hidden_layers", 1, 4096),
            Heads = heads,
            KeyValueHeads = kvHeads,
            HeadDim = headDim ?? channels / heads,
            ContextLength = f.OptionalInt("max_position_embeddings", 1, 1 << 30) ?? 2048,
            RmsNormEpsilon = f.OptionalDouble("rms_norm_eps", double.Epsilon, 1) ?? 1e-6,
            RopeTheta = f.OptionalDouble("rope_theta", double.Epsilon) ?? 10000,
            RopeScaling = ReadRopeScaling(f, what),
            HiddenActivation = act,
            TiedOutput = f.OptionalBool("tie_word_embeddings") ?? false,
            QkvBias = type == "qwen2" || (type != "mistral" && attentionBias),
            OutputProjectionBias = type is "llama" or "qwen3" && attentionBias,
            MlpBias = type == "llama" && (f.OptionalBool("mlp_bias") ?? false),
            QkNorm = type == "qwen3",
            SlidingWindow = window,
            BosTokenId = f.OptionalInt("bos_token_id", 0, int.MaxValue),
            EosTokenIds = GenerationConfig.ReadIds(f, "eos_token_id", what),
            TorchDtype = f.OptionalString("torch_dtype"),
        };
    }

    private static RopeScaling? ReadRopeScaling(JsonFields f, string what)
    {
        if (f.Optional("rope_scaling", JsonValueKind.Object) is not JsonElement e) return null;
        var s = new JsonFields(e, $"{what}: 'rope_scaling'");
        string type = s.OptionalString("rope_type") ?? s.OptionalString("type") ?? "default";
        if (type == "default") return null;
        if (type != "llama3")
            throw new InvalidDataException($"{what}: rope_scaling type '{(type.Length <= 40 ? type : type[..40] + "…")}' is not supported (only llama3 is)");
        return new RopeScaling(
            s.RequiredDouble("factor", 1),
            s.RequiredDouble("low_freq_factor", double.Epsilon),
            s.RequiredDouble("high_freq_factor", double.Epsilon),
            s.RequiredInt("original_max_position_embeddings", 1));
    }
}
