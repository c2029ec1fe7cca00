namespace AttentionLab.Models;

/// <summary>
/// Where every parameter of the seed materials' GPTModel (<see cref="SeedGpt"/>) lives in one float arena. The
/// arena is laid out for the one stack's layers: the three projections query, key and value side by side as one
/// fused (C, 3C) matrix stored (in, out), and the output projection (C, C) stored (in, out), so
/// <c>y = x·W + b</c> is a plain GEMM (<see cref="Layers.LinearLayer"/>). The names a learner and PyTorch use
/// are the state_dict's (<see cref="StateDictNames"/>, matrices (out, in)); <see cref="StateDict"/> maps them
/// (<see cref="Read"/> and <see cref="Write"/> convert between the two). Arena order: token_embedding, position_embedding, attention.c_attn,
/// attention.c_proj, output_head. Gradients use the same layout.
/// </summary>
public sealed class SeedGptLayout : ParameterLayout
{
    /// <summary>The PyTorch state_dict names, in state_dict order.</summary>
    public static IReadOnlyList<string> StateDictNames { get; } =
    [
        "token_embedding.weight", "position_embedding.weight",
        "attention.query.weight", "attention.query.bias", "attention.key.weight", "attention.key.bias",
        "attention.value.weight", "attention.value.bias", "attention.out.weight", "attention.out.bias",
        "output_head.weight",
    ];

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

    /// <summary>The PyTorch shape of a state_dict entry: (out, in) for the Linear weights.</summary>
    public int[] StateDictShape(string name) => Entry(name).Shape;

    /// <summary>Copies the state_dict entry <paramref name="name"/> out of <paramref name="arena"/> (this layout's
    /// parameters or gradients), in PyTorch's layout.</summary>
    public float[] Read(string name, ReadOnlySpan<float> arena) => Entry(name).Read(arena);

    /// <summary>Writes the state_dict entry <paramref name="name"/> (PyTorch's layout) into <paramref name="arena"/>.</summary>
    public void Write(string name, ReadOnlySpan<float> values, Span<float> arena) => Entry(name).CopyTo(values, arena);

    /// <summary>The entry with this state_dict name; an unknown name is an <see cref="ArgumentException"/> listing the known ones.</summary>
    public StateDictEntry Entry(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return StateDictNames.Contains(name) ? StateDict[name] : throw new ArgumentException(Unknown(name), nameof(name));
    }

    /// <summary>A name that is not the seed GPTModel's.</summary>
    protected override string Unknown(string name) =>
        $"no parameter '{name}'; known: {string.Join(", ", StateDictNames)}";
}
