namespace AttentionLab.Models;

/// <summary>How a saved tensor's first values are drawn (the old module-per-layer initialisation, in file order).</summary>
internal enum StateInit { Ones, Zeros, Normal, Uniform }

/// <summary>
/// One tensor of a saved seq2seq folder and where it lives in the arena. Column ≥ 0: a column block of an (in, out)
/// view — the file's (out, in) weight is that block transposed (or, for a bias, the block itself); Column &lt; 0: the
/// whole view, as is.
/// </summary>
/// <param name="Bound">the uniform init's bound, 1/√in (PyTorch's nn.Linear default)</param>
internal sealed record StateTensor(string Name, int[] Shape, ParameterView View, int Column, StateInit Init, float Bound)
{
    public int Length => Shape.Aggregate(1, (a, b) => a * b);
    private bool IsMatrix => Shape.Length == 2 && Column >= 0;

    /// <summary>The file's values out of the arena.</summary>
    public void Export(ReadOnlySpan<float> arena, Span<float> file)
    {
        var view = arena.Slice(View.Offset, View.Length);
        if (Column < 0) { view.CopyTo(file); return; }
        if (!IsMatrix) { view.Slice(Column, Shape[0]).CopyTo(file); return; }
        int outF = Shape[0], inF = Shape[1], cols = View.Shape[1];
        for (int o = 0; o < outF; o++)
            for (int i = 0; i < inF; i++) file[o * inF + i] = view[i * cols + Column + o];   // W[o, i] = W'[i, column + o]
    }

    /// <summary>The file's values into the arena.</summary>
    public void Import(ReadOnlySpan<float> file, Span<float> arena)
    {
        var view = arena.Slice(View.Offset, View.Length);
        if (Column < 0) { file.CopyTo(view); return; }
        if (!IsMatrix) { file.CopyTo(view.Slice(Column, Shape[0])); return; }
        int outF = Shape[0], inF = Shape[1], cols = View.Shape[1];
        for (int o = 0; o < outF; o++)
            for (int i = 0; i < inF; i++) view[i * cols + Column + o] = file[o * inF + i];
    }
}

