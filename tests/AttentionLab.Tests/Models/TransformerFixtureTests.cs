using System.Text.Json;
using AttentionLab.Attention;
using AttentionLab.Models;
using AttentionLab.Tensors;

namespace AttentionLab.Tests.Models;

/// <summary>
/// The encoder block, the decoder block with cross-attention and the ViT patch embedding against PyTorch
/// (fixtures/transformer_blocks.json, made by fixtures/make_transformer_fixtures.py in float64): outputs, input
/// gradients and every parameter gradient by name, with each attention kernel.
/// Tolerances: forward 1e-5 relative + 1e-5 absolute and gradients 1e-4 + 1e-4 — float32 through two LayerNorms, an
/// attention and a 4C-wide MLP accumulates a few ulps per op on values of size ~1; a wrong mask or formula is off by 1e-2 or more.
/// </summary>
public class TransformerFixtureTests
{
    private const string File = "transformer_blocks.json";
    private const double ForwardRtol = 1e-5, ForwardAtol = 1e-5, GradRtol = 1e-4, GradAtol = 1e-4;

    public static TheoryData<string> ExactKernels() => new(["naive", "fast"]);

    private static JsonElement Case(string name) => Fixtures.Get(Fixtures.Load(File), name);

    private static bool[] Mask(JsonElement tensor) => Fixtures.Doubles(tensor).Select(v => v != 0).ToArray();

    /// <summary>
    /// The same fixture through the one stack's <see cref="AttentionLab.Layers.TransformerBlock"/> (BERT's block):
    /// non-causal, the [PAD] keys hidden through <see cref="AttentionOptions.KeyPaddingMask"/>, PyTorch's (out, in)
    /// query/key/value/out/fc/proj weights mapped into a DecoderLayout-shaped arena (c_attn (C, 3C) = [W_qᵀ | W_kᵀ | W_vᵀ])
    /// by the state-dict map BERT's folders use; every gradient read back by its PyTorch name.
    /// </summary>
    [Theory]
    [MemberData(nameof(ExactKernels))]
    public void EncoderBlockOfTheOneStackMatchesPyTorch(string kernelName)
    {
        var f = Case("encoder_block");
        var options = new AttentionOptions { KeyPaddingMask = Mask(f.GetProperty("key_padding")) };
        CheckBlock(f, new DecoderConfig { IsCausal = false }, kernelName, options, (w, c, h, eps) => new AttentionLab.Layers.TransformerBlock(0,
            new AttentionLab.Layers.NormLayer(NormKind.LayerNorm, w.Norm1Weight, w.Norm1Bias!, c, eps),
            new AttentionLab.Layers.AttentionLayer(new AttentionLab.Layers.LinearLayer(w.AttentionWeight, w.AttentionBias!, c, 3 * c),
                new AttentionLab.Layers.LinearLayer(w.AttentionProjectionWeight, w.AttentionProjectionBias!, c, c), h, c / h),
            new AttentionLab.Layers.NormLayer(NormKind.LayerNorm, w.Norm2Weight, w.Norm2Bias!, c, eps),
            new AttentionLab.Layers.MlpLayer(new AttentionLab.Layers.LinearLayer(w.MlpWeight, w.MlpBias!, c, 4 * c),
                new AttentionLab.Layers.LinearLayer(w.MlpProjectionWeight, w.MlpProjectionBias!, 4 * c, c), MlpActivation.GeluTanh)),
            ForwardRtol, ForwardAtol, GradRtol, GradAtol);
    }

