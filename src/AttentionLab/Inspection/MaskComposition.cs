using AttentionLab.Attention;

namespace AttentionLab.Inspection;

/// <summary>
/// The masks a learner composes in the Explorer's playground, as one (T, T) visibility matrix, and which score
/// cells three ways of computing attention actually touch:
/// <code>
/// visible[i, j] = (not causal or j ≤ i or (i &lt; P and j &lt; P))        causal; a prefix of P tokens sees itself both ways (prefix LM, T5/UniLM)
///               and (no window or i − W &lt; j ≤ i + A or i &lt; G or j &lt; G)  sliding window of W keys back (A ahead); G global tokens see and are seen by all (Longformer)
///               and not padded[j]                                      key padding
/// naive : every cell is computed, then masked                         T² scores
/// rows  : per query, the contiguous key range the causal/window masks leave (global tokens widen it)
/// tiles : B×B tiles; a tile with no visible cell is skipped (FlashAttention's block skipping)
/// </code>
/// </summary>
public sealed record MaskComposition(int Length, bool IsCausal, int? Window, int WindowAhead, int GlobalTokens, int PrefixLength, int[] Padded, int TileSize)
{
    /// <summary>The composition as the library's attention options (the masks every kernel applies).</summary>
    public AttentionOptions Options()
    {
        bool[]? keep = null;
        if (Padded.Length > 0)
        {
            keep = Enumerable.Repeat(true, Length).ToArray();
            foreach (int p in Padded) if (p >= 0 && p < Length) keep[p] = false;
        }
        return new AttentionOptions
        {
            IsCausal = IsCausal, Window = Window is int w ? new SlidingWindow(w - 1, WindowAhead) : null,
            GlobalTokens = GlobalTokens, PrefixLength = PrefixLength, KeyPaddingMask = keep,
        };
    }

    /// <summary>(T, T) true where query i may attend to key j: <see cref="AttentionOptions.Allows"/>, the one rule.</summary>
    public bool[] Visible()
    {
        int T = Length;
        var options = Options();
        var shape = AttentionShape.Self(1, 1, T, 1);
        var v = new bool[T * T];
        for (int i = 0; i < T; i++)
            for (int j = 0; j < T; j++) v[i * T + j] = options.Allows(0, 0, i, j, shape);
        return v;
    }

    /// <summary>(T, T) cells computed by a kernel that scores, per query row, one contiguous key range covering every
    /// visible key of that row.</summary>
    public static bool[] RowRanges(bool[] visible, int length)
    {
        int T = length;
        var computed = new bool[T * T];
        for (int i = 0; i < T; i++)
        {
            int first = -1, last = -1;
            for (int j = 0; j < T; j++) if (visible[i * T + j]) { if (first < 0) first = j; last = j; }
            for (int j = first; first >= 0 && j <= last; j++) computed[i * T + j] = true;
        }
        return computed;
    }

    /// <summary>(T, T) cells computed by a tiled kernel with <paramref name="tile"/>×<paramref name="tile"/> blocks that
    /// skips every block without a visible cell.</summary>
    public static bool[] Tiles(bool[] visible, int length, int tile)
    {
        if (tile < 1) throw new ArgumentException($"the tile size must be at least 1, got {tile}");
        int T = length;
        var computed = new bool[T * T];
        for (int bi = 0; bi < T; bi += tile)
            for (int bj = 0; bj < T; bj += tile)
            {
                bool any = false;
                for (int i = bi; i < Math.Min(T, bi + tile) && !any; i++)
                    for (int j = bj; j < Math.Min(T, bj + tile); j++) if (visible[i * T + j]) { any = true; break; }
                if (!any) continue;
                for (int i = bi; i < Math.Min(T, bi + tile); i++)
                    for (int j = bj; j < Math.Min(T, bj + tile); j++) computed[i * T + j] = true;
            }
        return computed;
    }

    public void Validate()
    {
        if (Length < 1) throw new ArgumentException($"the sequence needs at least 1 token, got {Length}");
        if (Window is int w && w < 1) throw new ArgumentException($"the window must be at least 1 key, got {w}");
        if (WindowAhead < 0) throw new ArgumentException($"the keys ahead must be ≥ 0, got {WindowAhead}");
        if (GlobalTokens < 0 || GlobalTokens > Length) throw new ArgumentException($"global tokens must be in [0, {Length}], got {GlobalTokens}");
        if (PrefixLength < 0 || PrefixLength > Length) throw new ArgumentException($"the prefix must be in [0, {Length}], got {PrefixLength}");
        if (TileSize < 1) throw new ArgumentException($"the tile size must be at least 1, got {TileSize}");
        foreach (int p in Padded) if (p < 0 || p >= Length) throw new ArgumentException($"padded position {p} is outside [0, {Length - 1}]");
    }
}
