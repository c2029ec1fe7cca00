namespace AttentionLab.Models;

/// <summary>The views of one transformer block (names under <c>transformer.h.{i}.</c>). A bias the config leaves
/// out (RMSNorm has none; Llama's linears have none) is null; the q/k norms exist only with <see cref="DecoderConfig.QkNorm"/>.</summary>
public sealed record DecoderBlockLayout(
    ParameterView Norm1Weight, ParameterView? Norm1Bias,
    ParameterView AttentionWeight, ParameterView? AttentionBias,
    ParameterView AttentionProjectionWeight, ParameterView? AttentionProjectionBias,
    ParameterView Norm2Weight, ParameterView? Norm2Bias,
    ParameterView MlpWeight, ParameterView? MlpBias,
    ParameterView MlpProjectionWeight, ParameterView? MlpProjectionBias,
    ParameterView? QueryNormWeight = null, ParameterView? KeyNormWeight = null)
{
    public IEnumerable<ParameterView> All =>
        new[]
        {
            Norm1Weight, Norm1Bias, AttentionWeight, AttentionBias, QueryNormWeight, KeyNormWeight, AttentionProjectionWeight,
            AttentionProjectionBias, Norm2Weight, Norm2Bias, MlpWeight, MlpBias, MlpProjectionWeight, MlpProjectionBias,
        }.OfType<ParameterView>();
}

/// <summary>
/// Where every GPT-2 parameter lives in one float arena, with Hugging Face names. Matrices keep Hugging Face's
/// Conv1D layout (in_features, out_features), so <c>y = x·W + b</c> is a plain (non-transposed) GEMM and loading
/// is a copy; the GEMM packs its operands anyway, so no other layout is faster. The arena order is
/// wte, wpe, then each block, then ln_f. Gradients use the same layout.
/// </summary>
public sealed class DecoderLayout : ParameterLayout
{

    public DecoderLayout(DecoderConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        int v = config.VocabSize, t = config.ContextLength, c = config.Channels;
        int a = config.AttentionChannels, qkv = config.QkvChannels, m = config.IntermediateSize, d = config.HeadDim;
        int fc = config.Activation == MlpActivation.SwiGlu ? 2 * m : m;            // SwiGLU: [gate | up] side by side
        bool layerNorm = config.Norm == NormKind.LayerNorm;
        TokenEmbedding = Add("transformer.wte.weight", v, c);
        PositionEmbedding = config.Positions == PositionEncoding.Rotary ? null : Add("transformer.wpe.weight", t, c);
        var blocks = new DecoderBlockLayout[config.Layers];
        for (int l = 0; l < config.Layers; l++)
        {
            string p = $"transformer.h.{l}.";
            var norm1 = Add(p + "ln_1.weight", c);
            var norm1Bias = layerNorm ? Add(p + "ln_1.bias", c) : null;
            var attention = Add(p + "attn.c_attn.weight", c, qkv);                    // [q | k | v] columns: H·D, Hkv·D, Hkv·D
            var attentionBias = config.QkvBias ? Add(p + "attn.c_attn.bias", qkv) : null;
            var queryNorm = config.QkNorm ? Add(p + "attn.q_norm.weight", d) : null;
            var keyNorm = config.QkNorm ? Add(p + "attn.k_norm.weight", d) : null;
            var projection = Add(p + "attn.c_proj.weight", a, c);
            var projectionBias = config.OutputProjectionBias ? Add(p + "attn.c_proj.bias", c) : null;
            var norm2 = Add(p + "ln_2.weight", c);
            var norm2Bias = layerNorm ? Add(p + "ln_2.bias", c) : null;
            var mlp = Add(p + "mlp.c_fc.weight", c, fc);
            var mlpBias = config.MlpBias ? Add(p + "mlp.c_fc.bias", fc) : null;
            var mlpProjection = Add(p + "mlp.c_proj.weight", m, c);
            var mlpProjectionBias = config.MlpBias ? Add(p + "mlp.c_proj.bias", c) : null;
            blocks[l] = new DecoderBlockLayout(norm1, norm1Bias, attention, attentionBias, projection, projectionBias,
                norm2, norm2Bias, mlp, mlpBias, mlpProjection, mlpProjectionBias, queryNorm, keyNorm);
        }
        Blocks = blocks;
        FinalNormWeight = Add("transformer.ln_f.weight", c);
        FinalNormBias = layerNorm ? Add("transformer.ln_f.bias", c) : null;
        OutputWeight = config.TiedOutput ? TokenEmbedding : Add("lm_head.weight", v, c);
        OutputBias = config.OutputBias ? Add("lm_head.bias", v) : null;
    }

    public DecoderConfig Config { get; }


    /// <summary>transformer.wte.weight (V, C); also the output head (tied).</summary>
    public ParameterView TokenEmbedding { get; }

    /// <summary>transformer.wpe.weight (T, C); null with rotary positions (nothing is added to the embeddings).</summary>
    public ParameterView? PositionEmbedding { get; }

    public IReadOnlyList<DecoderBlockLayout> Blocks { get; }

    /// <summary>transformer.ln_f.weight (C).</summary>
    public ParameterView FinalNormWeight { get; }

    /// <summary>transformer.ln_f.bias (C); null for RMSNorm.</summary>
    public ParameterView? FinalNormBias { get; }

    /// <summary>The unembedding (V, C): wte when tied, else lm_head.weight.</summary>
    public ParameterView OutputWeight { get; }

    /// <summary>lm_head.bias (V), or null when the head has no bias.</summary>
    public ParameterView? OutputBias { get; }

    /// <summary>A name that is not GPT-2's.</summary>
    protected override string Unknown(string name) => $"GPT-2 has no parameter named '{name}'";
}

