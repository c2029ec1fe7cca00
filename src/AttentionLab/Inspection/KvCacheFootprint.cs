using System.Globalization;
using AttentionLab.Models;

namespace AttentionLab.Inspection;

/// <summary>
/// What the KV cache of a model holds per token, and what grouped-query attention saves against multi-head
/// attention of the same query heads: 2 (k and v) · L · Hkv · D · bytes, against 2 · L · H · D · bytes.
/// <code>
///   var kv = KvCacheFootprint.For(model.Config);
///   kv.Describe();   // "KV cache 46,080 B/token (3 of 9 heads: 3× smaller than multi-head)"
/// </code>
/// </summary>
/// <param name="Layers">L</param>
/// <param name="Heads">H, the query heads</param>
/// <param name="KeyValueHeads">Hkv, the heads the cache holds</param>
/// <param name="HeadDim">D</param>
/// <param name="BytesPerValue">4 for the float32 cache this library keeps (2 for a bf16 one)</param>
public sealed record KvCacheFootprint(int Layers, int Heads, int KeyValueHeads, int HeadDim, int BytesPerValue = sizeof(float))
{
    /// <summary>The footprint of <paramref name="config"/>'s float32 cache (what <see cref="KvCache.BytesPerToken"/> allocates).</summary>
    public static KvCacheFootprint For(DecoderConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new KvCacheFootprint(config.Layers, config.Heads, config.KeyValueHeads, config.HeadDim);
    }

    /// <summary>2 · L · Hkv · D · bytes.</summary>
    public long BytesPerToken => AttentionArithmetic.KvCacheBytesPerToken(Layers, KeyValueHeads, HeadDim, BytesPerValue);

    /// <summary>2 · L · H · D · bytes: the cache of multi-head attention (Hkv = H) with the same query heads.</summary>
    public long MultiHeadBytesPerToken => AttentionArithmetic.KvCacheBytesPerToken(Layers, Heads, HeadDim, BytesPerValue);

    /// <summary>H / Hkv: how many times smaller than multi-head (1 for multi-head attention itself).</summary>
    public int Saving => Heads / KeyValueHeads;

    /// <summary>"grouped-query", "multi-query" (Hkv = 1 &lt; H) or "multi-head" (Hkv = H).</summary>
    public string AttentionKind => KeyValueHeads == Heads ? "multi-head" : KeyValueHeads == 1 ? "multi-query" : "grouped-query";

    /// <summary>One line: "KV cache 46,080 B/token (3 of 9 heads: 3× smaller than multi-head)", or for multi-head
    /// attention "KV cache 18,432 B/token (multi-head: all 12 heads)".</summary>
    public string Describe()
    {
        var inv = CultureInfo.InvariantCulture;
        string bytes = BytesPerToken.ToString("N0", inv);
        return Saving == 1
            ? $"KV cache {bytes} B/token (multi-head: all {Heads} heads)"
            : $"KV cache {bytes} B/token ({KeyValueHeads} of {Heads} heads: {Saving}× smaller than multi-head)";
    }
}
