namespace AttentionLab.Models;

/// <summary>A named view into a parameter arena: Hugging Face name, offset, shape.</summary>
public sealed record ParameterView(string Name, int Offset, int[] Shape)
{
    public int Length { get; } = Shape.Aggregate(1, (a, b) => a * b);
    public override string ToString() => $"{Name} ({string.Join(", ", Shape)}) @ {Offset}";
}

/// <summary>
/// Where every parameter of a model lives in one float arena: named views (offset, shape) in the order they were
/// added, as llm.c lays out its parameters. The same layout serves the gradients and the optimizer moments. Each
/// architecture's layout (<see cref="DecoderLayout"/>, …) adds its views with its checkpoint format's names.
/// </summary>
public abstract class ParameterLayout
{
    private readonly Dictionary<string, ParameterView> _byName = new(StringComparer.Ordinal);
    private readonly List<ParameterView> _all = new();

    /// <summary>Appends a view of this shape at the end of the arena.</summary>
    protected ParameterView Add(string name, params int[] shape)
    {
        var view = new ParameterView(name, Count, shape);
        if ((long)Count + view.Length > Array.MaxLength) throw new ArgumentException($"{(long)Count + view.Length:N0} parameters do not fit one float[] arena");
        Count += view.Length;
        _all.Add(view);
        _byName.Add(name, view);
        return view;
    }

    /// <summary>Total floats in the arena.</summary>
    public int Count { get; private set; }

    /// <summary>Every view in arena order.</summary>
    public IReadOnlyList<ParameterView> All => _all;

    /// <summary>The view with this name.</summary>
    public ParameterView this[string name] =>
        _byName.TryGetValue(name, out var v) ? v : throw new KeyNotFoundException(Unknown(name));

    public bool TryGet(string name, out ParameterView view) => _byName.TryGetValue(name, out view!);

    /// <summary>Views of rank ≥ 2 (matrices and embeddings): nanoGPT's weight-decay group.</summary>
    public IEnumerable<ParameterView> Matrices => _all.Where(p => p.Shape.Length >= 2);

    /// <summary>The arena ranges AdamW decays (the matrices and embeddings, not biases, gains or single vectors).</summary>
    public IReadOnlyList<(int Offset, int Length)> DecayedRanges => Matrices.Select(v => (v.Offset, v.Length)).ToArray();

    /// <summary>The message for a name this layout does not have.</summary>
    protected virtual string Unknown(string name) => $"no parameter named '{name}'";
}
