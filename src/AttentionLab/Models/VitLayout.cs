namespace AttentionLab.Models;

/// <summary>
/// Where every ViT parameter lives in one float arena, under the state-dict names of the saved folders. Matrices are
/// stored (in, out) as every <see cref="Layers.LinearLayer"/> of the one stack reads them (y = x·W + b), and each
/// block's query, key and value projections are one fused (C, 3C) matrix <c>attn.qkv</c> (q columns first, then k,
/// then v). The saved folder keeps PyTorch's nn.Linear layout — (out, in), separate <c>attn.query</c>, <c>attn.key</c>,
/// <c>attn.value</c> — and <see cref="StateDict"/> says how each saved tensor maps into the arena.
/// Arena order: cls_token, pos_embed, patch_embed, each block, norm, head.
/// </summary>
public sealed class VitLayout : ParameterLayout
{
    public VitLayout(VitConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        int c = config.Channels, t = config.Patches + 1, pp = config.PatchDim, k = config.ClassNames.Length;
        var entries = new List<StateDictEntry>();
        ClassToken = Add("cls_token", c);
        PositionEmbedding = Add("pos_embed", t, c);
        PatchWeight = Add("patch_embed.proj.weight", pp, c);
        PatchBias = Add("patch_embed.proj.bias", c);
        entries.Add(StateDictEntry.Copy("cls_token", ClassToken));
        entries.Add(StateDictEntry.Copy("pos_embed", PositionEmbedding));
        entries.Add(StateDictEntry.Linear("patch_embed.proj.weight", PatchWeight, 0, c));
        entries.Add(StateDictEntry.Copy("patch_embed.proj.bias", PatchBias));
        var blocks = new Gpt2BlockLayout[config.Layers];
        for (int l = 0; l < config.Layers; l++)
        {
            string p = $"blocks.{l}.";
            var b = blocks[l] = new Gpt2BlockLayout(
                Add(p + "ln_1.weight", c), Add(p + "ln_1.bias", c),
                Add(p + "attn.qkv.weight", c, 3 * c), Add(p + "attn.qkv.bias", 3 * c),
                Add(p + "attn.out.weight", c, c), Add(p + "attn.out.bias", c),
                Add(p + "ln_2.weight", c), Add(p + "ln_2.bias", c),
                Add(p + "mlp.fc.weight", c, 4 * c), Add(p + "mlp.fc.bias", 4 * c),
                Add(p + "mlp.proj.weight", 4 * c, c), Add(p + "mlp.proj.bias", c));
            // the saved order: ln_1, attn.query/key/value/out (weight, bias each), ln_2, mlp.fc, mlp.proj
            entries.Add(StateDictEntry.Copy(p + "ln_1.weight", b.Norm1Weight));
            entries.Add(StateDictEntry.Copy(p + "ln_1.bias", b.Norm1Bias));
            string[] qkv = ["query", "key", "value"];
            for (int j = 0; j < 3; j++)
            {
                entries.Add(StateDictEntry.Linear($"{p}attn.{qkv[j]}.weight", b.AttentionWeight, j * c, c));
                entries.Add(StateDictEntry.Slice($"{p}attn.{qkv[j]}.bias", b.AttentionBias, j * c, c));
            }
            entries.Add(StateDictEntry.Linear(p + "attn.out.weight", b.AttentionProjectionWeight, 0, c));
            entries.Add(StateDictEntry.Copy(p + "attn.out.bias", b.AttentionProjectionBias));
            entries.Add(StateDictEntry.Copy(p + "ln_2.weight", b.Norm2Weight));
            entries.Add(StateDictEntry.Copy(p + "ln_2.bias", b.Norm2Bias));
            entries.Add(StateDictEntry.Linear(p + "mlp.fc.weight", b.MlpWeight, 0, 4 * c));
            entries.Add(StateDictEntry.Copy(p + "mlp.fc.bias", b.MlpBias));
            entries.Add(StateDictEntry.Linear(p + "mlp.proj.weight", b.MlpProjectionWeight, 0, c));
            entries.Add(StateDictEntry.Copy(p + "mlp.proj.bias", b.MlpProjectionBias));
        }
        Blocks = blocks;
        FinalNormWeight = Add("norm.weight", c);
        FinalNormBias = Add("norm.bias", c);
        HeadWeight = Add("head.weight", c, k);
        HeadBias = Add("head.bias", k);
        entries.Add(StateDictEntry.Copy("norm.weight", FinalNormWeight));
        entries.Add(StateDictEntry.Copy("norm.bias", FinalNormBias));
        entries.Add(StateDictEntry.Linear("head.weight", HeadWeight, 0, k));
        entries.Add(StateDictEntry.Copy("head.bias", HeadBias));
        StateDict = entries;
    }