    /// <summary>
    /// One block fixture (x, y, dy, dx, params and grads by PyTorch name) through a block of the one stack: the
    /// fixture's (out, in) weights mapped into a DecoderLayout-shaped arena by the encoder block's state-dict map, forward,
    /// backward, and every gradient read back by its PyTorch name. <paramref name="shape"/> gives the choices (causal,
    /// norm placement); the sizes come from the fixture. Shared with the post-norm block's test.
    /// </summary>
    internal static void CheckBlock(JsonElement f, DecoderConfig shape, string kernelName, AttentionOptions options,
        Func<DecoderBlockLayout, int, int, float, AttentionLab.Layers.TransformerBlock> build, double forwardRtol, double forwardAtol, double gradRtol, double gradAtol)
    {
        int c = f.GetProperty("C").GetInt32(), h = f.GetProperty("H").GetInt32();
        var x = Fixtures.Tensor(f.GetProperty("x"));                                     // (B, T, C)
        int batch = x.Dim(0), length = x.Dim(1);
        var config = shape with { VocabSize = 1, ContextLength = length, Layers = 1, Channels = c, Heads = h };
        var layout = new DecoderLayout(config);
        var map = new StateDictMap(StateDictMap.EncoderBlock("", layout.Blocks[0], c));
        var parameters = new float[layout.Count];
        var given = f.GetProperty("params");
        foreach (var e in map.Entries) e.CopyTo(Fixtures.Floats(given.GetProperty(e.Name)), parameters);
        Assert.Equal(given.EnumerateObject().Count(), map.Entries.Count);             // every PyTorch parameter has a place
        var block = build(layout.Blocks[0], c, h, config.LayerNormEpsilon);
        var kernel = AttentionKernels.Parse(kernelName);
        var attentionShape = new AttentionShape(batch, h, length, length, c / h);
        var a = new DecoderActivations(config, batch, length, kernel.SavedLength(attentionShape), training: true, reuse: null);
        var run = new AttentionLab.Layers.LayerRun { Parameters = parameters, Gradients = new float[layout.Count], Activations = a, ParallelMinimumWork = 0 };

        x.Data.CopyTo(a[a.Encoded]);
        block.Forward(run, a.Encoded, new AttentionLab.Layers.AttentionCall(kernel, options, null, 0, null));
        Close.Assert(a[a.Blocks[0].Residual3], Fixtures.Doubles(f.GetProperty("y")), forwardRtol, forwardAtol, "y");
        Fixtures.Floats(f.GetProperty("dy")).CopyTo(a[a.DResidual]);
        block.Backward(run, a.Encoded, (kernel, options), accumulate: true);
        Close.Assert(a[a.DResidual], Fixtures.Doubles(f.GetProperty("dx")), gradRtol, gradAtol, "dx");
        var grads = f.GetProperty("grads");
        foreach (var e in map.Entries)
            Close.Assert(e.Read(run.Gradients), Fixtures.Doubles(grads.GetProperty(e.Name)), gradRtol, gradAtol, "d" + e.Name);
    }

