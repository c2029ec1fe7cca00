namespace AttentionLab.Models;

/// <summary>
/// The parameters of one multi-head self-attention on its own (<see cref="Attention.MultiHeadSelfAttention"/>) in one
/// float arena: the fused (C, 3C) qkv projection and the (C, C) output projection, both stored (in, out), as every
/// block of the one stack has them. The names a learner and PyTorch use are the state_dict's of four
/// <c>nn.Linear(C, C)</c> (query, key, value, out; weights (out, in)); <see cref="StateDict"/> maps them and converts.
/// </summary>
public sealed class SelfAttentionLayout : ParameterLayout
{
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
}
