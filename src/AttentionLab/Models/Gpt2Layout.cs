namespace AttentionLab.Models;

/// <summary>The views of one transformer block (names under <c>transformer.h.{i}.</c>).</summary>
public sealed record Gpt2BlockLayout(
    ParameterView Norm1Weight, ParameterView Norm1Bias,
    ParameterView AttentionWeight, ParameterView AttentionBias,
    ParameterView AttentionProjectionWeight, ParameterView AttentionProjectionBias,
    ParameterView Norm2Weight, ParameterView Norm2Bias,
    ParameterView MlpWeight, ParameterView MlpBias,
    ParameterView MlpProjectionWeight, ParameterView MlpProjectionBias)
{
    public IEnumerable<ParameterView> All =>
    [
        Norm1Weight, Norm1Bias, AttentionWeight, AttentionBias, AttentionProjectionWeight, AttentionProjectionBias,
        Norm2Weight, Norm2Bias, MlpWeight, MlpBias, MlpProjectionWeight, MlpProjectionBias,
    ];
}

/// <summary>
/// Where every GPT-2 parameter lives in one float arena, with Hugging Face names. Matrices keep Hugging Face's
/// Conv1D layout (in_features, out_features), so <c>y = x·W + b</c> is a plain (non-transposed) GEMM and loading
/// is a copy; the GEMM packs its operands anyway, so no other layout is faster. The arena order is
/// wte, wpe, then each block, then ln_f. Gradients use the same layout.
/// </summary>
public sealed class Gpt2Layout : ParameterLayout
{

    public Gpt2Layout(Gpt2Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        int v = config.VocabSize, t = config.ContextLength, c = config.Channels;
        TokenEmbedding = Add("transformer.wte.weight", v, c);
        PositionEmbedding = Add("transformer.wpe.weight", t, c);
        var blocks = new Gpt2BlockLayout[config.Layers];
        for (int l = 0; l < config.Layers; l++)
        {
            string p = $"transformer.h.{l}.";
            blocks[l] = new Gpt2BlockLayout(
                Add(p + "ln_1.weight", c), Add(p + "ln_1.bias", c),
                Add(p + "attn.c_attn.weight", c, 3 * c), Add(p + "attn.c_attn.bias", 3 * c),
                Add(p + "attn.c_proj.weight", c, c), Add(p + "attn.c_proj.bias", c),
                Add(p + "ln_2.weight", c), Add(p + "ln_2.bias", c),
                Add(p + "mlp.c_fc.weight", c, 4 * c), Add(p + "mlp.c_fc.bias", 4 * c),
                Add(p + "mlp.c_proj.weight", 4 * c, c), Add(p + "mlp.c_proj.bias", c));
        }
        Blocks = blocks;
        FinalNormWeight = Add("transformer.ln_f.weight", c);
        FinalNormBias = Add("transformer.ln_f.bias", c);
        OutputWeight = config.TiedOutput ? TokenEmbedding : Add("lm_head.weight", v, c);
        OutputBias = config.OutputBias ? Add("lm_head.bias", v) : null;
    }

    public Gpt2Config Config { get; }


    /// <summary>transformer.wte.weight (V, C); also the output head (tied).</summary>
    public ParameterView TokenEmbedding { get; }

    /// <summary>transformer.wpe.weight (T, C).</summary>
    public ParameterView PositionEmbedding { get; }

    public IReadOnlyList<Gpt2BlockLayout> Blocks { get; }

    /// <summary>transformer.ln_f.weight (C).</summary>
    public ParameterView FinalNormWeight { get; }

    /// <summary>transformer.ln_f.bias (C).</summary>
    public ParameterView FinalNormBias { get; }

    /// <summary>The unembedding (V, C): wte when tied, else lm_head.weight.</summary>
    public ParameterView OutputWeight { get; }

    /// <summary>lm_head.bias (V), or null when the head has no bias.</summary>
    public ParameterView? OutputBias { get; }

    /// <summary>A name that is not GPT-2's.</summary>
    protected override string Unknown(string name) => $"GPT-2 has no parameter named '{name}'";
}

