namespace AttentionLab.Models;

/// <summary>A named view into a parameter arena: Hugging Face name, offset, shape.</summary>
public sealed record ParameterView(string Name, int Offset, int[] Shape)
{
    public int Length { get; } = Shape.Aggregate(1, (a, b) => a * b);
    public override string ToString() => $"{Name} ({string.Join(", ", Shape)}) @ {Offset}";
}

/// <summary>The views of one transformer block (names under <c>transformer.h.{i}.</c>).</summary>
public sealed record Gpt2BlockLayout(
    ParameterView Norm1Weight, ParameterView Norm1Bias,
    ParameterView AttentionWeight, ParameterView AttentionBias,
    ParameterView AttentionProjectionWeight, ParameterView AttentionProjectionBias,
    ParameterView Norm2Weight, ParameterView Norm2Bias,
    ParameterView MlpWeight, ParameterView MlpBias,
    ParameterView MlpProjectionWeight, ParameterView MlpProjectionBias)
{
    public IEnumerable<ParameterView> All =>
    [
        Norm1Weight, Norm1Bias, AttentionWeight, AttentionBias, AttentionProjectionWeight, AttentionProjectionBias,
        Norm2Weight, Norm2Bias, MlpWeight, MlpBias, MlpProjectionWeight, MlpProjectionBias,
    ];
}

/// <summary>
/// Where every GPT-2 parameter lives in one float arena, with Hugging Face names. Matrices keep Hugging Face's
/// Conv1D layout (in_features, out_features), so <c>y = x·W + b</c> is a plain (non-transposed) GEMM and loading
/// is a copy; the GEMM packs its operands anyway, so no other layout is faster. The arena order is
/// wte, wpe, then each block, then ln_f. Gradients use the same layout.
/// </summary>
public sealed class Gpt2Layout
{
    private readonly Dictionary<string, ParameterView> _byName = new(StringComparer.Ordinal);
    private readonly List<ParameterView> _all = new();

    public Gpt2Layout(Gpt2Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        int v = config.VocabSize, t = config.ContextLength, c = config.Channels;
        int offset = 0;
        ParameterView Add(string name, params int[] shape)
        {
            var view = new ParameterView(name, offset, shape);
            offset += view.Length;
            _all.Add(view);
            _byName.Add(name, view);
            return view;
        }
        TokenEmbedding = Add("transformer.wte.weight", v, c);
        PositionEmbedding = Add("transformer.wpe.weight", t, c);
        var blocks = new Gpt2BlockLayout[config.Layers];
        for (int l = 0; l < config.Layers; l++)
        {
            string p = $"transformer.h.{l}.";
            blocks[l] = new Gpt2BlockLayout(
                Add(p + "ln_1.weight", c), Add(p + "ln_1.bias", c),
                Add(p + "attn.c_attn.weight", c, 3 * c), Add(p + "attn.c_attn.bias", 3 * c),
                Add(p + "attn.c_proj.weight", c, c), Add(p + "attn.c_proj.bias", c),
                Add(p + "ln_2.weight", c), Add(p + "ln_2.bias", c),
                Add(p + "mlp.c_fc.weight", c, 4 * c), Add(p + "mlp.c_fc.bias", 4 * c),
                Add(p + "mlp.c_proj.weight", 4 * c, c), Add(p + "mlp.c_proj.bias", c));
        }
        Blocks = blocks;
        FinalNormWeight = Add("transformer.ln_f.weight", c);
        FinalNormBias = Add("transformer.ln_f.bias", c);
        Count = offset;
    }

    public Gpt2Config Config { get; }

    /// <summary>Total floats in the arena (= <see cref="Gpt2Config.ParameterCount"/>).</summary>
    public int Count { get; }

    /// <summary>transformer.wte.weight (V, C); also the output head (tied).</summary>
    public ParameterView TokenEmbedding { get; }

    /// <summary>transformer.wpe.weight (T, C).</summary>
    public ParameterView PositionEmbedding { get; }

    public IReadOnlyList<Gpt2BlockLayout> Blocks { get; }

    /// <summary>transformer.ln_f.weight (C).</summary>
    public ParameterView FinalNormWeight { get; }

    /// <summary>transformer.ln_f.bias (C).</summary>
    public ParameterView FinalNormBias { get; }

    /// <summary>Every view in arena order.</summary>
    public IReadOnlyList<ParameterView> All => _all;

    /// <summary>The view with this Hugging Face name (e.g. <c>transformer.h.0.attn.c_attn.weight</c>).</summary>
    public ParameterView this[string name] =>
        _byName.TryGetValue(name, out var v) ? v : throw new KeyNotFoundException($"GPT-2 has no parameter named '{name}'");

    public bool TryGet(string name, out ParameterView view) => _byName.TryGetValue(name, out view!);

    /// <summary>Views of rank ≥ 2 (matrices and embeddings): nanoGPT's weight-decay group.</summary>
    public IEnumerable<ParameterView> Matrices => _all.Where(p => p.Shape.Length >= 2);
}

/// <summary>
/// One float arena laid out by <see cref="Gpt2Layout"/>: the model's parameters, or their gradients.
/// <c>p[layout.Blocks[0].AttentionWeight]</c> or <c>p["transformer.h.0.attn.c_attn.weight"]</c> is a span over it.
/// </summary>
public sealed class Gpt2Parameters
{
    public Gpt2Parameters(Gpt2Layout layout)
    {
        Layout = layout ?? throw new ArgumentNullException(nameof(layout));
        Data = new float[layout.Count];
    }

    public Gpt2Layout Layout { get; }

    /// <summary>The arena itself, in layout order.</summary>
    public float[] Data { get; }

    public Span<float> this[ParameterView view] => Data.AsSpan(view.Offset, view.Length);

    public Span<float> this[string name] => this[Layout[name]];

    public void Clear() => Array.Clear(Data);
}
