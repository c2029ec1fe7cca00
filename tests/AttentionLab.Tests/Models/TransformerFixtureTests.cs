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

    private static void SetParameters(IEnumerable<(string Name, Tensor Value, Tensor Grad)> parameters, JsonElement fixture)
    {
        var given = fixture.GetProperty("params");
        int count = 0;
        foreach (var (name, value, _) in parameters)
        {
            var t = Fixtures.Tensor(given.GetProperty(name));
            Assert.Equal(t.Length, value.Length);
            t.Data.CopyTo(value.Data, 0);
            count++;
        }
        Assert.Equal(given.EnumerateObject().Count(), count); // every PyTorch parameter has a C# counterpart
    }

    private static void CheckGradients(IEnumerable<(string Name, Tensor Value, Tensor Grad)> parameters, JsonElement fixture)
    {
        var grads = fixture.GetProperty("grads");
        foreach (var (name, _, grad) in parameters)
            Close.Assert(grad.Data, Fixtures.Doubles(grads.GetProperty(name)), GradRtol, GradAtol, "d" + name);
    }

    private static bool[] Mask(JsonElement tensor) => Fixtures.Doubles(tensor).Select(v => v != 0).ToArray();

    [Theory]
    [MemberData(nameof(ExactKernels))]
    public void EncoderBlockMatchesPyTorch(string kernel)
    {
        var f = Case("encoder_block");
        var block = new TransformerEncoderBlock(f.GetProperty("C").GetInt32(), f.GetProperty("H").GetInt32(), AttentionKernels.Parse(kernel), new Random(0));
        SetParameters(block.NamedParameters(), f);
        block.Options = new AttentionOptions { KeyPaddingMask = Mask(f.GetProperty("key_padding")) };
        var y = block.Forward(Fixtures.Tensor(f.GetProperty("x")));
        Close.Assert(y.Data, Fixtures.Doubles(f.GetProperty("y")), ForwardRtol, ForwardAtol, "y");
        var dx = block.Backward(Fixtures.Tensor(f.GetProperty("dy")));
        Close.Assert(dx.Data, Fixtures.Doubles(f.GetProperty("dx")), GradRtol, GradAtol, "dx");
        CheckGradients(block.NamedParameters(), f);
    }

    [Theory]
    [MemberData(nameof(ExactKernels))]
    public void DecoderBlockWithCrossAttentionMatchesPyTorch(string kernel)
    {
        var f = Case("decoder_block");
        var block = new TransformerDecoderBlock(f.GetProperty("C").GetInt32(), f.GetProperty("H").GetInt32(), AttentionKernels.Parse(kernel), new Random(0));
        SetParameters(block.NamedParameters(), f);
        var memory = Fixtures.Tensor(f.GetProperty("memory"));
        var y = block.Forward(Fixtures.Tensor(f.GetProperty("x")), memory, Mask(f.GetProperty("memory_padding")));
        Close.Assert(y.Data, Fixtures.Doubles(f.GetProperty("y")), ForwardRtol, ForwardAtol, "y");
        var dMemory = new Tensor(memory.Shape);
        var dx = block.Backward(Fixtures.Tensor(f.GetProperty("dy")), dMemory);
        Close.Assert(dx.Data, Fixtures.Doubles(f.GetProperty("dx")), GradRtol, GradAtol, "dx");
        Close.Assert(dMemory.Data, Fixtures.Doubles(f.GetProperty("dmemory")), GradRtol, GradAtol, "dmemory");
        CheckGradients(block.NamedParameters(), f);
    }

    [Fact]
    public void PatchEmbeddingMatchesConv2d()
    {
        var f = Case("patch_embedding");
        int S = f.GetProperty("image_size").GetInt32(), P = f.GetProperty("patch_size").GetInt32(), C = f.GetProperty("channels").GetInt32();
        var embed = new PatchEmbedding(S, P, C, new Random(0));
        // Conv2d's weight (C, 1, P, P) is the Linear weight (C, P²) row by row
        Fixtures.Floats(f.GetProperty("weight")).CopyTo(embed.Proj.Weight.Data, 0);
        Fixtures.Floats(f.GetProperty("bias")).CopyTo(embed.Proj.Bias!.Data, 0);
        var images = Fixtures.Floats(f.GetProperty("images"));
        int batch = images.Length / (S * S);
        var tokens = embed.Forward(images, batch);
        Close.Assert(tokens.Data, Fixtures.Doubles(f.GetProperty("tokens")), ForwardRtol, ForwardAtol, "tokens");
        var dImages = new float[images.Length];
        embed.Backward(Fixtures.Floats(f.GetProperty("dtokens")), dImages);
        Close.Assert(embed.Proj.WeightGrad.Data, Fixtures.Doubles(f.GetProperty("dweight")), GradRtol, GradAtol, "dweight");
        Close.Assert(embed.Proj.BiasGrad!.Data, Fixtures.Doubles(f.GetProperty("dbias")), GradRtol, GradAtol, "dbias");
        Close.Assert(dImages, Fixtures.Doubles(f.GetProperty("dimages")), GradRtol, GradAtol, "dimages");
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
        var weight = layout.StateDict.Single(e => e.Name == "patch_embed.proj.weight");
        // Conv2d's weight (C, 1, P, P) is the Linear weight (C, P²) row by row; the arena holds it (P², C)
        weight.Write(Fixtures.Floats(f.GetProperty("weight")), parameters);
        Fixtures.Floats(f.GetProperty("bias")).CopyTo(parameters, layout.PatchBias.Offset);
        var images = Fixtures.Floats(f.GetProperty("images"));
        int batch = images.Length / (S * S), n = (S / P) * (S / P), t = n + 1;
        var shape = new Gpt2Config { VocabSize = 2, ContextLength = t, Layers = 1, Channels = C, Heads = 1 };
        var run = new AttentionLab.Layers.LayerRun { Parameters = parameters, Gradients = gradients, Activations = new Gpt2Activations(shape, batch, t, 0, true, null) };
        var a = run.Activations;
        var layer = new AttentionLab.Layers.PatchEmbeddingLayer(layout.PatchWeight, layout.PatchBias, layout.ClassToken, layout.PositionEmbedding, S, P, C);
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
        var dWeight = new float[weight.Length];
        weight.Read(gradients, dWeight);
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
