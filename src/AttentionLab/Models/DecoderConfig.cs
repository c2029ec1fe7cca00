namespace AttentionLab.Models;

/// <summary>
/// The shape of a GPT-2 (Radford et al. 2019): every field has a default and a reason, as in nanoGPT's GPTConfig.
/// Pre-LayerNorm blocks, a GELU MLP four times as wide as the model, a final LayerNorm and an output head tied to
/// the token embedding.
/// </summary>
public sealed record DecoderConfig
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

    /// <summary>The norm's epsilon (LayerNorm's or RMSNorm's, whichever <see cref="Norm"/> is); GPT-2 uses PyTorch's
    /// default 1e-5, Llama-family configs give <c>rms_norm_eps</c> (1e-5 or 1e-6).</summary>
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

    /// <summary>Pre-norm blocks (GPT-2) or post-norm (the original Transformer, BERT). Saved as
    /// <c>attnlab_norm_placement</c> when post; the head's final norm stays either way.</summary>
    public NormPlacement NormPlacement { get; init; } = NormPlacement.Pre;

    /// <summary>The MLP's nonlinearity (GELU, tanh approximation, for GPT-2).</summary>
    public MlpActivation Activation { get; init; } = MlpActivation.GeluTanh;

    /// <summary>True (GPT-2): the output head is the token embedding transposed (<c>lm_head</c> tied to
    /// <c>wte</c>). False: the head has its own (V, C) matrix <c>lm_head.weight</c> (BERT's MLM head, Llama's untied
    /// head). HF config key <c>tie_word_embeddings</c>.</summary>
    public bool TiedOutput { get; init; } = true;

    /// <summary>True: the output head adds a (V) bias <c>lm_head.bias</c> (BERT's MLM head); GPT-2 has none.
    /// Saved as <c>attnlab_output_bias</c>.</summary>
    public bool OutputBias { get; init; }

    private readonly int? _keyValueHeads, _headDim, _intermediateSize;

    /// <summary>Key/value heads (Hkv, HF num_key_value_heads). Equal to <see cref="Heads"/> (the default) for
    /// multi-head attention; fewer is grouped-query attention (Ainslie et al. 2023), each key/value head serving
    /// H/Hkv query heads, and 1 is multi-query attention (Shazeer 2019). The KV cache holds Hkv heads, so it shrinks
    /// by H/Hkv. H must divide by Hkv.</summary>
    public int KeyValueHeads { get => _keyValueHeads ?? Heads; init => _keyValueHeads = value; }

    /// <summary>Channels per head (D): C / H unless given (Qwen3 and others set HF <c>head_dim</c> so that H·D ≠ C;
    /// the output projection then maps H·D back to C).</summary>
    public int HeadDim { get => _headDim ?? (Heads > 0 ? Channels / Heads : 0); init => _headDim = value; }

    /// <summary>The MLP's hidden width: 4C for GPT-2 (the default), HF <c>intermediate_size</c> for SwiGLU (gate
    /// and up are each this wide; Llama picks about 8C/3 so the three matrices cost what GPT-2's two do).</summary>
    public int IntermediateSize { get => _intermediateSize ?? 4 * Channels; init => _intermediateSize = value; }

    /// <summary>Biases on the q, k and v projections: GPT-2 and Qwen2 have them, Llama and Mistral not.</summary>
    public bool QkvBias { get; init; } = true;

    /// <summary>A bias on the attention's output projection (GPT-2's attn.c_proj.bias; Llama's o_proj has none).</summary>
    public bool OutputProjectionBias { get; init; } = true;

    /// <summary>Biases on the MLP's matrices (GPT-2's c_fc and c_proj; Llama's gate, up, down have none).</summary>
    public bool MlpBias { get; init; } = true;

    /// <summary>Qwen3's per-head RMSNorm of q and k (a gain of D each, shared by the heads) before the rotation: it
    /// keeps the attention logits from growing with training.</summary>
    public bool QkNorm { get; init; }

    /// <summary>The base of the rotary frequencies, θ_i = base^(−2i/D) (HF <c>rope_theta</c>: 10000 in RoFormer and
    /// Llama 2, 500000 in Llama 3, 1000000 in Qwen2.5). Used only with <see cref="PositionEncoding.Rotary"/>.</summary>
    public double RopeTheta { get; init; } = 10000;

    /// <summary>Llama 3.x's <c>rope_scaling</c> (type llama3): long wavelengths slowed by a factor, short ones kept,
    /// a smooth ramp between; null for plain RoPE.</summary>
    public IO.RopeScaling? RopeScaling { get; init; }

    /// <summary>Mistral's sliding window W: each query sees itself and the W − 1 keys before it (through the window
    /// mask every exact kernel applies, or the <c>window:W</c> kernel); null: full causal attention.</summary>
    public int? SlidingWindow { get; init; }

    /// <summary>Width of the attention's heads side by side (H·D; C for GPT-2).</summary>
    public int AttentionChannels => Heads * HeadDim;

    /// <summary>Width of the fused q | k | v projection: (H + 2·Hkv)·D (3C for GPT-2).</summary>
    public int QkvChannels => (Heads + 2 * KeyValueHeads) * HeadDim;

    /// <summary>True when every choice is GPT-2's own: the path the GPU backend and the GPT-2 folder format take.</summary>
    public bool IsGpt2Architecture =>
        Norm == NormKind.LayerNorm && Activation == MlpActivation.GeluTanh && Positions != PositionEncoding.Rotary
        && KeyValueHeads == Heads && HeadDim * Heads == Channels && IntermediateSize == 4 * Channels
        && QkvBias && OutputProjectionBias && MlpBias && !QkNorm && SlidingWindow is null;   // (either norm placement)

    /// <summary>The smallest GPT-2 as OpenAI released it: 124,439,808 parameters.</summary>
    public static DecoderConfig Gpt2_124M { get; } = new();

    /// <summary>nanoGPT's CPU config for tiny Shakespeare at the character level (train_shakespeare_char.py, CPU
    /// settings): 4 layers, 4 heads, 128 channels, 64 positions, 65 characters.</summary>
    public static DecoderConfig ShakespeareChar { get; } = new() { VocabSize = 65, ContextLength = 64, Layers = 4, Channels = 128, Heads = 4 };

    /// <summary>The fixture model tests compare with PyTorch: 65 tokens, 16 positions, 2 layers, 32 channels, 4 heads.</summary>
    public static DecoderConfig Tiny { get; } = new() { VocabSize = 65, ContextLength = 16, Layers = 2, Channels = 32, Heads = 4 };

    /// <summary>
    /// The Llama architecture at this config's size (what <c>attnlab train --arch llama</c> trains): RMSNorm, rotary
    /// positions (θ 10000), the SwiGLU MLP at ≈ 8C/3 (rounded up to a multiple of 8, so its three matrices cost about
    /// what GPT-2's two 4C ones do), grouped-query attention with half as many key/value heads (when H is even), no
    /// biases, an untied head.
    /// </summary>
    /// <param name="keyValueHeads">Hkv, or null for H/2 (H when H is odd)</param>
    public DecoderConfig WithLlamaArchitecture(int? keyValueHeads = null) => this with
    {
        Norm = NormKind.RmsNorm, Activation = MlpActivation.SwiGlu, Positions = PositionEncoding.Rotary,
        IntermediateSize = (8 * Channels / 3 + 7) / 8 * 8,
        KeyValueHeads = keyValueHeads ?? (Heads % 2 == 0 ? Heads / 2 : Heads),
        QkvBias = false, OutputProjectionBias = false, MlpBias = false, TiedOutput = false,
    };

    /// <summary>Preset names for the command line.</summary>
    public static IReadOnlyDictionary<string, DecoderConfig> Presets { get; } = new Dictionary<string, DecoderConfig>(StringComparer.OrdinalIgnoreCase)
    {
        ["gpt2-124m"] = Gpt2_124M,
        ["gpt2"] = Gpt2_124M,
        ["gpt2-medium"] = new() { Layers = 24, Channels = 1024, Heads = 16 },
        ["gpt2-large"] = new() { Layers = 36, Channels = 1280, Heads = 20 },
        ["gpt2-xl"] = new() { Layers = 48, Channels = 1600, Heads = 25 },
        ["char"] = ShakespeareChar,
        ["shakespeare-char"] = ShakespeareChar,
        ["tiny"] = Tiny,
        ["llama-char"] = ShakespeareChar.WithLlamaArchitecture(),
    };

    /// <summary>The preset with this name (case-insensitive).</summary>
    /// <exception cref="ArgumentException">unknown name; the message lists the known ones</exception>
    public static DecoderConfig Preset(string name) =>
        Presets.TryGetValue(name, out var c) ? c
            : throw new ArgumentException($"unknown GPT-2 preset '{name}'; known presets: {string.Join(", ", Presets.Keys)}", nameof(name));

    /// <summary>Trainable parameters, counting the tied embedding once. For GPT-2:
    /// V·C + T·C + L·(12·C² + 13·C) + 2·C, plus V·C for an untied head and V for an output bias; the other choices
    /// change the block's terms (GQA's smaller k and v, SwiGLU's three matrices, no biases, no position table).</summary>
    public long ParameterCount
    {
        get
        {
            long c = Channels, a = (long)Heads * HeadDim, qkv = (long)QkvChannels, m = IntermediateSize;
            long norm = Norm == NormKind.LayerNorm ? 2 * c : c;
            long fc = Activation == MlpActivation.SwiGlu ? 2 * m : m;
            long block = 2 * norm + c * qkv + (QkvBias ? qkv : 0) + a * c + (OutputProjectionBias ? c : 0)
                + (QkNorm ? 2L * HeadDim : 0) + c * fc + (MlpBias ? fc : 0) + m * c + (MlpBias ? c : 0);
            return (long)VocabSize * c + (Positions == PositionEncoding.Rotary ? 0 : (long)ContextLength * c) + Layers * block + norm
                + (TiedOutput ? 0 : (long)VocabSize * c) + (OutputBias ? VocabSize : 0);
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> with a clear message when the sizes cannot form a model.</summary>
    public void Validate()
    {
        if (VocabSize <= 0 || ContextLength <= 0 || Layers <= 0 || Channels <= 0 || Heads <= 0)
            throw new ArgumentException($"GPT-2 sizes must be positive: vocab {VocabSize}, context {ContextLength}, layers {Layers}, channels {Channels}, heads {Heads}");
        if (_headDim is null && Channels % Heads != 0)
            throw new ArgumentException($"channels ({Channels}) must divide by heads ({Heads})");
        if (HeadDim <= 0) throw new ArgumentException($"the head dimension must be positive, got {HeadDim}");
        if (KeyValueHeads <= 0 || Heads % KeyValueHeads != 0)
            throw new ArgumentException($"heads ({Heads}) must divide by key/value heads ({KeyValueHeads})");
        if (IntermediateSize <= 0) throw new ArgumentException($"the MLP width must be positive, got {IntermediateSize}");
        if (Positions == PositionEncoding.Rotary && HeadDim % 2 != 0)
            throw new ArgumentException($"rotary positions rotate pairs of channels: the head dimension ({HeadDim}) must be even");
        if (!(RopeTheta > 0)) throw new ArgumentException($"rope_theta must be positive, got {RopeTheta}");
        if (SlidingWindow is < 1) throw new ArgumentException($"the sliding window must be at least 1 key, got {SlidingWindow}");
        if (!(LayerNormEpsilon > 0)) throw new ArgumentException($"layer_norm_epsilon must be positive, got {LayerNormEpsilon}");
        try { AttentionLab.Attention.AttentionKernels.Parse(Attention); }
        catch (ArgumentException e) { throw new ArgumentException($"attention: {e.Message}"); }
        if (ParameterCount > Array.MaxLength)
            throw new ArgumentException($"{ParameterCount:N0} parameters do not fit one float[] arena");
    }
}
