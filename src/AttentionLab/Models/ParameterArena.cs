namespace AttentionLab.Models;

/// <summary>
/// One float arena laid out by a <see cref="ParameterLayout"/>: a model's parameters, or their gradients.
/// <c>p[layout.Blocks[0].AttentionWeight]</c> or <c>p["transformer.h.0.attn.c_attn.weight"]</c> is a span over it.
/// Every model of the one stack keeps its weights so: one allocation, named shape-carrying views (llm.c's layout).
/// </summary>
public sealed class ParameterArena
{
    public ParameterArena(ParameterLayout layout)
    {
        Layout = layout ?? throw new ArgumentNullException(nameof(layout));
        Data = new float[layout.Count];
    }

    public ParameterLayout Layout { get; }

    /// <summary>The arena itself, in layout order.</summary>
    public float[] Data { get; }

    public Span<float> this[ParameterView view] => Data.AsSpan(view.Offset, view.Length);

    public Span<float> this[string name] => this[Layout[name]];

    public void Clear() => Array.Clear(Data);
}
