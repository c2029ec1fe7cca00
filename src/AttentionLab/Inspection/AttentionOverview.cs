using AttentionLab.Models;
using AttentionLab.Text;

namespace AttentionLab.Inspection;

/// <summary>What one <see cref="DecoderInspector.Overview"/> call computes.</summary>
public sealed record OverviewOptions
{
    /// <summary>The largest thumbnail side S (a map of T ≤ S tokens is kept whole).</summary>
    public int ThumbnailSide { get; init; } = 64;

    /// <summary>The layer whose full (H, T, T) maps are kept; null keeps every layer's, (L, H, T, T).</summary>
    public int? Layer { get; init; }

    /// <summary>How many most likely next tokens to report.</summary>
    public int TopK { get; init; } = 10;

    /// <summary>(L·H) multipliers on each head's output (1 = as trained, 0 = head zeroed); null = no intervention.</summary>
    public float[]? HeadGates { get; init; }

    /// <summary>The call's kernel, masks and further hooks; null = the model's kernel and masks.</summary>
    public Models.ForwardOptions? Forward { get; init; }
}

/// <summary>
/// Every head of a model at a glance for one input, without keeping L·H·T² floats (GPT-2 124M at 1024 tokens:
/// 151 M weights, 604 MB): each head's thumbnail, mean entropy and role scores, computed from each block's weights as
/// the forward pass produces them, plus the full maps of one layer. The Explorer's model view draws this; the
/// numbers equal those of <see cref="DecoderInspector.Inspect"/> on the same input (tested).
/// </summary>
/// <param name="Side">S, the thumbnail side: min(T, the requested side)</param>
/// <param name="Thumbnails">(L, H, S, S) max-pooled maps (<see cref="AttentionThumbnail"/>)</param>
/// <param name="Layer">the layer whose maps <paramref name="LayerMaps"/> holds; null: every layer</param>
/// <param name="LayerMaps">(H, T, T) the full maps of <paramref name="Layer"/>, or (L, H, T, T) when it is null</param>
/// <param name="Entropy">(L, H) mean row entropy of each map, in nats</param>
/// <param name="Roles">(L·H) role scores, layer-major</param>
public sealed record AttentionOverview(
    int[] Ids, string[] Tokens, int Layers, int Heads, int Length, int Side, float[] Thumbnails,
    int? Layer, float[] LayerMaps, double[] Entropy, HeadRoleScores[] Roles, NextToken[] Next,
    string Kernel, bool KernelIsExact, bool IsCausal, float? Loss)
{
    /// <summary>The full (H, T, T) maps of <paramref name="layer"/> (which must be kept).</summary>
    public ReadOnlyMemory<float> Maps(int layer)
    {
        int size = Heads * Length * Length;
        if (Layer is int only)
            return only == layer ? LayerMaps : throw new ArgumentException($"this overview keeps the maps of layer {only}, not {layer}");
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layer, Layers);
        return LayerMaps.AsMemory(layer * size, size);
    }
}
