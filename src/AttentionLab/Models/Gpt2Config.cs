namespace AttentionLab.Models;

/// <summary>
/// The shape of a GPT-2 (Radford et al. 2019): every field has a default and a reason, as in nanoGPT's GPTConfig.
/// Pre-LayerNorm blocks, a GELU MLP four times as wide as the model, a final LayerNorm and an output head tied to
/// the token embedding.
/// </summary>
public sealed record Gpt2Config
{
    /// <summary>Tokens the model knows (V). 50257 for GPT-2's BPE; 65 for tiny Shakespeare's characters.</summary>
    public int VocabSize { get; init; } = 50257;

    /// <summary>Longest sequence (the position table's rows, "block size", HF n_positions).</summary>
    public int ContextLength { get; init; } = 1024;

    /// <summary>Transformer blocks (L, HF n_layer).</summary>
    public int Layers { get; init; } = 12;

    /// <summary>Width of the residual stream (C, HF n_embd).</summary>
    public int Channels { get; init; } = 768;

    /// <summary>Attention heads (H, HF n_head); C must divide by H.</summary>
    public int Heads { get; init; } = 12;

    /// <summary>LayerNorm epsilon; GPT-2 uses PyTorch's default 1e-5.</summary>
    public float LayerNormEpsilon { get; init; } = 1e-5f;

    /// <summary>The attention kernel every block uses, as <see cref="Attention.AttentionKernels.Parse"/> reads it
    /// ("fast", "flash", "window:64,global:1", "performer:64"). Saved with the model (config.json key
    /// <c>attnlab_attention</c>); a model trained with one exact kernel runs with any other exact one.</summary>
    public string Attention { get; init; } = AttentionLab.Attention.AttentionKernels.DefaultName;

    /// <summary>True: causal (decoder, GPT) attention, each position sees only itself and earlier ones. False:
    /// bidirectional (encoder, BERT-style) attention. Saved as <c>attnlab_causal</c>; GPT-2 is causal.</summary>
    public bool IsCausal { get; init; } = true;

    /// <summary>How positions enter the model: GPT-2's learned table wpe (the default), Vaswani's fixed sinusoids (scaled to the token embeddings' RMS, <see cref="SinusoidalPositions.Gpt2Scale"/>), or
    /// none. Saved as <c>attnlab_positions</c> when not learned. With fixed or no positions wpe stays in the arena (the
    /// file layout is GPT-2's) but is held at zero and gets no gradient.</summary>
    public PositionEncoding Positions { get; init; } = PositionEncoding.Learned;

    /// <summary>The normalization of every block and of the head (LayerNorm for GPT-2).</summary>
    public NormKind Norm { get; init; } = NormKind.LayerNorm;

    /// <summary>The MLP's nonlinearity (GELU, tanh approximation, for GPT-2).</summary>
    public MlpActivation Activation { get; init; } = MlpActivation.GeluTanh;

    /// <summary>True (GPT-2): the output head is the token embedding transposed (<c>lm_head</c> tied to
    /// <c>wte</c>). False: the head has its own (V, C) matrix <c>lm_head.weight</c> (BERT's MLM head, Llama's untied
    /// head). HF config key <c>tie_word_embeddings</c>.</summary>
    public bool TiedOutput { get; init; } = true;

    /// <summary>True: the output head adds a (V) bias <c>lm_head.bias</c> (BERT's MLM head); GPT-2 has none.
    /// Saved as <c>attnlab_output_bias</c>.</summary>
    public bool OutputBias { get; init; }

    /// <summary>Key/value heads (Hkv). Equal to <see cref="Heads"/> for multi-head attention, the only kind today;
    /// fewer is grouped-query attention (the Llama-family issue).</summary>
    public int KeyValueHeads => Heads;

    /// <summary>Channels per head (D = C / H).</summary>
    public int HeadDim => Channels / Heads;

    /// <summary>The smallest GPT-2 as OpenAI released it: 124,439,808 parameters.</summary>
    public static Gpt2Config Gpt2_124M { get; } = new();

    /// <summary>nanoGPT's CPU config for tiny Shakespeare at the character level (train_shakespeare_char.py, CPU
    /// settings): 4 layers, 4 heads, 128 channels, 64 positions, 65 characters.</summary>
    public static Gpt2Config ShakespeareChar { get; } = new() { VocabSize = 65, ContextLength = 64, Layers = 4, Channels = 128, Heads = 4 };

    /// <summary>The fixture model tests compare with PyTorch: 65 tokens, 16 positions, 2 layers, 32 channels, 4 heads.</summary>
    public static Gpt2Config Tiny { get; } = new() { VocabSize = 65, ContextLength = 16, Layers = 2, Channels = 32, Heads = 4 };

    /// <summary>Preset names for the command line.</summary>
    public static IReadOnlyDictionary<string, Gpt2Config> Presets { get; } = new Dictionary<string, Gpt2Config>(StringComparer.OrdinalIgnoreCase)
    {
        ["gpt2-124m"] = Gpt2_124M,
        ["gpt2"] = Gpt2_124M,
        ["gpt2-medium"] = new() { Layers = 24, Channels = 1024, Heads = 16 },
        ["gpt2-large"] = new() { Layers = 36, Channels = 1280, Heads = 20 },
        ["gpt2-xl"] = new() { Layers = 48, Channels = 1600, Heads = 25 },
        ["char"] = ShakespeareChar,
        ["shakespeare-char"] = ShakespeareChar,
        ["tiny"] = Tiny,
    };

    /// <summary>The preset with this name (case-insensitive).</summary>
    /// <exception cref="ArgumentException">unknown name; the message lists the known ones</exception>
    public static Gpt2Config Preset(string name) =>
        Presets.TryGetValue(name, out var c) ? c
            : throw new ArgumentException($"unknown GPT-2 preset '{name}'; known presets: {string.Join(", ", Presets.Keys)}", nameof(name));

    /// <summary>Trainable parameters, counting the tied embedding once:
    /// V·C + T·C + L·(12·C² + 13·C) + 2·C, plus V·C for an untied head and V for an output bias.</summary>
    public long ParameterCount
    {
        get
        {
            long c = Channels;
            return (long)VocabSize * c + (long)ContextLength * c + (long)Layers * (12 * c * c + 13 * c) + 2 * c
                + (TiedOutput ? 0 : (long)VocabSize * c) + (OutputBias ? VocabSize : 0);
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> with a clear message when the sizes cannot form a model.</summary>
    public void Validate()
    {
        if (VocabSize <= 0 || ContextLength <= 0 || Layers <= 0 || Channels <= 0 || Heads <= 0)
            throw new ArgumentException($"GPT-2 sizes must be positive: vocab {VocabSize}, context {ContextLength}, layers {Layers}, channels {Channels}, heads {Heads}");
        if (Channels % Heads != 0)
            throw new ArgumentException($"channels ({Channels}) must divide by heads ({Heads})");
        if (!(LayerNormEpsilon > 0)) throw new ArgumentException($"layer_norm_epsilon must be positive, got {LayerNormEpsilon}");
        try { AttentionLab.Attention.AttentionKernels.Parse(Attention); }
        catch (ArgumentException e) { throw new ArgumentException($"attention: {e.Message}"); }
        if (ParameterCount > Array.MaxLength)
            throw new ArgumentException($"{ParameterCount:N0} parameters do not fit one float[] arena");
    }
}
