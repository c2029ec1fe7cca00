using AttentionLab.Attention;
using AttentionLab.Inspection;
using AttentionLab.Tensors;

namespace AttentionLab.Tests.Inspection;

/// <summary>
/// <see cref="MultiHeadTrace"/> against a hand-worked example and against the library's
/// <see cref="MultiHeadSelfAttention"/> (the one stack's attention layer, which is PyTorch-parity tested). The trace runs in double: 1e-12 for exact
/// arithmetic, 1e-5 against the float32 layer.
/// </summary>
public class MultiHeadTraceTests
{
    private static readonly double[,] Identity = { { 1, 0 }, { 0, 1 } };

    [Fact]
    public void HandExample_TwoHeadsOfOneChannel()
    {
        // X = W = I (C = 2, H = 2, D = 1), so Q = K = V = X and head h sees only channel h.
        // head 0: scores [[1, 0], [0, 0]] (scale 1/√1): row 1 softmax([1, 0]) = [e, 1]/(e + 1), row 2 [½, ½];
        //         output = weights·[1, 0]ᵀ = [e/(e+1), ½]. Head 1 is the mirror image: [½, e/(e+1)].
        var t = MultiHeadTrace.Compute(Identity, Identity, Identity, Identity, Identity, heads: 2);
        double a = Math.E / (Math.E + 1);                                              // 0.7311
        Assert.Equal(1, t.HeadDim);
        AttentionTraceTests.AssertMatrix(new double[,] { { 1, 0 }, { 0, 0 } }, t.HeadTraces[0].Scores, 1e-12, "head 0 scores");
        AttentionTraceTests.AssertMatrix(new double[,] { { a, 1 - a }, { 0.5, 0.5 } }, t.HeadTraces[0].Weights, 1e-12, "head 0 weights");
        AttentionTraceTests.AssertMatrix(new double[,] { { a, 0.5 }, { 0.5, a } }, t.Concat, 1e-12, "concat");
        AttentionTraceTests.AssertMatrix(t.Concat, t.Output, 1e-12, "W_O = I");
        Assert.True(t.IdentityError < 1e-12);
    }

    [Fact]
    public void ConcatTimesWOIsTheSumOfPerHeadContributions()
    {
        var (x, wq, wk, wv, wo) = MultiHeadTrace.RandomInputs(5, 12, seed: 7);
        var t = MultiHeadTrace.Compute(x, wq, wk, wv, wo, heads: 3, isCausal: true);
        Assert.Equal(3, t.WOBlocks.Length);
        Assert.Equal([4, 12], new[] { t.WOBlocks[0].GetLength(0), t.WOBlocks[0].GetLength(1) });
        Assert.Equal(wo[4, 0], t.WOBlocks[1][0, 0]);                                   // block 1 starts at row D = 4
        AttentionTraceTests.AssertMatrix(t.Output, t.ContributionSum, 1e-12, "Σ_h head_h·W_O[h]");
        Assert.InRange(t.IdentityError, 0, 1e-12);
    }

    [Fact]
    public void AgreesWithTheLibrarysMultiHeadAttention()
    {
        var (x, wq, wk, wv, wo) = MultiHeadTrace.RandomInputs(4, 6, seed: 11);
        var t = MultiHeadTrace.Compute(x, wq, wk, wv, wo, heads: 2, isCausal: true);

        // nn.Linear stores W (out, in) and computes x·Wᵀ + b: give it Wᵀ and zero bias to compute X·W
        var layer = new MultiHeadSelfAttention(6, 2, AttentionOptions.Causal);
        foreach (var (name, w) in new[] { ("query", wq), ("key", wk), ("value", wv), ("out", wo) })
        {
            var weight = new float[36];                                                 // (out, in) = Wᵀ
            for (int o = 0; o < 6; o++)
                for (int i = 0; i < 6; i++) weight[o * 6 + i] = (float)w[i, o];
            layer.SetParameter(name + ".weight", weight);
            layer.SetParameter(name + ".bias", new float[6]);
        }
        var input = new Tensor(1, 4, 6);
        for (int i = 0; i < 4; i++)
            for (int c = 0; c < 6; c++) input[0, i, c] = (float)x[i, c];
        var (recorder, cache) = AttentionLab.Hooks.ActivationCache.Recorder(n => n is "blocks.0.attn.hook_z" or "blocks.0.attn.hook_pattern");
        var y = layer.Forward(input, new AttentionLab.Models.ForwardOptions { Hooks = recorder }); // (1, 4, 6)
        Close.Assert(y.Data, Flat(t.Output), 1e-5, 1e-5, "output");
        Close.Assert(cache["blocks.0.attn.hook_z"].Data, Flat(t.Concat), 1e-5, 1e-5, "concat");
        var weights = cache["blocks.0.attn.hook_pattern"];                              // (1, 2, 4, 4)
        Close.Assert(weights.Data.AsSpan(0, 16), Flat(t.HeadTraces[0].Weights), 1e-5, 1e-6, "head 0 weights");
        Close.Assert(weights.Data.AsSpan(16, 16), Flat(t.HeadTraces[1].Weights), 1e-5, 1e-6, "head 1 weights");
    }

    [Fact]
    public void RandomInputsAreReproducibleAndRoundedToOneDecimal()
    {
        var a = MultiHeadTrace.RandomInputs(3, 4, seed: 1);
        var b = MultiHeadTrace.RandomInputs(3, 4, seed: 1);
        Assert.Equal(a.X, b.X);
        Assert.Equal(a.WO, b.WO);
        foreach (var v in a.X) Assert.Equal(Math.Round(v, 1), v);
        foreach (var v in a.WQ) Assert.InRange(v, -1, 1);
    }

    [Fact]
    public void BadShapesAreArgumentErrors()
    {
        var x = new double[3, 4];
        var w = new double[4, 4];
        Assert.Contains("divide", Assert.Throws<ArgumentException>(() => MultiHeadTrace.Compute(x, w, w, w, w, heads: 3)).Message);
        Assert.Contains("W_K", Assert.Throws<ArgumentException>(() => MultiHeadTrace.Compute(x, w, new double[4, 3], w, w, heads: 2)).Message);
    }

    private static double[] Flat(double[,] m) => m.Cast<double>().ToArray();
}
