namespace AttentionLab.Models;

/// <summary>
/// The parameters of one multi-head self-attention on its own (<see cref="Attention.MultiHeadSelfAttention"/>) in one
/// float arena: the fused (C, 3C) qkv projection and the (C, C) output projection, both stored (in, out), as every
/// block of the one stack has them. The names a learner and PyTorch use are the state_dict's of four
/// <c>nn.Linear(C, C)</c> (<see cref="StateDictNames"/>: query, key, value, out; weights (out, in));
/// <see cref="StateDict"/> maps them (<see cref="Read"/> and <see cref="Write"/> convert).
/// </summary>
public sealed class SelfAttentionLayout : ParameterLayout
{
    /// <summary>The PyTorch state_dict names, in state_dict order.</summary>
    public static IReadOnlyList<string> StateDictNames { get; } =
        ["query.weight", "query.bias", "key.weight", "key.bias", "value.weight", "value.bias", "out.weight", "out.bias"];

    public SelfAttentionLayout(int channels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        Channels = channels;
        int c = channels;
        AttentionWeight = Add("c_attn.weight", c, 3 * c);
        AttentionBias = Add("c_attn.bias", 3 * c);
        ProjectionWeight = Add("c_proj.weight", c, c);
        ProjectionBias = Add("c_proj.bias", c);
        StateDict = new StateDictMap(StateDictMap.Attention("", AttentionWeight, AttentionBias, ProjectionWeight, ProjectionBias, c));
    }

    /// <summary>C, the model width.</summary>
    public int Channels { get; }

    /// <summary>(C, 3C) = [W_qᵀ | W_kᵀ | W_vᵀ], stored (in, out).</summary>
    public ParameterView AttentionWeight { get; }

    /// <summary>(3C) = [b_q | b_k | b_v].</summary>
    public ParameterView AttentionBias { get; }

    /// <summary>(C, C) = W_Oᵀ, stored (in, out).</summary>
    public ParameterView ProjectionWeight { get; }

    /// <summary>(C) out.bias.</summary>
    public ParameterView ProjectionBias { get; }

    /// <summary>The state_dict (PyTorch names, (out, in) weights) mapped onto this arena.</summary>
    public StateDictMap StateDict { get; }

    /// <summary>The PyTorch shape of a state_dict entry: (C, C) weights (out, in), (C) biases.</summary>
    public int[] StateDictShape(string name) => Entry(name).Shape;

    /// <summary>Copies the state_dict entry out of <paramref name="arena"/> (parameters or gradients) in PyTorch's layout.</summary>
    public float[] Read(string name, ReadOnlySpan<float> arena) => Entry(name).Read(arena);

    /// <summary>Writes the state_dict entry (PyTorch's layout) into <paramref name="arena"/>.</summary>
    public void Write(string name, ReadOnlySpan<float> values, Span<float> arena) => Entry(name).CopyTo(values, arena);

    /// <summary>The entry with this state_dict name; an unknown name is an <see cref="ArgumentException"/> listing the known ones.</summary>
    public StateDictEntry Entry(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return StateDictNames.Contains(name) ? StateDict[name] : throw new ArgumentException(Unknown(name), nameof(name));
    }

    protected override string Unknown(string name) => $"no parameter '{name}'; known: {string.Join(", ", StateDictNames)}";
}
