using AttentionLab.Models;

namespace AttentionLab.Tests.Models;

public class GruLanguageModelTests
{
    /// <summary>Loads gru_tiny.json's PyTorch weights (transposed into the (in, out) layout).</summary>
    private static (GruLanguageModel Model, int[] X, int[] Y, System.Text.Json.JsonElement Root) FromFixture()
    {
        var root = Fixtures.Load("gru_tiny.json");
        var c = root.GetProperty("config");
        int v = c.GetProperty("vocab").GetInt32(), e = c.GetProperty("embedding").GetInt32(), h = c.GetProperty("hidden").GetInt32();
        var model = new GruLanguageModel(v, e, h, context: 8);
        var p = root.GetProperty("params");
        Fixtures.Floats(p.GetProperty("wte.weight")).CopyTo(model.Parameters, model.TokenEmbedding.Offset);
        Transpose(Fixtures.Floats(p.GetProperty("gru.weight_ih_l0")), 3 * h, e).CopyTo(model.Parameters, model.InputWeight.Offset);
        Fixtures.Floats(p.GetProperty("gru.bias_ih_l0")).CopyTo(model.Parameters, model.InputBias.Offset);
        Transpose(Fixtures.Floats(p.GetProperty("gru.weight_hh_l0")), 3 * h, h).CopyTo(model.Parameters, model.HiddenWeight.Offset);
        Fixtures.Floats(p.GetProperty("gru.bias_hh_l0")).CopyTo(model.Parameters, model.HiddenBias.Offset);
        Transpose(Fixtures.Floats(p.GetProperty("head.weight")), v, h).CopyTo(model.Parameters, model.OutputWeight.Offset);
        Fixtures.Floats(p.GetProperty("head.bias")).CopyTo(model.Parameters, model.OutputBias.Offset);
        var x = root.GetProperty("x").GetProperty("data").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        var y = root.GetProperty("y").GetProperty("data").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        return (model, x, y, root);
    }

    /// <param name="m">(rows, cols) row-major</param>
    /// <returns>(cols, rows)</returns>
    private static float[] Transpose(float[] m, int rows, int cols)
    {
        var t = new float[m.Length];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) t[j * rows + i] = m[i * cols + j];
        return t;
    }

    /// <summary>Logits, loss and every gradient match PyTorch's nn.GRU (float64 reference; float32 here: 1e-5 absolute
    /// on logits and loss, 1e-5 absolute on gradients, which are O(0.1)).</summary>
    [Fact]
    public void MatchesPyTorch()
    {
        var (model, x, y, root) = FromFixture();
        int b = 2, t = 3, v = model.VocabSize, h = model.Hidden;
        model.ZeroGrad();
        float loss = model.Forward(x, b, t, y);
        Assert.Equal(root.GetProperty("loss").GetDouble(), loss, 1e-5);
        var logits = Fixtures.Doubles(root.GetProperty("logits"));               // (B, T, V)
        for (int bb = 0; bb < b; bb++)
            for (int tt = 0; tt < t; tt++)
            {
                var row = model.LogitsAt(bb, tt);
                for (int k = 0; k < v; k++) Assert.Equal(logits[(bb * t + tt) * v + k], row[k], 1e-5);
            }
        model.Backward();
        var g = root.GetProperty("grads");
        void Check(string name, (int Offset, int Length) range, float[] expected)
        {
            Assert.Equal(expected.Length, range.Length);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(model.Gradients[range.Offset + i] - expected[i]) <= 1e-5, $"{name}[{i}]: {model.Gradients[range.Offset + i]} vs {expected[i]}");
        }
        Check("wte", model.TokenEmbedding, Fixtures.Floats(g.GetProperty("wte.weight")));
        Check("W_ih", model.InputWeight, Transpose(Fixtures.Floats(g.GetProperty("gru.weight_ih_l0")), 3 * h, model.Embedding));
        Check("b_ih", model.InputBias, Fixtures.Floats(g.GetProperty("gru.bias_ih_l0")));
        Check("W_hh", model.HiddenWeight, Transpose(Fixtures.Floats(g.GetProperty("gru.weight_hh_l0")), 3 * h, h));
        Check("b_hh", model.HiddenBias, Fixtures.Floats(g.GetProperty("gru.bias_hh_l0")));
        Check("W_out", model.OutputWeight, Transpose(Fixtures.Floats(g.GetProperty("head.weight")), v, h));
        Check("b_out", model.OutputBias, Fixtures.Floats(g.GetProperty("head.bias")));
    }

    /// <summary>Central differences (float32 forward, h = 1e-2) against the analytic gradient on every parameter of a
    /// small GRU over 6 steps; tolerance 2e-3 absolute + 5% relative covers float32 forward noise.</summary>
    [Fact]
    public void GradientsMatchFiniteDifferences()
    {
        var model = new GruLanguageModel(vocabSize: 9, embedding: 4, hidden: 5, context: 6);
        model.InitializeWeights(3);
        var rnd = new Random(5);
        int b = 2, t = 6;
        var x = Enumerable.Range(0, b * t).Select(_ => rnd.Next(9)).ToArray();
        var y = Enumerable.Range(0, b * t).Select(_ => rnd.Next(9)).ToArray();
        model.ZeroGrad();
        model.Forward(x, b, t, y);
        model.Backward();
        var g = (float[])model.Gradients.Clone();
        var p = model.Parameters;
        Assert.Equal(GruLanguageModel.CountParameters(9, 4, 5), p.Length);
        for (int i = 0; i < p.Length; i++)
        {
            float saved = p[i];
            const float h = 1e-2f;
            p[i] = saved + h; double plus = model.Forward(x, b, t, y);
            p[i] = saved - h; double minus = model.Forward(x, b, t, y);
            p[i] = saved;
            double numeric = (plus - minus) / (2 * h);
            Assert.True(Math.Abs(numeric - g[i]) <= 2e-3 + 0.05 * Math.Abs(numeric), $"parameter {i}: analytic {g[i]:G6}, numeric {numeric:G6}");
        }
    }

    /// <summary>Backward adds to the gradients (ILanguageModel's contract): twice is double.</summary>
    [Fact]
    public void BackwardAccumulates()
    {
        var model = new GruLanguageModel(5, 3, 4, 4);
        model.InitializeWeights(1);
        int[] x = [1, 2, 3, 4], y = [2, 3, 4, 0];
        model.ZeroGrad();
        model.Forward(x, 1, 4, y); model.Backward();
        var once = (float[])model.Gradients.Clone();
        model.Forward(x, 1, 4, y); model.Backward();
        for (int i = 0; i < once.Length; i++) Assert.Equal(2 * once[i], model.Gradients[i], 1e-6);
    }
}
