using AttentionLab.Attention;

namespace AttentionLab.Tests.Attention;

/// <summary>
/// The pen-and-paper exercises, Parts 2–3 (seed 004): 1 batch, 1 head, 3 tokens, head_dim 2,
/// Q = K = [[1,0],[0,1],[1,1]], V = [[1,2],[3,4],[5,6]]. The numbers a learner gets by hand must come out.
/// Tolerance 1e-6: float32 of values near 1 after one exp (the hand values are given to ~7 digits).
/// </summary>
public class PenAndPaperTests
{
    private static readonly float[] Q = [1, 0, 0, 1, 1, 1];
    private static readonly float[] K = Q;
    private static readonly float[] V = [1, 2, 3, 4, 5, 6];
    private static readonly AttentionShape Shape = new(1, 1, 3, 3, 2);

    public static TheoryData<string> Kernels() => new(TestData.ExactKernels);

    private static (float[] Output, float[] Weights) Run(string kernel, AttentionOptions options)
    {
        var output = new float[Shape.QueryElements];
        var weights = new float[Shape.WeightElements];
        AttentionKernels.Get(kernel).Forward(Q, K, V, Shape, options, output, default);
        AttentionKernels.Get(kernel).Weights(Q, K, V, Shape, options, weights);
        return (output, weights);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Q6ToQ9_ScaledScoresSoftmaxAndContext(string kernel)
    {
        // Q6: scores = Q·Kᵀ = [[1,0,1],[0,1,1],[1,1,2]]; Q7: divided by √head_dim = √2 ≈ 1.4142
        double[,] scaled = { { 1 / Math.Sqrt(2), 0, 1 / Math.Sqrt(2) }, { 0, 1 / Math.Sqrt(2), 1 / Math.Sqrt(2) }, { 1 / Math.Sqrt(2), 1 / Math.Sqrt(2), 2 / Math.Sqrt(2) } };
        Assert.Equal(0.7071068, scaled[0, 0], 6);
        var expected = new double[9];
        for (int i = 0; i < 3; i++)
        {
            double sum = 0;
            for (int j = 0; j < 3; j++) sum += Math.Exp(scaled[i, j]);
            for (int j = 0; j < 3; j++) expected[i * 3 + j] = Math.Exp(scaled[i, j]) / sum;
        }
        // Q8: row 1 = [e^0.7071, e^0, e^0.7071] / (2·2.0281 + 1) = [0.4011, 0.1978, 0.4011]
        Close.Assert(expected.AsSpan(0, 3).ToArray().Select(x => (float)x).ToArray(), new[] { 0.4011121, 0.1977758, 0.4011121 }, 0, 1e-6, "hand row 1");

        var (output, weights) = Run(kernel, AttentionOptions.Default);
        Close.Assert(weights, expected, 1e-6, 1e-6, "weights");
        // Q9: context of token 1 = 0.4011·[1,2] + 0.1978·[3,4] + 0.4011·[5,6] = [3, 4] — the symmetric weights average V to its middle row
        Close.Assert(output.AsSpan(0, 2), new[] { 3.0, 4.0 }, 1e-6, 1e-6, "context of token 1");
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Q10ToQ13_CausalMask(string kernel)
    {
        var (output, weights) = Run(kernel, AttentionOptions.Causal);
        // Q11–Q12: row 1 keeps only itself: [0.7071, −∞, −∞] → [1, 0, 0], so its context is V[0] = [1, 2]
        Close.Assert(weights.AsSpan(0, 3), new[] { 1.0, 0, 0 }, 0, 1e-7, "causal row 1");
        Close.Assert(output.AsSpan(0, 2), new[] { 1.0, 2.0 }, 1e-6, 1e-6, "causal context of token 1");
        // Q13: row 2 = softmax([0, 0.7071, −∞]) = [1, 2.0281] / 3.0281 = [0.3302, 0.6698, 0]: 0% to token 3
        Close.Assert(weights.AsSpan(3, 3), new[] { 0.3302385, 0.6697615, 0 }, 1e-6, 1e-7, "causal row 2");
        Assert.Equal(0f, weights[5]);
        // row 3 sees everything, as without the mask
        var (_, unmasked) = Run(kernel, AttentionOptions.Default);
        Close.Assert(weights.AsSpan(6, 3), unmasked.AsSpan(6, 3).ToArray(), 1e-6, 1e-7, "causal row 3");
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void NoScaleUsesRawScores(string kernel)
    {
        // --no-scale: softmax([1, 0, 1]) = [e, 1, e] / (2e + 1)
        var (_, weights) = Run(kernel, new AttentionOptions { Scale = 1 });
        double e = Math.E;
        Close.Assert(weights.AsSpan(0, 3), new[] { e / (2 * e + 1), 1 / (2 * e + 1), e / (2 * e + 1) }, 1e-6, 1e-7, "unscaled row 1");
        // any other scale: 3 × the scores
        var (_, tripled) = Run(kernel, new AttentionOptions { Scale = 3 });
        double e3 = Math.Exp(3);
        Close.Assert(tripled.AsSpan(0, 3), new[] { e3 / (2 * e3 + 1), 1 / (2 * e3 + 1), e3 / (2 * e3 + 1) }, 1e-6, 1e-7, "scale 3 row 1");
    }
}

public class TensorCallTests
{
    [Fact]
    public void TwoDimensionalTensorsAreOneHead()
    {
        var q = new AttentionLab.Tensors.Tensor([1, 0, 0, 1, 1, 1], 3, 2);
        var v = new AttentionLab.Tensors.Tensor([1, 2, 3, 4, 5, 6], 3, 2);
        var (output, weights) = AttentionKernels.Default.Forward(q, q, v, AttentionOptions.Causal);
        Assert.Equal([3, 2], output.Shape);
        Assert.Equal([3, 3], weights.Shape);
        Close.Assert(output.Data.AsSpan(0, 2), new[] { 1.0, 2.0 }, 1e-6, 1e-6, "token 1 sees only itself");
        Assert.Throws<ArgumentException>(() => AttentionKernels.Default.Forward(q, new AttentionLab.Tensors.Tensor(3, 3), v));
    }
}
