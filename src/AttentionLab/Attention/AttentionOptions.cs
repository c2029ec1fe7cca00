namespace AttentionLab.Attention;

/// <summary>
/// A sliding (local) attention window, in key positions relative to the query's aligned position
/// p = i + Tk − Tq: query i sees key j iff p − <see cref="Before"/> ≤ j ≤ p + <see cref="After"/>.
/// <c>new SlidingWindow(w - 1)</c> is the one-sided window of Mistral's <c>sliding_window = w</c>
/// (the query and the w − 1 keys before it); <c>new SlidingWindow(w, w)</c> is Longformer's two-sided window.
/// </summary>
/// <param name="Before">keys to the left of the query that stay visible (≥ 0)</param>
/// <param name="After">keys to the right of the query that stay visible (≥ 0; irrelevant when causal)</param>
public readonly record struct SlidingWindow(int Before, int After = 0);

/// <summary>
/// How attention scores are scaled and masked: <c>softmax(q·kᵀ·Scale + additive mask)</c> over the keys each query
/// may see. Every mask kind can be combined with every other. Two masks are widened by union before the rest are
/// intersected: <see cref="PrefixLength"/> OR causal, and <see cref="GlobalTokens"/> OR the sliding window; then
/// key padding, the boolean mask and the additive −∞ entries must all allow the key too.
/// See docs/attention.md for the conventions, and <see cref="Allows"/> for the rule in one place.
/// </summary>
public sealed record AttentionOptions
{
    /// <summary>The defaults: no mask, scale 1/√D.</summary>
    public static AttentionOptions Default { get; } = new();

    /// <summary>Causal self-attention with the default scale.</summary>
    public static AttentionOptions Causal { get; } = new() { IsCausal = true };

    /// <summary>
    /// Causal mask: query i sees key j iff j ≤ i + (Tk − Tq) (<see cref="CausalAllows"/>). When Tq = Tk that is j ≤ i
    /// (<c>torch.tril</c>). When Tq &lt; Tk the queries are the last Tq positions of the key sequence (aligned
    /// bottom-right, the KV-cache convention of PyTorch's <c>causal_lower_right</c> and FlashAttention 2).
    /// </summary>
    public bool IsCausal { get; init; }

    /// <summary>
    /// Query i's position on the key axis, p = i + (Tk − Tq): the queries are the last Tq of the Tk positions (aligned
    /// bottom-right). The causal rule is j ≤ p, and the sliding window is centred on p. The one definition of the
    /// alignment: every CPU kernel takes a row's p from here once and compares keys with it (the GPU kernels, which
    /// ILGPU compiles on their own, repeat this one line and point here).
    /// </summary>
    /// <param name="i">the query, in [0, Tq)</param>
    public static int AlignedPosition(int i, int queryLength, int keyLength) => i + (keyLength - queryLength);

    /// <summary>The causal rule: query i (of Tq) may see key j (of Tk) iff j ≤ <see cref="AlignedPosition"/>(i, Tq, Tk).</summary>
    public static bool CausalAllows(int i, int j, int queryLength, int keyLength) => j <= AlignedPosition(i, queryLength, keyLength);

    /// <summary>Score scale; null means the default 1/√D. Any value is allowed; 1 means "no scaling".</summary>
    public float? Scale { get; init; }

    /// <summary>Optional sliding window; null means no window.</summary>
    public SlidingWindow? Window { get; init; }

    /// <summary>
    /// Longformer's global tokens, OR-ed with the sliding <see cref="Window"/>: the first G key positions are global.
    /// A query at aligned position p &lt; G sees every key the other masks allow, and every query sees keys j &lt; G.
    /// Without a window every key is already in range, so G changes nothing. 0 = none.
    /// </summary>
    public int GlobalTokens { get; init; }

    /// <summary>
    /// Prefix-LM (T5, UniLM): keys j &lt; PrefixLength are visible to every query even when causal (OR-ed with
    /// <see cref="IsCausal"/>), so the prefix is read bidirectionally and the rest generated left to right.
    /// Without causal it changes nothing. 0 = none.
    /// </summary>
    public int PrefixLength { get; init; }

