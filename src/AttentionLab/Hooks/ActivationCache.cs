using AttentionLab.Tensors;

namespace AttentionLab.Hooks;

/// <summary>
/// The activations one forward pass was asked to keep (TransformerLens's <c>ActivationCache</c>), by canonical name:
/// <c>cache["blocks.0.attn.hook_pattern"]</c> is a (B, H, T, T) tensor. Only the names the call's filter passed are
/// held, so a cache of one layer's pattern costs B·H·T² floats, not the whole model's activations.
/// </summary>
public sealed class ActivationCache
{
    private readonly Dictionary<string, Tensor> _values = new(StringComparer.Ordinal);

    /// <summary>The names held, in the order the forward pass made them.</summary>
    public IReadOnlyList<string> Names => _order;
    private readonly List<string> _order = [];

    /// <summary>The activation with this canonical name.</summary>
    /// <exception cref="KeyNotFoundException">not kept by this call (the message lists what was)</exception>
    public Tensor this[string name] => _values.TryGetValue(name, out var t) ? t
        : throw new KeyNotFoundException($"the cache holds no '{name}'; it holds {(_order.Count == 0 ? "nothing" : string.Join(", ", _order.Take(8)) + (_order.Count > 8 ? ", …" : ""))}");

    public bool Contains(string name) => _values.ContainsKey(name);

    public bool TryGet(string name, out Tensor value) => _values.TryGetValue(name, out value!);

    /// <summary>Floats held, over every activation.</summary>
    public long Floats => _values.Values.Sum(t => (long)t.Length);

    /// <summary>Stores a copy of the values under the name (a second store of the same name is an error: names are unique per pass).</summary>
    internal void Store(HookContext context, ReadOnlyMemory<float> values)
    {
        var tensor = new Tensor(context.Shape);
        values.Span.CopyTo(tensor.Span);
        _values.Add(context.Name, tensor);
        _order.Add(context.Name);
    }

    /// <summary>A hook set that copies every activation whose name passes <paramref name="names"/> into a new cache.</summary>
    public static (HookSet Hooks, ActivationCache Cache) Recorder(Func<string, bool> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var cache = new ActivationCache();
        return (new HookSet().Read(names, cache.Store), cache);
    }
}
