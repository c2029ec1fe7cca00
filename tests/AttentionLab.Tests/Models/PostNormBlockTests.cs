using System.Text.Json;
using AttentionLab.Attention;
using AttentionLab.IO;
using AttentionLab.Models;

namespace AttentionLab.Tests.Models;

/// <summary>
/// The post-norm block (<see cref="NormPlacement.Post"/>: x = ln_1(x + attn(x)); x = ln_2(x + mlp(x)), the original
/// Transformer's and BERT's) against PyTorch (fixtures/postnorm_block.json, made by fixtures/make_postnorm_fixture.py
/// in float64 and checked there against torch's nn.TransformerEncoderLayer(norm_first=False)): output, dx and every
/// parameter gradient by name, with key padding and with the causal mask, with each exact kernel. Tolerances as the
/// pre-norm block's fixture test (forward 1e-5 + 1e-5, gradients 1e-4 + 1e-4).
/// </summary>
public class PostNormBlockTests
{
    private const double ForwardRtol = 1e-5, ForwardAtol = 1e-5, GradRtol = 1e-4, GradAtol = 1e-4;

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var name in new[] { "encoder", "causal" })
            foreach (var kernel in new[] { "naive", "fast", "flash" })
                data.Add(name, kernel);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name, string kernelName)
    {
        var f = Fixtures.Get(Fixtures.Load("postnorm_block.json"), name);
        bool causal = f.GetProperty("causal").GetBoolean();
        var options = new AttentionOptions
        {
            IsCausal = causal,
            KeyPaddingMask = f.TryGetProperty("key_padding", out var pad) ? Fixtures.Doubles(pad).Select(v => v != 0).ToArray() : null,
        };
        TransformerFixtureTests.CheckBlock(f, new DecoderConfig { IsCausal = causal, NormPlacement = NormPlacement.Post }, kernelName, options,
            (w, c, h, eps) => AttentionLab.Layers.TransformerBlock.Create(0, w, NormKind.LayerNorm, eps, MlpActivation.GeluTanh, h, c / h, NormPlacement.Post),
            ForwardRtol, ForwardAtol, GradRtol, GradAtol);
    }

    /// <summary>The choice is saved (attnlab_norm_placement) and a reloaded model gives the same logits; pre-norm
    /// folders carry no such key; another value is refused with one line.</summary>
    [Fact]
    public void SavesAndReloads()
    {
        var config = new DecoderConfig { VocabSize = 11, ContextLength = 6, Layers = 2, Channels = 8, Heads = 2, NormPlacement = NormPlacement.Post };
        var model = new DecoderModel(config);
        model.InitializeWeights(5);
        var dir = Path.Combine(Path.GetTempPath(), "attnlab-postnorm-" + Guid.NewGuid().ToString("N"));
        try
        {
            DecoderFolder.Save(model, dir);
            Assert.Contains("\"attnlab_norm_placement\": \"post\"", File.ReadAllText(Path.Combine(dir, "config.json")));
            var loaded = DecoderFolder.Load(dir);
            Assert.Equal(NormPlacement.Post, loaded.Config.NormPlacement);
            int[] ids = [1, 4, 2, 9, 3];
            model.Forward(ids, 1, 5);
            var expected = model.Logits.ToArray();
            loaded.Forward(ids, 1, 5);
            Assert.Equal(expected, loaded.Logits.ToArray());
            var pre = new DecoderModel(config with { NormPlacement = NormPlacement.Pre });
            pre.InitializeWeights(5);
            pre.Forward(ids, 1, 5);
            Assert.NotEqual(expected, pre.Logits.ToArray());                             // the placement changes the function

            var path = Path.Combine(dir, "config.json");
            File.WriteAllText(path, File.ReadAllText(path).Replace("\"post\"", "\"middle\""));
            var e = Assert.Throws<InvalidDataException>(() => DecoderFolder.Load(dir));
            Assert.Contains("attnlab_norm_placement must be \"pre\" or \"post\", got \"middle\"", e.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