    /// <summary>Key padding: (B, Tk), true = a real token to attend to, false = padding (masked for every query and head).</summary>
    public bool[]? KeyPaddingMask { get; init; }

    /// <summary>Optional boolean mask (Tq, Tk) or (B|1, H|1, Tq, Tk): true = attend.</summary>
    public AttentionMask? BooleanMask { get; init; }

    /// <summary>Optional additive float mask (Tq, Tk) or (B|1, H|1, Tq, Tk), added after scaling; −∞ entries mask keys.</summary>
    public AttentionMask? AdditiveMask { get; init; }

    public float ScaleFor(int headDim) => Scale ?? 1f / MathF.Sqrt(headDim);

    /// <summary>True when some mask applies element by element (not just as a contiguous key range per row).</summary>
    internal bool HasElementMasks => KeyPaddingMask is not null || BooleanMask is not null || AdditiveMask is not null;

    /// <summary>
    /// Key padding from numbers as the fixtures store it: (B, Tk), non-zero = attend, 0 = padding.
    /// </summary>
    public static bool[] KeyPaddingFrom(ReadOnlySpan<float> mask)
    {
        var result = new bool[mask.Length];
        for (int i = 0; i < mask.Length; i++) result[i] = mask[i] != 0;
        return result;
    }

    /// <summary>
    /// The masking rule for one score, the way a learner would write it: may query i of head (b, h) attend to key j?
    /// <code>
    /// (causal(i, j) OR j &lt; PrefixLength) AND (window(i, j) OR j &lt; G OR p &lt; G) AND padding AND boolean
    /// </code>
    /// with p = i + Tk − Tq the query's position on the key axis. An additive −∞ masks too, but that is applied with
    /// the score (see <see cref="BiasAt"/>).
    /// </summary>
    public bool Allows(int b, int h, int i, int j, AttentionShape shape)
    {
        int p = AlignedPosition(i, shape.QueryLength, shape.KeyLength); // the query's position on the key axis
        if (IsCausal && j > p && j >= PrefixLength) return false;       // j > p: the causal rule (CausalAllows) fails
        if (Window is { } w && (j < p - w.Before || j > p + w.After) && j >= GlobalTokens && p >= GlobalTokens) return false;
        if (KeyPaddingMask is { } pad && !pad[b * shape.KeyLength + j]) return false;
        if (BooleanMask is { } m && !m.Allowed![m.RowOffset(b, h, i) + j]) return false;
        return true;
    }

    /// <summary>The additive mask value for one score (0 when there is no additive mask).</summary>
    public float BiasAt(int b, int h, int i, int j) =>
        AdditiveMask is { } m ? m.Bias![m.RowOffset(b, h, i) + j] : 0f;

    /// <summary>
    /// The keys that causal, prefix, window and global tokens leave visible to query i: [0, Global) ∪ [Start, End).
    /// Normalized so that either Global = 0 (one range) or Global &lt; Start (two disjoint ranges); empty when
    /// End ≤ Start and Global = 0. The element masks then act inside these ranges.
    /// </summary>
    internal (int Global, int Start, int End) VisibleKeys(int i, int queryLength, int keyLength)
    {
        int p = AlignedPosition(i, queryLength, keyLength);
        // causal (j ≤ p) OR prefix: keys [0, limit)
        int limit = IsCausal ? Math.Max(p + 1, PrefixLength) : keyLength;
        limit = Math.Clamp(limit, 0, keyLength);
        int global = 0, start = 0, end = limit;
        // window OR global keys OR a global query: a band plus the first G keys, unless the query is global
        if (Window is { } w && p >= GlobalTokens)
        {
            start = (int)Math.Clamp((long)p - w.Before, 0, keyLength);
            end = (int)Math.Clamp((long)p + w.After + 1, start, limit < start ? start : limit);
            global = Math.Min(GlobalTokens, limit);
        }
        if (end <= start) (start, end) = (0, 0);
        if (global >= start) return (0, 0, Math.Max(end, global)); // the ranges touch: one range [0, …)
        return (global, start, end);
    }

