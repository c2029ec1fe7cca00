namespace AttentionLab.Models;

/// <summary>The cross-attention views of one decoder block (names under <c>decoder.h.{l}.</c>).</summary>
public sealed record CrossBlockLayout(
    ParameterView NormWeight, ParameterView NormBias,                  // ln_2 (C)
    ParameterView QueryWeight, ParameterView QueryBias,                // cross_attn.c_q (C, C), (C)
    ParameterView KeyValueWeight, ParameterView KeyValueBias,          // cross_attn.c_kv (C, 2C), (2C)
    ParameterView ProjectionWeight, ParameterView ProjectionBias);     // cross_attn.c_proj (C, C), (C)

/// <summary>
/// Where every parameter of an encoder-decoder (<see cref="Seq2SeqModel"/>) lives in one float arena, in the order
/// the model draws its initial weights: encoder embeddings, encoder blocks, encoder.ln_f, decoder embeddings, decoder
/// blocks, decoder.ln_f, lm_head. Norms, embeddings and the head keep the state-dict names and shapes of the saved
/// folder; the projections are the one stack's (in, out) matrices, fused where the layers fuse them — self-attention
/// <c>attn.c_attn</c> (C, 3C) = [query | key | value], cross-attention <c>cross_attn.c_q</c> (C, C) and
/// <c>cross_attn.c_kv</c> (C, 2C) = [key | value], outputs <c>c_proj</c>, MLP <c>mlp.c_fc</c> (C, 4C) and
/// <c>mlp.c_proj</c> (4C, C). <see cref="Seq2SeqStateDict"/> converts to and from the saved PyTorch (out, in) tensors.
/// </summary>
public sealed class Seq2SeqLayout : ParameterLayout
{
    public Seq2SeqLayout(Seq2SeqConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        int v = config.VocabSize, c = config.Channels;
        SourceTokens = Add("encoder.embed.token.weight", v, c);
        SourcePositions = Add("encoder.embed.position.weight", config.MaxSourceLength, c);
        var encoder = new DecoderBlockLayout[config.EncoderLayers];
        for (int l = 0; l < encoder.Length; l++) encoder[l] = Block($"encoder.h.{l}.", "attn.", "ln_2.", c);
        Encoder = encoder;
        EncoderNormWeight = Add("encoder.ln_f.weight", c);
        EncoderNormBias = Add("encoder.ln_f.bias", c);
        TargetTokens = Add("decoder.embed.token.weight", v, c);
        TargetPositions = Add("decoder.embed.position.weight", config.MaxTargetLength + 1, c);
        var decoder = new DecoderBlockLayout[config.DecoderLayers];
        var cross = new CrossBlockLayout[config.DecoderLayers];
        for (int l = 0; l < decoder.Length; l++)
        {
            string p = $"decoder.h.{l}.";
            // arena order = the old module order: ln_1, self_attn, ln_2, cross_attn, ln_3, mlp
            var n1w = Add(p + "ln_1.weight", c); var n1b = Add(p + "ln_1.bias", c);
            var qkv = Add(p + "self_attn.c_attn.weight", c, 3 * c); var qkvb = Add(p + "self_attn.c_attn.bias", 3 * c);
            var proj = Add(p + "self_attn.c_proj.weight", c, c); var projb = Add(p + "self_attn.c_proj.bias", c);
            cross[l] = new CrossBlockLayout(Add(p + "ln_2.weight", c), Add(p + "ln_2.bias", c),
                Add(p + "cross_attn.c_q.weight", c, c), Add(p + "cross_attn.c_q.bias", c),
                Add(p + "cross_attn.c_kv.weight", c, 2 * c), Add(p + "cross_attn.c_kv.bias", 2 * c),
                Add(p + "cross_attn.c_proj.weight", c, c), Add(p + "cross_attn.c_proj.bias", c));
            var n2w = Add(p + "ln_3.weight", c); var n2b = Add(p + "ln_3.bias", c);
            decoder[l] = new DecoderBlockLayout(n1w, n1b, qkv, qkvb, proj, projb, n2w, n2b,
                Add(p + "mlp.c_fc.weight", c, 4 * c), Add(p + "mlp.c_fc.bias", 4 * c),
                Add(p + "mlp.c_proj.weight", 4 * c, c), Add(p + "mlp.c_proj.bias", c));
        }
        Decoder = decoder;
        Cross = cross;
        DecoderNormWeight = Add("decoder.ln_f.weight", c);
        DecoderNormBias = Add("decoder.ln_f.bias", c);
        HeadWeight = Add("lm_head.weight", v, c);
        HeadBias = Add("lm_head.bias", v);
    }

    /// <summary>One block's self-attention and MLP views, the arena order of the old modules (ln_1, attention, norm, mlp).</summary>
    private DecoderBlockLayout Block(string p, string attention, string norm2, int c) => new(
        Add(p + "ln_1.weight", c), Add(p + "ln_1.bias", c),
        Add(p + attention + "c_attn.weight", c, 3 * c), Add(p + attention + "c_attn.bias", 3 * c),
        Add(p + attention + "c_proj.weight", c, c), Add(p + attention + "c_proj.bias", c),
        Add(p + norm2 + "weight", c), Add(p + norm2 + "bias", c),
        Add(p + "mlp.c_fc.weight", c, 4 * c), Add(p + "mlp.c_fc.bias", 4 * c),
        Add(p + "mlp.c_proj.weight", 4 * c, c), Add(p + "mlp.c_proj.bias", c));

    public Seq2SeqConfig Config { get; }

    /// <summary>encoder.embed.token.weight (V, C)</summary>
    public ParameterView SourceTokens { get; }
    /// <summary>encoder.embed.position.weight (Ts, C)</summary>
    public ParameterView SourcePositions { get; }
    /// <summary>encoder.h.{l}: ln_1, attn (fused), ln_2, mlp</summary>
    public IReadOnlyList<DecoderBlockLayout> Encoder { get; }
    public ParameterView EncoderNormWeight { get; }
    public ParameterView EncoderNormBias { get; }
    /// <summary>decoder.embed.token.weight (V, C)</summary>
    public ParameterView TargetTokens { get; }
    /// <summary>decoder.embed.position.weight (Tt + 1, C)</summary>
    public ParameterView TargetPositions { get; }
    /// <summary>decoder.h.{l}: ln_1, self_attn (fused), ln_3 (the MLP's norm, Norm2 here), mlp</summary>
    public IReadOnlyList<DecoderBlockLayout> Decoder { get; }
    /// <summary>decoder.h.{l}: ln_2 and cross_attn</summary>
    public IReadOnlyList<CrossBlockLayout> Cross { get; }
    public ParameterView DecoderNormWeight { get; }
    public ParameterView DecoderNormBias { get; }
    /// <summary>lm_head.weight (V, C), untied</summary>
    public ParameterView HeadWeight { get; }
    /// <summary>lm_head.bias (V)</summary>
    public ParameterView HeadBias { get; }

    protected override string Unknown(string name) => $"the seq2seq model has no parameter named '{name}'";
}
