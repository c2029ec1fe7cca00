using AttentionLab.Attention;
using AttentionLab.Ops;
using AttentionLab.Tensors;

namespace AttentionLab.Tests.Attention;

/// <summary>
/// Finite-difference checks of every backward pass: attention (both kernels, with a combination of masks),
/// softmax, Linear, and multi-head attention (self and cross). The loss is always L = Σ output ⊙ G for a
/// fixed random G, so dL/d(output) = G; the step and tolerance are justified in <see cref="TestData.GradCheck"/>.
/// </summary>
public class GradientCheckTests
{
    public static TheoryData<string> Kernels() => new(TestData.ExactKernels);

    [Theory]
    [MemberData(nameof(Kernels))]
    public void AttentionBackwardWithCombinedMasks(string kernelName)
    {
        var kernel = AttentionKernels.Get(kernelName);
        // Tq < Tk (bottom-right causal), window, key padding, a boolean mask, an additive mask, a custom scale;
        // the boolean mask empties query row 0 of batch 1 so a fully masked row is in the check too.
        var shape = new AttentionShape(2, 2, 3, 5, 3);
        var random = new Random(21);
        var allowed = Enumerable.Repeat(true, 2 * 3 * 5).ToArray();
        // batch 1, query 0 (key position 2): causal + window leave keys 0..2, padding removes key 1,
        // the boolean mask removes keys 0 and 2 — nothing is left
        allowed[1 * 15 + 0 * 5 + 0] = false;
        allowed[1 * 15 + 0 * 5 + 2] = false;
        var options = new AttentionOptions
        {
            IsCausal = true,
            Window = new SlidingWindow(2),
            KeyPaddingMask = [true, true, true, true, true, true, false, true, true, true],
            BooleanMask = AttentionMask.FromBoolean(allowed, 2, 1, 3, 5),
            AdditiveMask = AttentionMask.FromAdditive(TestData.Normal(random, 2 * 3 * 5, 0.5), 1, 2, 3, 5),
            Scale = 0.7f,
        };
        var q = TestData.Normal(random, shape.QueryElements);
        var k = TestData.Normal(random, shape.KeyElements);
        var v = TestData.Normal(random, shape.KeyElements);
        var g = TestData.Normal(random, shape.QueryElements);
        var r = TestData.Run(kernel, q, k, v, g, shape, options);
        Assert.Contains(Enumerable.Range(0, 12), row => r.Weights.AsSpan(row * 5, 5).ToArray().All(w => w == 0)); // a fully masked row

        var output = new float[shape.QueryElements];
        double Loss()
        {
            kernel.Forward(q, k, v, shape, options, output, default);
            return TestData.Dot(output, g);
        }
        TestData.GradCheck(q, r.Dq, Loss, "dq");
        TestData.GradCheck(k, r.Dk, Loss, "dk");
        TestData.GradCheck(v, r.Dv, Loss, "dv");
    }

    [Fact]
    public void SoftmaxBackward()
    {
        const int rows = 3, cols = 7;
        var random = new Random(3);
        var x = TestData.Normal(random, rows * cols, 2);
        var g = TestData.Normal(random, rows * cols);
        var y = new float[rows * cols];
        Softmax.Forward(x, y, rows, cols);
        var dx = new float[rows * cols];
        var dxReference = new float[rows * cols];
        Softmax.Backward(y, g, dx, rows, cols);
        Softmax.BackwardReference(y, g, dxReference, rows, cols);
        Close.Assert(dx, dxReference, 1e-5, 1e-6, "fast vs reference");
        var scratch = new float[rows * cols];
        TestData.GradCheck(x, dx, () => { Softmax.Forward(x, scratch, rows, cols); return TestData.Dot(scratch, g); }, "softmax dx");
    }

