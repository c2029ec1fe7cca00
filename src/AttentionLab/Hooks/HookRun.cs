using AttentionLab.Models;

namespace AttentionLab.Hooks;

/// <summary>
/// One call's hooks resolved against one model: for every (point, block) whether any hook wants it and whether one
/// edits it, so the forward pass asks a bool per point and does nothing more when no hook is there.
/// </summary>
internal sealed class HookRun
{
    private static readonly int PointCount = Enum.GetValues<HookPoint>().Length;
    private readonly (ActivationReader? Reader, ActivationEditor? Editor)[]?[] _hooks;   // [point · (L+1) + layer]
    private readonly int _layers;
    private readonly string _prefix;   // "" for GPT-2; "encoder." / "decoder." for the parts of an encoder-decoder

    private HookRun(HookSet set, int layers, string prefix, bool cross)
    {
        _layers = layers;
        _prefix = prefix;
        _hooks = new (ActivationReader?, ActivationEditor?)[]?[PointCount * (layers + 1)];
        foreach (var point in Enum.GetValues<HookPoint>())
            for (int l = 0; l < (HookNames.IsPerBlock(point) ? layers : 1); l++)
            {
                if (!cross && HookNames.IsCross(point)) break;                            // a part without cross-attention
                string name = HookNames.Name(prefix, point, l);
                var matched = set.Entries.Where(e => e.Matches(name)).Select(e => (e.Reader, e.Editor)).ToArray();
                if (matched.Length == 0) continue;
                _hooks[Index(point, l)] = matched;
                AnyEdits |= matched.Any(m => m.Editor is not null);
            }
    }

    /// <summary>The resolved hooks, or null when the set is empty or matches nothing (the plain forward pass).</summary>
    public static HookRun? Resolve(HookSet? set, DecoderConfig config)
    {
        if (set is null || set.IsEmpty) return null;
        var run = new HookRun(set, config.Layers, "", cross: false);
        return run._hooks.Any(h => h is not null) ? run : null;
    }

    /// <summary>The resolved hooks of one part of a model whose names carry <paramref name="prefix"/> (an
    /// encoder-decoder's <c>encoder.</c> and <c>decoder.</c>); <paramref name="cross"/>: its blocks have the
    /// cross-attention points. Null when nothing matches.</summary>
    public static HookRun? Resolve(HookSet? set, int layers, string prefix, bool cross)
    {
        if (set is null || set.IsEmpty) return null;
        var run = new HookRun(set, layers, prefix, cross);
        return run._hooks.Any(h => h is not null) ? run : null;
    }

    /// <summary>True when some hook of this call may change an activation (the pass then has no backward).</summary>
    public bool AnyEdits { get; }

    private int Index(HookPoint point, int layer) => (int)point * (_layers + 1) + layer;

    /// <summary>True when a hook reads or edits this point.</summary>
    public bool Wants(HookPoint point, int layer = 0) => _hooks[Index(point, layer)] is not null;

    /// <summary>True when a hook edits this point.</summary>
    public bool Edits(HookPoint point, int layer = 0) => _hooks[Index(point, layer)]?.Any(h => h.Editor is not null) == true;

    /// <summary>
    /// Calls this point's hooks on a (B, T, H, D) column block of wider rows (q, k or v inside the fused qkv or kv
    /// projection's (N, rowWidth) output): the block is copied out for the hooks and what editors leave is written back.
    /// </summary>
    public void CallColumns(HookPoint point, int layer, Span<float> rows, int rowWidth, int column, int batch, int length, int heads, int headDim)
    {
        if (!Wants(point, layer)) return;
        int c = heads * headDim, n = batch * length;
        var block = new float[n * c];                                                     // (B, T, H, D)
        for (int r = 0; r < n; r++) rows.Slice(r * rowWidth + column, c).CopyTo(block.AsSpan(r * c, c));
        Call(point, layer, block, batch, length, heads, headDim);
        if (!Edits(point, layer)) return;
        for (int r = 0; r < n; r++) block.AsSpan(r * c, c).CopyTo(rows.Slice(r * rowWidth + column, c));
    }

    /// <summary>Calls this point's hooks, in order, on <paramref name="values"/>.</summary>
    public void Call(HookPoint point, int layer, Memory<float> values, params int[] shape)
    {
        var hooks = _hooks[Index(point, layer)];
        if (hooks is null) return;
        var context = new HookContext(HookNames.Name(_prefix, point, layer), point, layer, shape);
        foreach (var (reader, editor) in hooks)
        {
            if (editor is not null) editor(context, values);
            else reader!(context, values);
        }
    }
}