    /// <summary>
    /// The key range [start, end) that holds every key causal, prefix, window and global tokens leave visible for
    /// query i (the hull of <see cref="VisibleKeys"/>). Fast kernels compute scores only inside it and mask the gap
    /// (<see cref="MaskHiddenKeys"/>); the element masks then act inside the range.
    /// </summary>
    internal (int Start, int End) KeyRange(int i, int queryLength, int keyLength)
    {
        var (g, s, e) = VisibleKeys(i, queryLength, keyLength);
        return g > 0 ? (0, e) : (s, e);
    }

    /// <summary>
    /// Sets to −∞ the scores in <paramref name="row"/> (keys [lo, lo + row.Length) of query i) that causal, prefix,
    /// window and global tokens hide.
    /// </summary>
    internal void MaskHiddenKeys(int i, int queryLength, int keyLength, int lo, Span<float> row)
    {
        var (g, s, e) = VisibleKeys(i, queryLength, keyLength);
        int n = row.Length, hi = lo + n;
        // visible: [0, g) ∪ [s, e); hidden in [lo, hi): [max(g, lo), s) and [max(e, lo), hi) (clipped)
        Fill(row, Math.Max(g, lo) - lo, Math.Min(s, hi) - lo);
        Fill(row, Math.Max(Math.Max(e, s), lo) - lo, n);
        if (e <= s && g == 0) row.Fill(float.NegativeInfinity);

        static void Fill(Span<float> r, int from, int to)
        {
            if (to > from) r[from..to].Fill(float.NegativeInfinity);
        }
    }

    /// <summary>
    /// Applies the element masks to the scaled scores of keys [start, start + row.Length) for query (b, h, i):
    /// masked keys become −∞, the additive mask is added.
    /// </summary>
    internal void ApplyElementMasks(int b, int h, int i, int start, AttentionShape shape, Span<float> row)
    {
        if (AdditiveMask is { } add)
            System.Numerics.Tensors.TensorPrimitives.Add(row, add.Bias.AsSpan(add.RowOffset(b, h, i) + start, row.Length), row);
        if (KeyPaddingMask is { } pad)
        {
            var keep = pad.AsSpan(b * shape.KeyLength + start, row.Length);
            for (int j = 0; j < row.Length; j++) if (!keep[j]) row[j] = float.NegativeInfinity;
        }
        if (BooleanMask is { } m)
        {
            var keep = m.Allowed.AsSpan(m.RowOffset(b, h, i) + start, row.Length);
            for (int j = 0; j < row.Length; j++) if (!keep[j]) row[j] = float.NegativeInfinity;
        }
    }

    /// <summary>Checks every mask against the call's sizes, with messages that say what was expected.</summary>
    public void Validate(AttentionShape shape)
    {
        if (Scale is { } s && !float.IsFinite(s)) throw new ArgumentException($"attention scale must be finite, got {s}");
        if (Window is { } w && (w.Before < 0 || w.After < 0))
            throw new ArgumentException($"sliding window sizes must be non-negative, got before {w.Before}, after {w.After}");
        if (GlobalTokens < 0) throw new ArgumentException($"the number of global tokens must be non-negative, got {GlobalTokens}");
        if (PrefixLength < 0) throw new ArgumentException($"the prefix length must be non-negative, got {PrefixLength}");
        if (KeyPaddingMask is { } pad && pad.Length != shape.Batch * shape.KeyLength)
            throw new ArgumentException($"key padding mask has {pad.Length} elements; it must be (B, Tk) = ({shape.Batch}, {shape.KeyLength})");
        if (BooleanMask is { } m)
        {
            if (m.IsAdditive) throw new ArgumentException("BooleanMask holds an additive mask; use AdditiveMask for float masks");
            m.Validate(shape, nameof(BooleanMask));
        }
        if (AdditiveMask is { } a)
        {
            if (!a.IsAdditive) throw new ArgumentException("AdditiveMask holds a boolean mask; use BooleanMask for it");
            a.Validate(shape, nameof(AdditiveMask));
        }
    }
}