    [Fact]
    public void LinearBackward()
    {
        const int rows = 4, inF = 5, outF = 3;
        var random = new Random(4);
        var x = TestData.Normal(random, rows * inF);
        var w = TestData.Normal(random, outF * inF);
        var b = TestData.Normal(random, outF);
        var g = TestData.Normal(random, rows * outF);
        var dx = new float[rows * inF];
        var dw = new float[outF * inF];
        var db = new float[outF];
        Linear.Backward(x, w, g, dx, dw, db, rows, inF, outF, accumulate: false);
        var y = new float[rows * outF];
        double Loss() { Linear.Forward(x, w, b, y, rows, inF, outF); return TestData.Dot(y, g); }
        // L is linear in each input, so the central difference has no truncation error at all
        TestData.GradCheck(x, dx, Loss, "dx");
        TestData.GradCheck(w, dw, Loss, "dW");
        TestData.GradCheck(b, db, Loss, "db");

        // accumulate adds to what is there; overwrite ignores it
        var dx2 = Enumerable.Repeat(1f, rows * inF).ToArray();
        var dw2 = Enumerable.Repeat(1f, outF * inF).ToArray();
        var db2 = Enumerable.Repeat(1f, outF).ToArray();
        Linear.Backward(x, w, g, dx2, dw2, db2, rows, inF, outF, accumulate: true);
        Close.Assert(dx2, dx.Select(d => d + 1f).ToArray(), 1e-6, 1e-6, "accumulated dx");
        Close.Assert(dw2, dw.Select(d => d + 1f).ToArray(), 1e-6, 1e-6, "accumulated dW");
        Close.Assert(db2, db.Select(d => d + 1f).ToArray(), 1e-6, 1e-6, "accumulated db");
        Linear.Backward(x, w, g, dx2, dw2, db2, rows, inF, outF, accumulate: false);
        Assert.Equal(dx, dx2);
        Assert.Equal(dw, dw2);
        Assert.Equal(db, db2);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void MultiHeadSelfAttentionBackward(string kernelName)
    {
        var random = new Random(8);
        // the one stack's attention layer (fused qkv arena), the parameters perturbed by their PyTorch names
        var mha = new MultiHeadSelfAttention(6, 2, AttentionOptions.Causal, AttentionKernels.Get(kernelName), random);
        var x = new Tensor(TestData.Normal(random, 2 * 3 * 6), 2, 3, 6);
        var g = new Tensor(TestData.Normal(random, 2 * 3 * 6), 2, 3, 6);
        mha.Forward(x);
        var dx = mha.Backward(g);
        double Loss() => TestData.Dot(mha.Forward(x).Data, g.Data);
        TestData.GradCheck(x.Data, dx.Data, Loss, "dx");
        foreach (var name in mha.ParameterNames)
        {
            var value = mha.Parameter(name).Data;
            double LossAt()
            {
                mha.SetParameter(name, value);
                return Loss();
            }
            TestData.GradCheck(value, mha.Gradient(name).Data, LossAt, name);
            mha.SetParameter(name, value);
        }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void MultiHeadCrossAttentionBackward(string kernelName)
    {
        var random = new Random(9);
        // queries from x (B, 2, C), keys/values from y (B, 4, C) with the last key of batch 1 padded
        var options = new AttentionOptions { KeyPaddingMask = [true, true, true, true, true, true, true, false] };
        var mha = new MultiHeadAttention(6, 3, options, AttentionKernels.Get(kernelName), random);
        var x = new Tensor(TestData.Normal(random, 2 * 2 * 6), 2, 2, 6);
        var y = new Tensor(TestData.Normal(random, 2 * 4 * 6), 2, 4, 6);
        var g = new Tensor(TestData.Normal(random, 2 * 2 * 6), 2, 2, 6);
        mha.Forward(x, y);
        var dx = mha.Backward(g, out var dy);
        Assert.NotNull(dy);
        Assert.Equal([2, 4, 6], dy.Shape);
        double Loss() => TestData.Dot(mha.Forward(x, y).Data, g.Data);
        TestData.GradCheck(x.Data, dx.Data, Loss, "dx");
        TestData.GradCheck(y.Data, dy.Data, Loss, "dy");
        // the padded key (batch 1, position 3) must receive no gradient
        Assert.All(dy.Data.AsSpan((1 * 4 + 3) * 6, 6).ToArray(), d => Assert.Equal(0f, d));
        foreach (var (name, value, grad) in mha.NamedParameters())
            TestData.GradCheck(value.Data, grad.Data, Loss, name);
    }
}
