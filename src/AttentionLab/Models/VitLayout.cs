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
        entries.Add(Copy("cls_token", ClassToken));
        entries.Add(Copy("pos_embed", PositionEmbedding));
        entries.Add(Linear("patch_embed.proj.weight", PatchWeight, 0, c));
        entries.Add(Copy("patch_embed.proj.bias", PatchBias));
        var blocks = new DecoderBlockLayout[config.Layers];
        for (int l = 0; l < config.Layers; l++)
        {
            string p = $"blocks.{l}.";
            var b = blocks[l] = new DecoderBlockLayout(
                Add(p + "ln_1.weight", c), Add(p + "ln_1.bias", c),
                Add(p + "attn.qkv.weight", c, 3 * c), Add(p + "attn.qkv.bias", 3 * c),
                Add(p + "attn.out.weight", c, c), Add(p + "attn.out.bias", c),
                Add(p + "ln_2.weight", c), Add(p + "ln_2.bias", c),
                Add(p + "mlp.fc.weight", c, 4 * c), Add(p + "mlp.fc.bias", 4 * c),
                Add(p + "mlp.proj.weight", 4 * c, c), Add(p + "mlp.proj.bias", c));
            entries.AddRange(StateDictMap.EncoderBlock(p, b, c));   // ln_1, attn.query/key/value/out, ln_2, mlp.fc/proj
        }
        Blocks = blocks;
        FinalNormWeight = Add("norm.weight", c);
        FinalNormBias = Add("norm.bias", c);
        HeadWeight = Add("head.weight", c, k);
        HeadBias = Add("head.bias", k);
        entries.Add(Copy("norm.weight", FinalNormWeight));
        entries.Add(Copy("norm.bias", FinalNormBias));
        entries.Add(Linear("head.weight", HeadWeight, 0, k));
        entries.Add(Copy("head.bias", HeadBias));
        StateDict = new StateDictMap(entries);
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
    public IReadOnlyList<DecoderBlockLayout> Blocks { get; }

    /// <summary>norm.weight (C): ln_f.</summary>
    public ParameterView FinalNormWeight { get; }

    /// <summary>norm.bias (C).</summary>
    public ParameterView FinalNormBias { get; }

    /// <summary>head.weight (C, K), (in, out).</summary>
    public ParameterView HeadWeight { get; }

    /// <summary>head.bias (K).</summary>
    public ParameterView HeadBias { get; }

    /// <summary>Every tensor of the saved folder, in the saved order, with where it lives in the arena.</summary>
    public StateDictMap StateDict { get; }

    private static StateDictEntry Copy(string name, ParameterView view) => new(name, view.Shape, view);

    /// <summary>An nn.Linear weight (out, in) saved, its view (in, out) in the arena.</summary>
    private static StateDictEntry Linear(string name, ParameterView view, int column, int outFeatures) =>
        new(name, [outFeatures, view.Shape[0]], view, column, Transposed: true);

    protected override string Unknown(string name) => $"ViT has no parameter named '{name}'";
}