    [Theory]
    [MemberData(nameof(ExactKernels))]
    public void DecoderBlockWithCrossAttentionMatchesPyTorch(string kernel)
    {
        // through the one stack: the seq2seq model's DecoderBlock (CrossAttentionLayer inside) over an arena, the
        // fixture's PyTorch (out, in) query/key/value/out weights mapped into the fused (in, out) views
        var f = Case("decoder_block");
        int C = f.GetProperty("C").GetInt32(), H = f.GetProperty("H").GetInt32();
        var x = Fixtures.Tensor(f.GetProperty("x"));
        var memory = Fixtures.Tensor(f.GetProperty("memory"));
        int B = x.Dim(0), Tt = x.Dim(1), Ts = memory.Dim(1);
        var layout = new Seq2SeqLayout(new Seq2SeqConfig { Channels = C, Heads = H, EncoderLayers = 1, DecoderLayers = 1, MaxSourceLength = Ts, MaxTargetLength = Tt });
        var model = new Seq2SeqModel(layout.Config);
        const string prefix = "decoder.h.0.";
        var tensors = model.StateTensors.Where(t => t.Name.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        var parameters = new float[layout.Count];
        var gradients = new float[layout.Count];
        var given = f.GetProperty("params");
        foreach (var t in tensors)
        {
            var value = Fixtures.Tensor(given.GetProperty(t.Name[prefix.Length..]));
            Assert.Equal(t.Length, value.Length);
            t.Import(value.Data, parameters);
        }
        Assert.Equal(given.EnumerateObject().Count(), tensors.Count); // every PyTorch parameter has a C# counterpart

        var attention = AttentionKernels.Parse(kernel);
        var crossOptions = new AttentionOptions { KeyPaddingMask = Mask(f.GetProperty("memory_padding")) };
        var shape = new DecoderConfig { VocabSize = 1, ContextLength = Tt, Layers = 1, Channels = C, Heads = H };
        var a = new DecoderActivations(shape, B, Tt, attention.SavedLength(new AttentionShape(B, H, Tt, Tt, C / H)), training: true, reuse: null,
            memoryLength: Ts, crossSavedPerBlock: attention.SavedLength(new AttentionShape(B, H, Tt, Ts, C / H)));
        var run = new AttentionLab.Layers.LayerRun { Parameters = parameters, Gradients = gradients, Activations = a };
        var block = Seq2SeqModel.BuildDecoderBlock(layout, 0);
        x.Data.CopyTo(a[a.Encoded]);
        memory.Data.CopyTo(a[a.Memory]);
        block.Forward(run, a.Encoded, new AttentionLab.Layers.AttentionCall(attention, AttentionOptions.Causal, null, 0, null),
            new AttentionLab.Layers.AttentionCall(attention, crossOptions, null, 0, null));
        Close.Assert(a[a.Blocks[0].Residual3], Fixtures.Doubles(f.GetProperty("y")), ForwardRtol, ForwardAtol, "y");
        Fixtures.Tensor(f.GetProperty("dy")).Data.CopyTo(a[a.DResidual]);
        a[a.DMemory].Clear();
        block.Backward(run, a.Encoded, attention, AttentionOptions.Causal, crossOptions);
        Close.Assert(a[a.DResidual], Fixtures.Doubles(f.GetProperty("dx")), GradRtol, GradAtol, "dx");
        Close.Assert(a[a.DMemory], Fixtures.Doubles(f.GetProperty("dmemory")), GradRtol, GradAtol, "dmemory");
        var grads = f.GetProperty("grads");
        foreach (var t in tensors)
        {
            var grad = new float[t.Length];
            t.Export(gradients, grad);
            string name = t.Name[prefix.Length..];
            Close.Assert(grad, Fixtures.Doubles(grads.GetProperty(name)), GradRtol, GradAtol, "d" + name);
        }
    }

    [Fact]
    public void PatchEmbeddingLayerMatchesConv2d()
    {
        // the one stack's layer: the fixture's tokens are rows 1..N of each image with cls_token = pos_embed = 0
        var f = Case("patch_embedding");
        int S = f.GetProperty("image_size").GetInt32(), P = f.GetProperty("patch_size").GetInt32(), C = f.GetProperty("channels").GetInt32();
        var layout = new VitLayout(new VitConfig { ImageSize = S, PatchSize = P, Channels = C, Heads = 1, Layers = 1 });
        var parameters = new float[layout.Count];
        var gradients = new float[layout.Count];
        var weight = layout.StateDict["patch_embed.proj.weight"];
        // Conv2d's weight (C, 1, P, P) is the Linear weight (C, P²) row by row; the arena holds it (P², C)
        weight.CopyTo(Fixtures.Floats(f.GetProperty("weight")), parameters);
        Fixtures.Floats(f.GetProperty("bias")).CopyTo(parameters, layout.PatchBias.Offset);
        var images = Fixtures.Floats(f.GetProperty("images"));
        int batch = images.Length / (S * S), n = (S / P) * (S / P), t = n + 1;
        var shape = new DecoderConfig { VocabSize = 2, ContextLength = t, Layers = 1, Channels = C, Heads = 1 };
        var run = new AttentionLab.Layers.LayerRun { Parameters = parameters, Gradients = gradients, Activations = new DecoderActivations(shape, batch, t, 0, true, null) };
        var a = run.Activations;
        var layer = new AttentionLab.Layers.PatchEmbeddingLayer(layout.PatchWeight, layout.PatchBias, layout.ClassToken, layout.PositionEmbedding!, S, P, C);
        var patches = new float[batch * n * P * P];
        layer.Forward(run, images, patches, a.Encoded, null);
        var x = a[a.Encoded];
        var tokens = new float[batch * n * C];
        for (int b = 0; b < batch; b++)
        {
            Assert.True(x.Slice(b * t * C, C).IndexOfAnyExcept(0f) < 0, "[CLS] row: cls_token + pos_embed[0] = 0");
            x.Slice(b * t * C + C, n * C).CopyTo(tokens.AsSpan(b * n * C, n * C));
        }
        Close.Assert(tokens, Fixtures.Doubles(f.GetProperty("tokens")), ForwardRtol, ForwardAtol, "tokens");
        var dTokens = Fixtures.Floats(f.GetProperty("dtokens"));
        var dx = a[a.DResidual];
        dx.Clear();
        for (int b = 0; b < batch; b++) dTokens.AsSpan(b * n * C, n * C).CopyTo(dx.Slice(b * t * C + C, n * C));
        var dImages = new float[images.Length];
        layer.Backward(run, a.DResidual, patches, dImages);
        var dWeight = weight.Read(gradients);
        Close.Assert(dWeight, Fixtures.Doubles(f.GetProperty("dweight")), GradRtol, GradAtol, "dweight");
        Close.Assert(gradients.AsSpan(layout.PatchBias.Offset, C).ToArray(), Fixtures.Doubles(f.GetProperty("dbias")), GradRtol, GradAtol, "dbias");
        Close.Assert(dImages, Fixtures.Doubles(f.GetProperty("dimages")), GradRtol, GradAtol, "dimages");
        // dpos[1..N] = Σ_b dtokens[b], dcls = Σ_b dx[b, 0] = 0
        var dPositions = new double[n * C];
        for (int b = 0; b < batch; b++) for (int i = 0; i < n * C; i++) dPositions[i] += dTokens[b * n * C + i];
        Close.Assert(gradients.AsSpan(layout.PositionEmbedding.Offset + C, n * C).ToArray(), dPositions, GradRtol, GradAtol, "dpos");
        Assert.True(gradients.AsSpan(layout.ClassToken.Offset, C).IndexOfAnyExcept(0f) < 0, "dcls");
    }
}
