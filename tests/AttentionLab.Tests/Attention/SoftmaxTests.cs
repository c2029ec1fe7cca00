using AttentionLab.Ops;

namespace AttentionLab.Tests.Attention;

/// <summary>
/// Row softmax: the TensorPrimitives path against the plain loops for every row length 0..257 (every SIMD
/// remainder), large inputs that would overflow exp without the max shift, and −∞ entries.
/// Tolerance 1e-6 relative + 1e-7 absolute: a float exp and one division per element.
/// </summary>
[Trait("Category", "Simd")]
public class SoftmaxTests
{
    [Fact]
    public void FastMatchesReferenceForEveryLength()
    {
        var random = new Random(2);
        for (int cols = 0; cols <= 257; cols++)
        {
            const int rows = 2;
            var x = TestData.Normal(random, rows * cols, 3);
            if (cols > 2) x[1] = float.NegativeInfinity;
            var g = TestData.Normal(random, rows * cols);
            var y = new float[rows * cols];
            var yReference = new float[rows * cols];
            Softmax.Forward(x, y, rows, cols);
            Softmax.ForwardReference(x, yReference, rows, cols);
            Close.Assert(y, yReference, 1e-6, 1e-7, $"forward, {cols} columns");
            var dx = new float[rows * cols];
            var dxReference = new float[rows * cols];
            Softmax.Backward(y, g, dx, rows, cols);
            Softmax.BackwardReference(yReference, g, dxReference, rows, cols);
            Close.Assert(dx, dxReference, 1e-5, 1e-6, $"backward, {cols} columns");
        }
    }

    [Fact]
    public void LargeScoresDoNotOverflow()
    {
        float[] x = [1000, 1001, 1002, -1000];
        var y = new float[4];
        Softmax.Forward(x, y, 1, 4);
        // shift-invariance: the same as softmax([0, 1, 2, −2000])
        double z = 1 + Math.E + Math.E * Math.E;
        Close.Assert(y, new[] { 1 / z, Math.E / z, Math.E * Math.E / z, 0 }, 1e-6, 1e-7, "shifted");
    }

    [Fact]
    public void AllNegativeInfinityRowIsZeros()
    {
        float[] x = [float.NegativeInfinity, float.NegativeInfinity, 1, float.NegativeInfinity];
        var y = new float[4];
        var yReference = new float[4];
        Softmax.Forward(x, y, 2, 2);
        Softmax.ForwardReference(x, yReference, 2, 2);
        Assert.Equal([0f, 0f, 1f, 0f], y);
        Assert.Equal(y, yReference);
        var dx = new float[4];
        Softmax.Backward(y, [1, 2, 3, 4], dx, 2, 2);
        Assert.Equal([0f, 0f, 0f, 0f], dx);
    }

    [Fact]
    public void InPlaceIsAllowed()
    {
        float[] x = [1, 2, 3, 4, 5, 6];
        var expected = new float[6];
        Softmax.ForwardReference(x, expected, 2, 3);
        Softmax.Forward(x, x, 2, 3);
        Close.Assert(x, expected, 1e-6, 1e-7, "in place");
    }
}
