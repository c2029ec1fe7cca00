namespace AttentionLab.Models;

/// <summary>
/// One tensor of a saved PyTorch state dict and where its values live in a parameter arena:
/// <code>
/// not transposed:  arena view[Column + i]              = tensor[i]           embeddings, LayerNorms, biases, (V, C) heads
/// transposed:      arena view[i, Column + o] (in, W)   = tensor[o, i] (out, in)   nn.Linear into a Conv1D column block
/// </code>
/// Column places a tensor inside a fused view: query, key and value are the column blocks 0, C and 2C of c_attn (C, 3C)
/// (and of its bias, 3C), so <c>c_attn = [W_qᵀ | W_kᵀ | W_vᵀ]</c>.
/// </summary>
/// <param name="Name">the state_dict name, e.g. <c>h.0.attn.query.weight</c></param>
/// <param name="Shape">the saved shape: (out, in) for a transposed matrix</param>
/// <param name="View">the arena view the values live in</param>
/// <param name="Column">the first column (or element, for a vector) of the view this tensor fills</param>
/// <param name="Transposed">true: an nn.Linear weight (out, in) stored as (in, out) columns of the view</param>
public sealed record StateDictEntry(string Name, int[] Shape, ParameterView View, int Column = 0, bool Transposed = false)
{
    public int Length { get; } = Shape.Aggregate(1, (a, b) => a * b);

    /// <summary>Writes the saved values into their place in <paramref name="arena"/>.</summary>
    /// <param name="tensor">the values in the saved layout (<see cref="Shape"/>)</param>
    public void CopyTo(ReadOnlySpan<float> tensor, Span<float> arena)
    {
        if (tensor.Length != Length) throw new ArgumentException($"'{Name}' has {Length} values, got {tensor.Length}");
        var view = arena.Slice(View.Offset, View.Length);
        if (!Transposed) { tensor.CopyTo(view.Slice(Column, Length)); return; }
        int outF = Shape[0], inF = Shape[1], width = View.Shape[1];
        for (int o = 0; o < outF; o++)
            for (int i = 0; i < inF; i++)
                view[i * width + Column + o] = tensor[o * inF + i];
    }

    /// <summary>The values of this tensor in the saved layout, read out of <paramref name="arena"/>.</summary>
    public float[] Read(ReadOnlySpan<float> arena)
    {
        var view = arena.Slice(View.Offset, View.Length);
        var tensor = new float[Length];
        if (!Transposed) { view.Slice(Column, Length).CopyTo(tensor); return tensor; }
        int outF = Shape[0], inF = Shape[1], width = View.Shape[1];
        for (int o = 0; o < outF; o++)
            for (int i = 0; i < inF; i++)
                tensor[o * inF + i] = view[i * width + Column + o];
        return tensor;
    }
}

/// <summary>
/// A model folder's state dict (PyTorch names, nn.Linear (out, in) layout) mapped onto a one-stack arena
/// (<see cref="ParameterLayout"/>, Conv1D (in, out) layout, fused projections): what saving writes and loading reads,
/// so folders keep their format while the model runs on the one set of layers. Gradients map the same way.
/// </summary>
public sealed class StateDictMap
{
    private readonly Dictionary<string, StateDictEntry> _byName = new(StringComparer.Ordinal);

    /// <param name="entries">every saved tensor, in the folder's order</param>
    public StateDictMap(IEnumerable<StateDictEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        Entries = entries.ToArray();
        foreach (var e in Entries)
        {
            int room = e.Transposed ? e.View.Length : e.View.Length - e.Column;
            bool fits = e.Transposed
                ? e.Shape.Length == 2 && e.View.Shape.Length == 2 && e.View.Shape[0] == e.Shape[1] && e.Column + e.Shape[0] <= e.View.Shape[1]
                : e.Length <= room;
            if (!fits) throw new ArgumentException($"'{e.Name}' ({string.Join(", ", e.Shape)}) does not fit {e.View} at column {e.Column}");
            _byName.Add(e.Name, e);
        }
    }

    /// <summary>Every saved tensor, in the folder's order.</summary>
    public IReadOnlyList<StateDictEntry> Entries { get; }

    public StateDictEntry this[string name] =>
        _byName.TryGetValue(name, out var e) ? e : throw new KeyNotFoundException($"the state dict has no tensor '{name}'");

    /// <summary>The saved names, in the folder's (state_dict) order.</summary>
    public IReadOnlyList<string> Names => Entries.Select(e => e.Name).ToArray();

    /// <summary>The entry with this state_dict name, for callers that take a name from a user or a fixture.</summary>
    /// <exception cref="ArgumentException">an unknown name; the message lists the known ones</exception>
    public StateDictEntry Entry(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _byName.TryGetValue(name, out var e) ? e
            : throw new ArgumentException($"no parameter '{name}'; known: {string.Join(", ", Entries.Select(x => x.Name))}", nameof(name));
    }

