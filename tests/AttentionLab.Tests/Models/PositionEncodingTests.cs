using AttentionLab.Attention;
using AttentionLab.IO;
using AttentionLab.Models;

namespace AttentionLab.Tests.Models;

public class PositionEncodingTests
{
    /// <summary>Vaswani §3.5 written out by hand for a few entries: PE[pos, 2i] = sin(pos/10000^(2i/C)),
    /// PE[pos, 2i+1] = cos(…); float32 of the double formula, so 1e-7 absolute.</summary>
    [Fact]
    public void SinusoidalTableFollowsTheFormula()
    {
        const int C = 8;
        var table = SinusoidalPositions.Table(5, C);
        Assert.Equal(5 * C, table.Length);
        Assert.Equal(0f, table[0]);                          // sin 0
        Assert.Equal(1f, table[1]);                          // cos 0
        Assert.Equal(Math.Sin(1.0), table[1 * C + 0], 1e-7);  // pos 1, i = 0: wavelength 2π
        Assert.Equal(Math.Cos(1.0), table[1 * C + 1], 1e-7);
        Assert.Equal(Math.Sin(3 / Math.Pow(10000, 2.0 / 8)), table[3 * C + 2], 1e-7);  // pos 3, i = 1
        Assert.Equal(Math.Cos(4 / Math.Pow(10000, 6.0 / 8)), table[4 * C + 7], 1e-7);  // pos 4, i = 3
    }

    [Theory]
    [InlineData(PositionEncoding.Sinusoidal)]
    [InlineData(PositionEncoding.None)]
    public void FixedPositionsKeepWpeAtZeroAndGradientsStillCheck(PositionEncoding positions)
    {
        var config = new DecoderConfig { VocabSize = 11, ContextLength = 6, Layers = 1, Channels = 8, Heads = 2, Positions = positions };
        var model = new DecoderModel(config, AttentionKernels.Reference);
        model.InitializeWeights(9);
        Assert.Equal(-1, model.Parameters[model.Layout.PositionEmbedding!].IndexOfAnyExcept(0f));
        var rnd = new Random(4);
        var p = model.Parameters.Data;
        var wpe = model.Layout.PositionEmbedding!;
        for (int i = 0; i < p.Length; i++)
            if (i < wpe.Offset || i >= wpe.Offset + wpe.Length) p[i] += (float)(rnd.NextDouble() - 0.5) * 0.4f;
        int b = 2, t = 5;
        var x = Enumerable.Range(0, b * t).Select(_ => rnd.Next(11)).ToArray();
        var y = Enumerable.Range(0, b * t).Select(_ => rnd.Next(11)).ToArray();
        model.ZeroGrad();
        model.Forward(x, b, t, y);
        model.Backward();
        var g = (float[])model.Gradients.Data.Clone();
        Assert.Equal(-1, model.Gradients[wpe].IndexOfAnyExcept(0f));    // nothing to learn there
        // central differences, h = 1e-2, tolerance 2e-3 + 5% as in DecoderModelTests
        foreach (var view in model.Layout.All.Where(v => v != wpe))
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

    /// <summary>Without positions (and without a mask) the model is blind to order: permuting the input permutes the
    /// logits. With sinusoids it is not. Exact to float rounding: 1e-5.</summary>
    [Fact]
    public void WithoutPositionsBidirectionalAttentionIsPermutationEquivariant()
    {
        float[] Run(PositionEncoding positions, int[] ids)
        {
            var config = new DecoderConfig { VocabSize = 11, ContextLength = 6, Layers = 1, Channels = 8, Heads = 2, Positions = positions, IsCausal = false };
            var model = new DecoderModel(config, AttentionKernels.Reference, training: false);
            model.InitializeWeights(2);
            model.Forward(ids, 1, ids.Length);
            return model.Logits.ToArray();
        }
        int[] ids = [1, 5, 7, 2], swapped = [5, 1, 7, 2];
        foreach (var positions in new[] { PositionEncoding.None, PositionEncoding.Sinusoidal })
        {
            var a = Run(positions, ids); var s = Run(positions, swapped);
            double diff = 0;
            for (int k = 0; k < 11; k++) diff = Math.Max(diff, Math.Abs(a[k] - s[11 + k]) + Math.Abs(a[11 + k] - s[k]));
            if (positions == PositionEncoding.None) Assert.True(diff < 1e-5, $"none: {diff}");
            else Assert.True(diff > 1e-3, $"sinusoidal: {diff}");
        }
    }

    [Theory]
    [InlineData(PositionEncoding.Learned)]
    [InlineData(PositionEncoding.Sinusoidal)]
    [InlineData(PositionEncoding.None)]
    public void SavedAndLoaded(PositionEncoding positions)
    {
        var config = DecoderConfig.Tiny with { Positions = positions };
        var model = new DecoderModel(config);
        model.InitializeWeights(1);
        var dir = Path.Combine(Path.GetTempPath(), $"attnlab-positions-{Guid.NewGuid():N}");
        try
        {
            DecoderFolder.Save(model, dir);
            var json = File.ReadAllText(Path.Combine(dir, DecoderFolder.ConfigFileName));
            Assert.Equal(positions != PositionEncoding.Learned, json.Contains("attnlab_positions", StringComparison.Ordinal));
            var loaded = DecoderFolder.Load(dir);
            Assert.Equal(positions, loaded.Config.Positions);
            int[] ids = [3, 1, 4, 1, 5];
            model.Forward(ids, 1, 5); loaded.Forward(ids, 1, 5);
            Assert.Equal(model.Logits.ToArray(), loaded.Logits.ToArray());
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void UnknownPositionsInConfigIsInvalidData()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"attnlab-positions-{Guid.NewGuid():N}");
        try
        {
            var model = new DecoderModel(DecoderConfig.Tiny with { Positions = PositionEncoding.None });
            DecoderFolder.Save(model, dir);
            var path = Path.Combine(dir, DecoderFolder.ConfigFileName);
            File.WriteAllText(path, File.ReadAllText(path).Replace("\"none\"", "\"rotary\""));
            var e = Assert.Throws<InvalidDataException>(() => DecoderFolder.ReadConfig(dir));
            Assert.Contains("rotary", e.Message);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
