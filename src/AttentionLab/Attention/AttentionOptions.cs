namespace AttentionLab.Attention;

/// <summary>How attention scores are scaled and masked. (Masks beyond causal are added by the attention work.)</summary>
public sealed record AttentionOptions
{
    /// <summary>Causal mask: query i sees keys j ≤ i (+ Tk − Tq when Tq ≠ Tk: aligned bottom-right).</summary>
    public bool IsCausal { get; init; }

    /// <summary>Score scale; null means the default 1/√D. 1 means "no scaling".</summary>
    public float? Scale { get; init; }

    public float ScaleFor(int headDim) => Scale ?? 1f / MathF.Sqrt(headDim);
}
