namespace AttentionLab.Models;

/// <summary>
/// Where one PyTorch state_dict entry lives in a one-stack arena, and the copy between the two layouts. PyTorch's
/// multi-head attention has four <c>nn.Linear(C, C)</c> — query, key, value, out — each W (out, in) and b (out); the
/// one stack fuses query, key and value into one (C, 3C) matrix stored (in, out) and stores the output projection
/// (in, out) (<see cref="Layers.AttentionLayer"/>):
/// <code>
/// c_attn.weight[i, j·C + o] = W_j[o, i]     j = 0, 1, 2 for query, key, value   (C, 3C)
/// c_attn.bias[j·C + o]      = b_j[o]                                             (3C)
/// c_proj.weight[i, o]       = W_out[o, i]                                        (C, C)
/// </code>
/// Embeddings and (V, C) heads are the same in both (a whole copy).
/// </summary>
internal readonly record struct StateDictPlacement(string Name, ParameterView View, StateDictPlacement.Kind How, int Column, int[] Shape)
{
    internal enum Kind { Whole, BiasColumns, TransposedColumns }

    /// <summary>A view copied whole.</summary>
    public static StateDictPlacement Whole(string name, ParameterView view) => new(name, view, Kind.Whole, 0, view.Shape);

    /// <summary>The attention entries <c>query.weight</c> … <c>out.bias</c> after a prefix of <paramref name="prefixLength"/>
    /// characters, placed in the fused (C, 3C) qkv and the (C, C) output projection.</summary>
    public static bool TryAttention(string name, int prefixLength, ParameterView qkvWeight, ParameterView qkvBias,
        ParameterView projectionWeight, ParameterView projectionBias, out StateDictPlacement placement)
    {
        int c = projectionBias.Length;
        int[] matrix = [c, c], vector = [c];
        StateDictPlacement? p = name.AsSpan(prefixLength) switch
        {
            "query.weight" => new(name, qkvWeight, Kind.TransposedColumns, 0, matrix),
            "key.weight" => new(name, qkvWeight, Kind.TransposedColumns, c, matrix),
            "value.weight" => new(name, qkvWeight, Kind.TransposedColumns, 2 * c, matrix),
            "out.weight" => new(name, projectionWeight, Kind.TransposedColumns, 0, matrix),
            "query.bias" => new(name, qkvBias, Kind.BiasColumns, 0, vector),
            "key.bias" => new(name, qkvBias, Kind.BiasColumns, c, vector),
            "value.bias" => new(name, qkvBias, Kind.BiasColumns, 2 * c, vector),
            "out.bias" => new(name, projectionBias, Kind.BiasColumns, 0, vector),
            _ => null,
        };
        placement = p.GetValueOrDefault();
        return p is not null;
    }

    private int Length => Shape.Aggregate(1, (a, b) => a * b);

    /// <summary>The entry out of an arena (parameters or gradients) into <paramref name="destination"/> (PyTorch's layout).</summary>
    public void Read(ReadOnlySpan<float> arena, Span<float> destination)
    {
        RequireLength(destination.Length);
        var source = arena.Slice(View.Offset, View.Length);
        switch (How)
        {
            case Kind.Whole: source.CopyTo(destination); break;
            case Kind.BiasColumns: source.Slice(Column, Length).CopyTo(destination); break;
            default:
                int c = Shape[0], width = View.Shape[1];
                for (int o = 0; o < c; o++)
                    for (int i = 0; i < c; i++)
                        destination[o * c + i] = source[i * width + Column + o];            // W[o, i] = arena[i, column + o]
                break;
        }
    }

    /// <summary>The entry (PyTorch's layout) into an arena.</summary>
    public void Write(ReadOnlySpan<float> values, Span<float> arena)
    {
        RequireLength(values.Length);
        var target = arena.Slice(View.Offset, View.Length);
        switch (How)
        {
            case Kind.Whole: values.CopyTo(target); break;
            case Kind.BiasColumns: values.CopyTo(target.Slice(Column, Length)); break;
            default:
                int c = Shape[0], width = View.Shape[1];
                for (int o = 0; o < c; o++)
                    for (int i = 0; i < c; i++)
                        target[i * width + Column + o] = values[o * c + i];
                break;
        }
    }

    private void RequireLength(int length)
    {
        if (length != Length)
            throw new ArgumentException($"{Name} has {Length} values ({string.Join(", ", Shape)}), got {length}");
    }
}
