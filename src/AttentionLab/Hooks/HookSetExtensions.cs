namespace AttentionLab.Hooks;

/// <summary>Hook sets combined, and the interventions the Explorer offers, written as hooks.</summary>
public static class HookSetExtensions
{
    /// <summary>A new set with <paramref name="first"/>'s hooks, then <paramref name="second"/>'s.</summary>
    public static HookSet Then(this HookSet first, HookSet second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        var set = new HookSet();
        set.Entries.AddRange(first.Entries);
        set.Entries.AddRange(second.Entries);
        return set;
    }

    /// <summary>
    /// Head gates: multiplies head h of block l's output (<c>blocks.{l}.attn.hook_z</c>, (B, T, H, D)) by
    /// gates[l·H + h] before the output projection. 0 zeroes ("ablates") the head, 1 leaves it as trained.
    /// </summary>
    /// <param name="gates">(L·H) multipliers</param>
    public static HookSet GateHeads(this HookSet set, float[] gates, int layers, int heads)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(gates);
        if (gates.Length != layers * heads)
            throw new ArgumentException($"head gates must have L·H = {layers * heads} entries, got {gates.Length}");
        for (int l = 0; l < layers; l++)
        {
            int layer = l;
            if (gates.AsSpan(l * heads, heads).IndexOfAnyExcept(1f) < 0) continue;    // every head as trained
            set.Edit(HookNames.Name(HookPoint.Z, l), (context, memory) =>
            {
                var z = memory.Span;
                int h = context.Shape[2], d = context.Shape[3], c = h * d;
                for (int r = 0; r < z.Length / c; r++)
                    for (int hh = 0; hh < h; hh++)
                    {
                        float gate = gates[layer * h + hh];
                        if (gate == 1f) continue;
                        var cols = z.Slice(r * c + hh * d, d);
                        System.Numerics.Tensors.TensorPrimitives.Multiply(cols, gate, cols);
                    }
            });
        }
        return set;
    }

    /// <summary>Zeroes one head's output in one block (<c>blocks.{layer}.attn.hook_z</c>).</summary>
    public static HookSet ZeroHead(this HookSet set, int layer, int head)
    {
        ArgumentNullException.ThrowIfNull(set);
        return set.Edit(HookNames.Name(HookPoint.Z, layer), (context, memory) =>
        {
            var z = memory.Span;
            int h = context.Shape[2], d = context.Shape[3];
            if ((uint)head >= (uint)h) throw new ArgumentOutOfRangeException(nameof(head), $"head must be in [0, {h - 1}], got {head}");
            for (int r = 0; r < z.Length / (h * d); r++) z.Slice(r * h * d + head * d, d).Clear();
        });
    }
}
