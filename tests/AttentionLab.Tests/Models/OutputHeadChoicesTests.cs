using AttentionLab.Attention;
using AttentionLab.IO;
using AttentionLab.Models;

namespace AttentionLab.Tests.Models;

/// <summary>The head's choices of the one stack: an untied (V, C) matrix, an output bias, positions left unscored
/// (target −1), a bidirectional stack. Finite differences for the gradients; save and load keep them.</summary>
public class OutputHeadChoicesTests
{
    private static DecoderModel Model(bool tied, bool bias, bool causal = true)
    {
        var config = new DecoderConfig { VocabSize = 11, ContextLength = 6, Layers = 1, Channels = 8, Heads = 2, TiedOutput = tied, OutputBias = bias, IsCausal = causal };
        var model = new DecoderModel(config, AttentionKernels.Reference);
        model.InitializeWeights(9);
        var rnd = new Random(4);
        var p = model.Parameters.Data;
        for (int i = 0; i < p.Length; i++) p[i] += (float)(rnd.NextDouble() - 0.5) * 0.4f;
        return model;
    }

    [Theory]
    [InlineData(false, false, true)]
    [InlineData(false, true, true)]
    [InlineData(true, true, false)]
    public void Gradients_match_finite_differences_with_unscored_positions(bool tied, bool bias, bool causal)
    {
        var model = Model(tied, bias, causal);
        var layout = model.Layout;
        Assert.Equal(model.Config.ParameterCount, layout.Count);
        Assert.Equal(tied, layout.OutputWeight == layout.TokenEmbedding);
        Assert.Equal(bias, layout.OutputBias is not null);
        var rnd = new Random(5);
        int b = 2, t = 5;
        var x = Enumerable.Range(0, b * t).Select(_ => rnd.Next(11)).ToArray();
        var y = Enumerable.Range(0, b * t).Select(i => i % 3 == 1 ? -1 : rnd.Next(11)).ToArray();   // a third not scored
        model.ZeroGrad();
        float loss = model.Forward(x, b, t, y);
        // the mean over the scored positions only
        double expected = 0; int counted = 0;
        var logits = model.Logits;
        for (int i = 0; i < b * t; i++)
        {
            if (y[i] < 0) continue;
            var row = logits.Slice(i * 11, 11);
            double max = double.NegativeInfinity; foreach (var z in row) max = Math.Max(max, z);
            double sum = 0; foreach (var z in row) sum += Math.Exp(z - max);
            expected += max + Math.Log(sum) - row[y[i]];
            counted++;
        }
        Assert.Equal(expected / counted, loss, 5);
        model.Backward();
        var g = (float[])model.Gradients.Data.Clone();
        var p = model.Parameters.Data;
        foreach (var view in layout.All)
            for (int probe = 0; probe < 3; probe++)
            {
                int i = view.Offset + rnd.Next(view.Length);
                float saved = p[i];
                const float h = 1e-2f;
                p[i] = saved + h; double plus = model.Forward(x, b, t, y);
                p[i] = saved - h; double minus = model.Forward(x, b, t, y);
                p[i] = saved;
                double numeric = (plus - minus) / (2 * h);
                Assert.True(Math.Abs(numeric - g[i]) <= 2e-3 + 0.05 * Math.Abs(numeric), $"{view.Name}[{i - view.Offset}]: analytic {g[i]:G6}, numeric {numeric:G6}");
            }
    }

    [Fact]
    public void An_untied_head_with_a_bias_saves_and_loads_as_Hugging_Face_names()
    {
        var model = Model(tied: false, bias: true);
        var dir = Directory.CreateTempSubdirectory("attnlab-head-").FullName;
        try
        {
            DecoderFolder.Save(model, dir, force: true);
            var (tensors, _) = SafeTensors.Read(Path.Combine(dir, DecoderFolder.WeightsFileName));
            Assert.True(tensors.ContainsKey("lm_head.weight"));
            Assert.True(tensors.ContainsKey("lm_head.bias"));
            var loaded = DecoderFolder.Load(dir, AttentionKernels.Reference);
            Assert.False(loaded.Config.TiedOutput);
            Assert.True(loaded.Config.OutputBias);
            Assert.Equal(model.Parameters.Data, loaded.Parameters.Data);
            int[] ids = [1, 2, 3, 4];
            model.Forward(ids, 1, 4);
            var a = model.Logits.ToArray();
            loaded.Forward(ids, 1, 4);
            Assert.Equal(a, loaded.Logits.ToArray());
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