/// <summary>
/// The saved format of a <see cref="Seq2SeqModel"/> — the state dict of the PyTorch-style modules it was first
/// written with: <c>encoder.h.{l}.attn.query.weight</c> (out, in), <c>mlp.fc.weight</c> (4C, C), … — mapped onto the
/// arena's fused (in, out) views (<see cref="Seq2SeqLayout"/>). The list is in the old modules' order, which is also
/// the order their initial weights were drawn in, so a seed gives the same model as before.
/// </summary>
internal static class Seq2SeqStateDict
{
    public static IReadOnlyList<StateTensor> For(Seq2SeqLayout layout)
    {
        var config = layout.Config;
        int c = config.Channels;
        float bound = 1f / MathF.Sqrt(c);
        var list = new List<StateTensor>();
        void Whole(string name, ParameterView view, StateInit init, float b = 0) => list.Add(new(name, view.Shape, view, -1, init, b));
        void Linear(string name, ParameterView weight, ParameterView bias, int column, int outF, int inF)
        {
            float b = 1f / MathF.Sqrt(inF);
            list.Add(new(name + "weight", [outF, inF], weight, column, StateInit.Uniform, b));
            list.Add(new(name + "bias", [outF], bias, column, StateInit.Uniform, b));
        }
        void Norm(string name, ParameterView weight, ParameterView bias)
        {
            Whole(name + "weight", weight, StateInit.Ones);
            Whole(name + "bias", bias, StateInit.Zeros);
        }
        void Attention(string p, ParameterView qkv, ParameterView qkvBias, ParameterView proj, ParameterView projBias)
        {
            Linear(p + "query.", qkv, qkvBias, 0, c, c);
            Linear(p + "key.", qkv, qkvBias, c, c, c);
            Linear(p + "value.", qkv, qkvBias, 2 * c, c, c);
            Linear(p + "out.", proj, projBias, 0, c, c);
        }
        void Mlp(string p, DecoderBlockLayout w)
        {
            Linear(p + "mlp.fc.", w.MlpWeight, w.MlpBias!, 0, 4 * c, c);
            Linear(p + "mlp.proj.", w.MlpProjectionWeight, w.MlpProjectionBias!, 0, c, 4 * c);
        }
        Whole("encoder.embed.token.weight", layout.SourceTokens, StateInit.Normal);
        Whole("encoder.embed.position.weight", layout.SourcePositions, StateInit.Normal);
        for (int l = 0; l < layout.Encoder.Count; l++)
        {
            string p = $"encoder.h.{l}.";
            var w = layout.Encoder[l];
            Norm(p + "ln_1.", w.Norm1Weight, w.Norm1Bias!);
            Attention(p + "attn.", w.AttentionWeight, w.AttentionBias!, w.AttentionProjectionWeight, w.AttentionProjectionBias!);
            Norm(p + "ln_2.", w.Norm2Weight, w.Norm2Bias!);
            Mlp(p, w);
        }
        Norm("encoder.ln_f.", layout.EncoderNormWeight, layout.EncoderNormBias);
        Whole("decoder.embed.token.weight", layout.TargetTokens, StateInit.Normal);
        Whole("decoder.embed.position.weight", layout.TargetPositions, StateInit.Normal);
        for (int l = 0; l < layout.Decoder.Count; l++)
        {
            string p = $"decoder.h.{l}.";
            var w = layout.Decoder[l];
            var x = layout.Cross[l];
            Norm(p + "ln_1.", w.Norm1Weight, w.Norm1Bias!);
            Attention(p + "self_attn.", w.AttentionWeight, w.AttentionBias!, w.AttentionProjectionWeight, w.AttentionProjectionBias!);
            Norm(p + "ln_2.", x.NormWeight, x.NormBias);
            Linear(p + "cross_attn.query.", x.QueryWeight, x.QueryBias, 0, c, c);
            Linear(p + "cross_attn.key.", x.KeyValueWeight, x.KeyValueBias, 0, c, c);
            Linear(p + "cross_attn.value.", x.KeyValueWeight, x.KeyValueBias, c, c, c);
            Linear(p + "cross_attn.out.", x.ProjectionWeight, x.ProjectionBias, 0, c, c);
            Norm(p + "ln_3.", w.Norm2Weight, w.Norm2Bias!);
            Mlp(p, w);
        }
        Norm("decoder.ln_f.", layout.DecoderNormWeight, layout.DecoderNormBias);
        Whole("lm_head.weight", layout.HeadWeight, StateInit.Uniform, bound);
        Whole("lm_head.bias", layout.HeadBias, StateInit.Uniform, bound);
        return list;
    }

    /// <summary>
    /// The initial weights from one <see cref="Random"/>, drawn tensor by tensor in file order exactly as the modules
    /// drew them: embeddings N(0, 0.02²) (Box–Muller, one cosine per pair of draws), every Linear's weight then bias
    /// U(±1/√in), LayerNorms 1 and 0. Written through <see cref="StateTensor.Import"/>, so the arena holds the same
    /// model the module-per-layer code made from this seed.
    /// </summary>
    public static void Initialize(IReadOnlyList<StateTensor> tensors, float[] arena, int seed)
    {
        var random = new Random(seed);
        foreach (var t in tensors)
        {
            var values = new float[t.Length];
            switch (t.Init)
            {
                case StateInit.Ones: values.AsSpan().Fill(1f); break;
                case StateInit.Zeros: break;
                case StateInit.Normal: Ops.SequentialInit.Normal(random, values, 0.02); break;
                case StateInit.Uniform: Ops.SequentialInit.Uniform(random, values, t.Bound); break;
            }
            t.Import(values, arena);
        }
    }
}
