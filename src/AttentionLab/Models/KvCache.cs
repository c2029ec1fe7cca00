namespace AttentionLab.Models;

/// <summary>
/// The keys and values of every position seen so far, per layer: K and V are (H, Tmax, D).
/// Causal attention never lets an old position look at a new one, so an old position's k and v never
/// change; caching them turns each new token's cost from a forward pass over the whole window into one
/// pass over one token (plus attention over the cached keys, O(T·C) instead of O(T²·C)).
/// </summary>
public sealed class KvCache
{
    /// <summary>Per layer: keys (H, Tmax, D).</summary>
    public float[][] KeysByLayer { get; }
    /// <summary>Per layer: values (H, Tmax, D).</summary>
    public float[][] ValuesByLayer { get; }
    public int Layers { get; }
    public int Heads { get; }
    public int HeadSize { get; }
    /// <summary>Tmax: the model's context window.</summary>
    public int Capacity { get; }
    /// <summary>How many positions are filled (0..Capacity).</summary>
    public int Length { get; set; }

    public KvCache(int layers, int heads, int headSize, int capacity)
    {
        Layers = layers; Heads = heads; HeadSize = headSize; Capacity = capacity;
        KeysByLayer = new float[layers][];
        ValuesByLayer = new float[layers][];
        for (int l = 0; l < layers; l++)
        {
            KeysByLayer[l] = new float[heads * capacity * headSize];
            ValuesByLayer[l] = new float[heads * capacity * headSize];
        }
    }

    /// <summary>Forgets every position (the arrays are reused).</summary>
    public void Clear() => Length = 0;

    /// <summary>Keys of head <paramref name="h"/> at positions [start, start + count): (count, D).</summary>
    public Span<float> Keys(int layer, int h, int start, int count) => KeysByLayer[layer].AsSpan((h * Capacity + start) * HeadSize, count * HeadSize);

    /// <summary>Values of head <paramref name="h"/> at positions [start, start + count): (count, D).</summary>
    public Span<float> Values(int layer, int h, int start, int count) => ValuesByLayer[layer].AsSpan((h * Capacity + start) * HeadSize, count * HeadSize);
}