    /// <summary>A copy of the named tensor out of <paramref name="arena"/> (parameters or gradients), in the saved
    /// layout and shape (PyTorch's (out, in) for Linear weights).</summary>
    public Tensors.Tensor Read(string name, ReadOnlySpan<float> arena)
    {
        var e = Entry(name);
        return new Tensors.Tensor(e.Read(arena), e.Shape);
    }

    /// <summary>Writes the named tensor, given in the saved layout, into <paramref name="arena"/>.</summary>
    public void Write(string name, ReadOnlySpan<float> values, Span<float> arena) => Entry(name).CopyTo(values, arena);

    /// <summary>(name, shape) of every saved tensor: what a folder must hold.</summary>
    public IReadOnlyList<(string Name, int[] Shape)> Shapes => Entries.Select(e => (e.Name, e.Shape)).ToArray();

    /// <summary>The arena as named tensors in the saved layout (parameters, or gradients of the same layout).</summary>
    public IEnumerable<(string Name, int[] Shape, ReadOnlyMemory<float> Data)> Export(float[] arena)
    {
        ArgumentNullException.ThrowIfNull(arena);
        return Entries.Select(e => (e.Name, e.Shape, (ReadOnlyMemory<float>)e.Read(arena))).ToArray();
    }

    /// <summary>Writes every named tensor into its place in <paramref name="arena"/>.</summary>
    /// <exception cref="KeyNotFoundException">a tensor of the map is missing</exception>
    public void Import(IReadOnlyDictionary<string, float[]> tensors, float[] arena)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(arena);
        foreach (var e in Entries)
        {
            if (!tensors.TryGetValue(e.Name, out var values)) throw new KeyNotFoundException($"no tensor '{e.Name}'");
            e.CopyTo(values, arena);
        }
    }

    /// <summary>
    /// Multi-head attention saved as four <c>nn.Linear(C, C)</c> (<c>query</c>, <c>key</c>, <c>value</c>, <c>out</c>,
    /// weights (out, in), state_dict order) in the one stack's views: q, k, v into the column blocks 0, C, 2C of the
    /// fused (C, 3C) qkv and its (3C) bias, the output projection transposed into its (C, C) view.
    /// </summary>
    /// <param name="prefix">e.g. "attention." (the seed GPT) or "" (one attention alone)</param>
    public static IEnumerable<StateDictEntry> Attention(string prefix, ParameterView qkvWeight, ParameterView qkvBias,
        ParameterView projectionWeight, ParameterView projectionBias, int channels)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        int c = channels;
        string[] qkv = ["query", "key", "value"];
        for (int k = 0; k < 3; k++)
        {
            yield return new(prefix + $"{qkv[k]}.weight", [c, c], qkvWeight, k * c, Transposed: true);
            yield return new(prefix + $"{qkv[k]}.bias", [c], qkvBias, k * c);
        }
        yield return new(prefix + "out.weight", [c, c], projectionWeight, Transposed: true);
        yield return new(prefix + "out.bias", [c], projectionBias);
    }

    /// <summary>
    /// A pre-LN block saved with the Tensor-module encoder's names (<c>ln_1</c>, <c>attn.query/key/value/out</c>,
    /// <c>ln_2</c>, <c>mlp.fc/proj</c>, PyTorch (out, in) weights) in the one stack's block views: q, k, v into the
    /// column blocks of the fused c_attn, every matrix transposed.
    /// </summary>
    /// <param name="prefix">e.g. "h.0." (BERT) or "" (one block alone)</param>
    public static IEnumerable<StateDictEntry> EncoderBlock(string prefix, DecoderBlockLayout block, int channels)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(block);
        int c = channels;
        yield return new(prefix + "ln_1.weight", [c], block.Norm1Weight);
        yield return new(prefix + "ln_1.bias", [c], block.Norm1Bias!);
        string[] qkv = ["query", "key", "value"];
        for (int k = 0; k < 3; k++)
        {
            yield return new(prefix + $"attn.{qkv[k]}.weight", [c, c], block.AttentionWeight, k * c, Transposed: true);   // (out, in) → c_attn columns
            yield return new(prefix + $"attn.{qkv[k]}.bias", [c], block.AttentionBias!, k * c);
        }
        yield return new(prefix + "attn.out.weight", [c, c], block.AttentionProjectionWeight, Transposed: true);
        yield return new(prefix + "attn.out.bias", [c], block.AttentionProjectionBias!);
        yield return new(prefix + "ln_2.weight", [c], block.Norm2Weight);
        yield return new(prefix + "ln_2.bias", [c], block.Norm2Bias!);
        yield return new(prefix + "mlp.fc.weight", [4 * c, c], block.MlpWeight, Transposed: true);
        yield return new(prefix + "mlp.fc.bias", [4 * c], block.MlpBias!);
        yield return new(prefix + "mlp.proj.weight", [c, 4 * c], block.MlpProjectionWeight, Transposed: true);
        yield return new(prefix + "mlp.proj.bias", [c], block.MlpProjectionBias!);
    }
}
