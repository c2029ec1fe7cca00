namespace AttentionLab.Models;

/// <summary>
/// Where every parameter of the seed materials' GPTModel (<see cref="SeedGpt"/>) lives in one float arena. The
/// arena is laid out for the one stack's layers: the three projections query, key and value side by side as one
/// fused (C, 3C) matrix stored (in, out), and the output projection (C, C) stored (in, out), so
/// <c>y = x·W + b</c> is a plain GEMM (<see cref="Layers.LinearLayer"/>). The names a learner and PyTorch use
/// are the state_dict's (matrices (out, in)); <see cref="StateDict"/> maps them and converts between the two. Arena order: token_embedding, position_embedding, attention.c_attn,
/// attention.c_proj, output_head. Gradients use the same layout.
/// </summary>
public sealed class SeedGptLayout : ParameterLayout
{
    public SeedGptLayout(SeedGptConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        int v = config.VocabSize, t = config.MaxLength, c = config.DModel;
        TokenEmbedding = Add("token_embedding.weight", v, c);
        PositionEmbedding = Add("position_embedding.weight", t, c);
        AttentionWeight = Add("attention.c_attn.weight", c, 3 * c);
        AttentionBias = Add("attention.c_attn.bias", 3 * c);
        ProjectionWeight = Add("attention.c_proj.weight", c, c);
        ProjectionBias = Add("attention.c_proj.bias", c);
        OutputWeight = Add("output_head.weight", v, c);
        StateDict = new StateDictMap(
            new StateDictEntry[] { new("token_embedding.weight", [v, c], TokenEmbedding), new("position_embedding.weight", [t, c], PositionEmbedding) }
                .Concat(StateDictMap.Attention("attention.", AttentionWeight, AttentionBias, ProjectionWeight, ProjectionBias, c))
                .Append(new("output_head.weight", [v, c], OutputWeight)));
    }

    public SeedGptConfig Config { get; }

    /// <summary>token_embedding.weight (V, C).</summary>
    public ParameterView TokenEmbedding { get; }

    /// <summary>position_embedding.weight (T_max, C).</summary>
    public ParameterView PositionEmbedding { get; }

    /// <summary>(C, 3C) = [W_qᵀ | W_kᵀ | W_vᵀ]: query, key and value fused, stored (in, out).</summary>
    public ParameterView AttentionWeight { get; }

    /// <summary>(3C) = [b_q | b_k | b_v].</summary>
    public ParameterView AttentionBias { get; }

    /// <summary>(C, C) = W_Oᵀ: attention.out stored (in, out).</summary>
    public ParameterView ProjectionWeight { get; }

    /// <summary>(C) attention.out.bias.</summary>
    public ParameterView ProjectionBias { get; }

    /// <summary>output_head.weight (V, C): Linear(C, V, bias = False), the same (out, in) layout as PyTorch's.</summary>
    public ParameterView OutputWeight { get; }

    /// <summary>The state_dict (PyTorch names, (out, in) Linear weights) mapped onto this arena.</summary>
    public StateDictMap StateDict { get; }
}
