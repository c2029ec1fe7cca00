namespace AttentionLab.Inspection;

/// <summary>
/// The counting that explains what attention costs at scale: seed 001's "96 layers × 4,096² attention pairs ≈ 1.6
/// billion" and what a KV cache holds per token, with and without grouped-query attention.
/// </summary>
public static class AttentionArithmetic
{
    /// <summary>Query·key pairs in one forward pass over <paramref name="context"/> tokens: layers × T² (each head
    /// scores the same pairs), as seed 001 counts them.</summary>
    public static long PairsPerForward(int layers, int context) => checked((long)layers * context * context);

    /// <summary>The pairs a causal mask leaves: T·(T+1)/2 per layer (query i sees keys 0…i).</summary>
    public static long CausalPairsPerForward(int layers, int context) => checked((long)layers * context * (context + 1L) / 2);

    /// <summary>Scores computed by every head: layers × heads × T².</summary>
    public static long ScoresPerForward(int layers, int heads, int context) => checked(PairsPerForward(layers, context) * heads);

    /// <summary>KV cache bytes per token: a key and a value vector of D per key/value head, in every layer:
    /// 2 · L · Hkv · D · <paramref name="bytesPerValue"/>.</summary>
    public static long KvCacheBytesPerToken(int layers, int keyValueHeads, int headDim, int bytesPerValue) =>
        checked(2L * layers * keyValueHeads * headDim * bytesPerValue);
}