    public VitConfig Config { get; }

    /// <summary>cls_token (C): the learned [CLS] token.</summary>
    public ParameterView ClassToken { get; }

    /// <summary>pos_embed (N+1, C): learned positions, [CLS] first.</summary>
    public ParameterView PositionEmbedding { get; }

    /// <summary>patch_embed.proj.weight (P², C), (in, out).</summary>
    public ParameterView PatchWeight { get; }

    /// <summary>patch_embed.proj.bias (C).</summary>
    public ParameterView PatchBias { get; }

    /// <summary>The encoder blocks (names under <c>blocks.{l}.</c>): GPT-2's block shape.</summary>
    public IReadOnlyList<Gpt2BlockLayout> Blocks { get; }

    /// <summary>norm.weight (C): ln_f.</summary>
    public ParameterView FinalNormWeight { get; }

    /// <summary>norm.bias (C).</summary>
    public ParameterView FinalNormBias { get; }

    /// <summary>head.weight (C, K), (in, out).</summary>
    public ParameterView HeadWeight { get; }

    /// <summary>head.bias (K).</summary>
    public ParameterView HeadBias { get; }

    /// <summary>Every tensor of the saved folder, in the saved order, with where it lives in the arena.</summary>
    public IReadOnlyList<StateDictEntry> StateDict { get; }

    protected override string Unknown(string name) => $"ViT has no parameter named '{name}'";
}

/// <summary>
/// One saved tensor and its place in the arena: a plain copy (or a slice of a fused vector at <see cref="Column"/>), or
/// a PyTorch nn.Linear weight (out, in) transposed into the columns <see cref="Column"/> … + out of an (in, width)
/// arena matrix.
/// </summary>
public sealed record StateDictEntry(string Name, int[] Shape, ParameterView View, int Column, bool Transposed)
{
    public int Length { get; } = Shape.Aggregate(1, (a, b) => a * b);

    public static StateDictEntry Copy(string name, ParameterView view) => new(name, view.Shape, view, 0, false);

    public static StateDictEntry Slice(string name, ParameterView view, int start, int length) => new(name, [length], view, start, false);

    /// <param name="view">the arena matrix (in, width)</param>
    /// <param name="column">the first of the out columns this weight fills</param>
    /// <param name="outFeatures">out</param>
    public static StateDictEntry Linear(string name, ParameterView view, int column, int outFeatures) =>
        new(name, [outFeatures, view.Shape[0]], view, column, true);

    /// <summary>The saved tensor from the arena.</summary>
    /// <param name="arena">the whole parameter arena</param>
    /// <param name="saved">(Shape), overwritten</param>
    public void Read(ReadOnlySpan<float> arena, Span<float> saved)
    {
        var view = arena.Slice(View.Offset, View.Length);
        if (!Transposed) { view.Slice(Column, Length).CopyTo(saved); return; }
        int outF = Shape[0], inF = Shape[1], width = View.Shape[1];
        for (int o = 0; o < outF; o++)
            for (int i = 0; i < inF; i++)
                saved[o * inF + i] = view[i * width + Column + o];                      // W[o, i] = arena[i, column + o]
    }

    /// <summary>The saved tensor into the arena.</summary>
    /// <param name="saved">(Shape)</param>
    public void Write(ReadOnlySpan<float> saved, Span<float> arena)
    {
        var view = arena.Slice(View.Offset, View.Length);
        if (!Transposed) { saved.Slice(0, Length).CopyTo(view.Slice(Column, Length)); return; }
        int outF = Shape[0], inF = Shape[1], width = View.Shape[1];
        for (int o = 0; o < outF; o++)
            for (int i = 0; i < inF; i++)
                view[i * width + Column + o] = saved[o * inF + i];
    }
}
