namespace AttentionLab.Inspection;

/// <summary>
/// A (T, T) attention map shrunk to (S, S) for an overview tile (the Explorer's model view of a 1024-token input:
/// 144 heads × 1024² weights would not fit on a screen or through a socket). Each thumbnail cell is the maximum of
/// the block of cells it covers — max, not mean, so a sharp one-key pattern (a diagonal, a sink column) stays as
/// visible at 1024 tokens as at 16. Block r covers rows ⌊r·T/S⌋ … ⌊(r+1)·T/S⌋ − 1 (same for columns).
/// </summary>
public static class AttentionThumbnail
{
    /// <summary>The side S of the thumbnail of a T-token map: T itself when it fits in <paramref name="maxSide"/>.</summary>
    public static int Side(int length, int maxSide) => Math.Max(1, Math.Min(length, maxSide));

    /// <param name="map">(T, T)</param>
    /// <param name="length">T</param>
    /// <param name="thumbnail">(S, S), overwritten</param>
    /// <param name="side">S, at most T</param>
    public static void MaxPool(ReadOnlySpan<float> map, int length, Span<float> thumbnail, int side)
    {
        int T = length, S = side;
        if (T < 1 || S < 1 || S > T) throw new ArgumentException($"the thumbnail side must be in [1, T = {T}], got {S}");
        if (map.Length != T * T) throw new ArgumentException($"the map has {map.Length} entries; (T, T) needs {T * T}");
        if (thumbnail.Length != S * S) throw new ArgumentException($"the thumbnail has {thumbnail.Length} entries; (S, S) needs {S * S}");
        for (int r = 0; r < S; r++)
        {
            int i0 = (int)((long)r * T / S), i1 = (int)((long)(r + 1) * T / S);
            for (int c = 0; c < S; c++)
            {
                int j0 = (int)((long)c * T / S), j1 = (int)((long)(c + 1) * T / S);
                float m = 0;
                for (int i = i0; i < i1; i++)
                {
                    var block = map.Slice(i * T + j0, j1 - j0);
                    if (block.Length >= 16) m = MathF.Max(m, System.Numerics.Tensors.TensorPrimitives.Max(block));
                    else foreach (var x in block) if (x > m) m = x;       // a few cells: a call costs more than the loop
                }
                thumbnail[r * S + c] = m;
            }
        }
    }
}
