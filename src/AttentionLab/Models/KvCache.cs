using System.Numerics;

namespace AttentionLab.Models;

/// <summary>
/// The keys and values of every position seen so far, per layer: K and V are (Hkv, T, D), Hkv the model's key/value
/// heads (grouped-query attention caches only those: H/Hkv times less than multi-head attention).
/// Causal attention never lets an old position look at a new one, so an old position's k and v never
/// change; caching them turns each new token's cost from a forward pass over the whole window into one
/// pass over one token (plus attention over the cached keys, O(T·C) instead of O(T²·C)).
/// The arrays grow (doubling) with the positions used, up to <see cref="Capacity"/>, so a model with a 128k-token
/// context pays for the positions it runs, not for its whole window.
/// </summary>
public sealed class KvCache
{
    /// <summary>Positions allocated before the first growth.</summary>
    public const int InitialPositions = 256;

    /// <summary>Per layer: keys (Hkv, <see cref="Allocated"/>, D).</summary>
    public float[][] KeysByLayer { get; }
    /// <summary>Per layer: values (Hkv, <see cref="Allocated"/>, D).</summary>
    public float[][] ValuesByLayer { get; }
    public int Layers { get; }
    /// <summary>Key/value heads (Hkv).</summary>
    public int Heads { get; }
    public int HeadSize { get; }
    /// <summary>Tmax: the model's context window, the most positions the cache holds.</summary>
    public int Capacity { get; }
    /// <summary>Positions the arrays hold room for now (≤ Capacity).</summary>
    public int Allocated { get; private set; }
    /// <summary>How many positions are filled (0..Capacity).</summary>
    public int Length { get; set; }

    public KvCache(int layers, int heads, int headSize, int capacity)
    {
        Layers = layers; Heads = heads; HeadSize = headSize; Capacity = capacity;
        Allocated = Math.Min(capacity, InitialPositions);
        KeysByLayer = new float[layers][];
        ValuesByLayer = new float[layers][];
        for (int l = 0; l < layers; l++)
        {
            KeysByLayer[l] = new float[heads * Allocated * headSize];
            ValuesByLayer[l] = new float[heads * Allocated * headSize];
        }
    }

    /// <summary>Bytes the cache adds per position: 2 (k and v) · L · Hkv · D · 4 (float32).</summary>
    public long BytesPerToken => 2L * Layers * Heads * HeadSize * sizeof(float);

    /// <summary>Makes room for positions [0, <paramref name="positions"/>) (at most <see cref="Capacity"/>), keeping
    /// the filled ones. It grows to the next power of two of <paramref name="positions"/> and at least doubles, capped
    /// at the capacity: a 1016-token prompt in a 1024-token window takes the whole window at once, so the decode steps
    /// after it never stop to copy the cache (a regrow allocates and copies every layer's keys and values: ~75 MB for
    /// GPT-2 124M, a 200 ms step where the memory is fresh from the system).</summary>
    public void Reserve(int positions)
    {
        if (positions <= Allocated) return;
        if (positions > Capacity) throw new ArgumentOutOfRangeException(nameof(positions), $"{positions} positions exceed the cache's capacity {Capacity}");
        int grown = (int)Math.Min(Capacity, Math.Max(BitOperations.RoundUpToPowerOf2((uint)positions), 2L * Allocated));
        for (int l = 0; l < Layers; l++)
        {
            KeysByLayer[l] = Regrow(KeysByLayer[l], Allocated, grown);
            ValuesByLayer[l] = Regrow(ValuesByLayer[l], Allocated, grown);
        }
        Allocated = grown;
    }

    private float[] Regrow(float[] old, int from, int to)
    {
        var data = new float[Heads * to * HeadSize];
        int filled = Length * HeadSize;
        for (int h = 0; h < Heads; h++)
            old.AsSpan(h * from * HeadSize, filled).CopyTo(data.AsSpan(h * to * HeadSize));
        return data;
    }

    /// <summary>Forgets every position (the arrays are reused).</summary>
    public void Clear() => Length = 0;

    /// <summary>Keys of key/value head <paramref name="h"/> at positions [start, start + count): (count, D).</summary>
    public Span<float> Keys(int layer, int h, int start, int count) => KeysByLayer[layer].AsSpan((h * Allocated + start) * HeadSize, count * HeadSize);

    /// <summary>Values of key/value head <paramref name="h"/> at positions [start, start + count): (count, D).</summary>
    public Span<float> Values(int layer, int h, int start, int count) => ValuesByLayer[layer].AsSpan((h * Allocated + start) * HeadSize, count * HeadSize);
}
