using AttentionLab.Training;
using static AttentionLab.Tests.Ops.OpsTestUtil;

namespace AttentionLab.Tests.Ops;

public class AdamWTests
{
    /// <summary>PyTorch's first step moves every parameter by lr·sign(g) (m̂/√v̂ = g/|g|), minus decay.</summary>
    [Fact]
    public void FirstStepIsLearningRateTimesSign()
    {
        float[] p = [1f, -2f, 0.5f]; float[] g = [0.3f, -4f, 1e-3f];
        var opt = new AdamW(3, new AdamWOptions { LearningRate = 0.1f, WeightDecay = 0.01f });
        opt.Step(p, g);
        double decay = 1 - 0.1 * 0.01;
        Assert.Equal(1 * decay - 0.1, p[0], 5);
        Assert.Equal(-2 * decay + 0.1, p[1], 5);
        Assert.Equal(0.5 * decay - 0.1 * 1e-3 / (1e-3 + 1e-8), p[2], 5);
    }

    [Theory]
    [Trait("Category", "Simd")]
    [MemberData(nameof(SimdLengths), MemberType = typeof(OpsTestUtil))]
    public void FastMatchesReferenceOverSeveralSteps(int n)
    {
        var p1 = Random(n, n, 2); var p2 = (float[])p1.Clone();
        var options = new AdamWOptions { LearningRate = 3e-3f, WeightDecay = 0.1f };
        // decay only the first half, as a model decays only its matrices
        var ranges = new[] { (0, n / 2) };
        var a = new AdamW(n, options, ranges); var b = new AdamW(n, options, ranges);
        for (int step = 0; step < 4; step++)
        {
            var g = Random(n, 100 + step);
            a.StepReference(p1, g); b.Step(p2, g);
        }
        Close.Assert(p2, p1, 1e-5, 1e-6, "parameters");
    }

    [Theory]
    [InlineData(37)]
    [InlineData(200_003)] // big enough to be split over the cores
    public void ClearingGradientsInTheStepChangesNothingElse(int n)
    {
        var p1 = Random(n, 1); var p2 = (float[])p1.Clone();
        var g1 = Random(n, 2); var g2 = (float[])g1.Clone();
        var a = new AdamW(n); var b = new AdamW(n);
        a.Step(p1, g1); b.Step(p2, g2, clearGradients: true);
        Assert.Equal(p1, p2);
        Assert.All(g2, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void RestoringStateResumesExactly()
    {
        int n = 50;
        var p1 = Random(n, 1); var a = new AdamW(n);
        a.Step(p1, Random(n, 2)); a.Step(p1, Random(n, 3));
        var p2 = (float[])p1.Clone();
        var b = new AdamW(n);
        b.Restore(a.FirstMoment.Span, a.SecondMoment.Span, a.StepCount);
        var g = Random(n, 4);
        a.Step(p1, g); b.Step(p2, g);
        Assert.Equal(p1, p2);
        Assert.Equal(3, b.StepCount);
        Assert.Throws<ArgumentException>(() => b.Restore(new float[3], new float[3], 1));
    }

    [Fact]
    public void ClipGradientNormScalesToMaxNorm()
    {
        float[] g = [3f, 4f];
        float norm = AdamW.ClipGradientNorm(g, 1f);
        Assert.Equal(5f, norm, 5);
        Assert.Equal(0.6f, g[0], 4);
        Assert.Equal(0.8f, g[1], 4);
        float[] small = [0.3f, 0.4f];
        AdamW.ClipGradientNorm(small, 1f);
        Assert.Equal(0.3f, small[0]);
    }
}
