using AttentionLab.Attention;
using AttentionLab.Tensors;

namespace AttentionLab.Tests.Attention;

/// <summary>
/// Parity with the materials' multi-head causal self-attention in PyTorch (attention_ops.json mha_causal):
/// output, dx and every parameter gradient, with each kernel, through the one stack's attention layer
/// (<see cref="MultiHeadSelfAttention"/>: the fixture's four (out, in) Linear weights mapped into the fused arena).
/// Tolerances: forward 1e-5 relative + 1e-6 absolute (float32 through three GEMMs, softmax, one more GEMM);
/// gradients 1e-4 relative + 1e-5 absolute (the chain is twice as long and sums cancel — e.g. key.bias is
/// exactly 0 in theory and ~1e-16 in the float64 ground truth, so it needs the absolute part).
/// </summary>
public class MultiHeadAttentionFixtureTests
{
    private const double ForwardRtol = 1e-5, ForwardAtol = 1e-6, GradRtol = 1e-4, GradAtol = 1e-5;

    public static TheoryData<string> Kernels() => new(TestData.ExactKernels);

    [Theory]
    [MemberData(nameof(Kernels))]
    public void CausalSelfAttentionMatchesPyTorch(string kernelName)
    {
        var root = Fixtures.Get(Fixtures.Load("attention_ops.json"), "mha_causal");
        int C = root.GetProperty("C").GetInt32(), H = root.GetProperty("H").GetInt32();
        var mha = new MultiHeadSelfAttention(C, H, AttentionOptions.Causal, AttentionKernels.Get(kernelName));
        foreach (var name in mha.ParameterNames)                                        // PyTorch (out, in) → the fused (in, out) arena
            mha.SetParameter(name, Fixtures.Floats(Fixtures.Get(root, "params." + name)));

        var x = Fixtures.Tensor(Fixtures.Get(root, "x"));
        var y = mha.Forward(x);
        Close.Assert(y.Data, Fixtures.Doubles(root.GetProperty("y")), ForwardRtol, ForwardAtol, $"{kernelName} y");

        var dx = mha.Backward(Fixtures.Tensor(Fixtures.Get(root, "dy")));
        Close.Assert(dx.Data, Fixtures.Doubles(root.GetProperty("dx")), GradRtol, GradAtol, $"{kernelName} dx");
        int checkedCount = 0;
        foreach (var name in mha.ParameterNames)
        {
            Close.Assert(mha.Gradient(name).Data, Fixtures.Doubles(Fixtures.Get(root, "grads." + name)), GradRtol, GradAtol, $"{kernelName} grad {name}");
            checkedCount++;
        }
        Assert.Equal(8, checkedCount);
    }

    /// <summary>
    /// The plain module (<see cref="MultiHeadAttention"/>: four Linear layers, split, kernel, merge, as the materials
    /// write it) is the reference the one stack's layer is read against: from the same initial draws they hold the same
    /// parameters, and give the same output, dx and parameter gradients (float32 in another order: 1e-5 + 1e-6).
    /// </summary>
    [Theory]
    [MemberData(nameof(Kernels))]
    public void TheOneStacksLayerEqualsThePlainModule(string kernelName)
    {
        var options = new AttentionOptions { IsCausal = true, KeyPaddingMask = [true, true, true, true, true, true, false, false] };
        var plain = new MultiHeadAttention(12, 3, options, AttentionKernels.Get(kernelName), new Random(5));
        var layer = new MultiHeadSelfAttention(12, 3, options, AttentionKernels.Get(kernelName), new Random(5));
        foreach (var (name, value, _) in plain.NamedParameters())
            Assert.Equal(value.Data, layer.Parameter(name).Data);                                 // the same draws, in the same order

        var random = new Random(6);
        var x = new Tensor(TestData.Normal(random, 2 * 4 * 12), 2, 4, 12);
        var dy = new Tensor(TestData.Normal(random, 2 * 4 * 12), 2, 4, 12);
        Close.Assert(layer.Forward(x).Data, plain.Forward(x).Data, ForwardRtol, ForwardAtol, $"{kernelName} y");
        Close.Assert(layer.Backward(dy).Data, plain.Backward(dy).Data, ForwardRtol, ForwardAtol, $"{kernelName} dx");
        foreach (var (name, _, grad) in plain.NamedParameters())
            Close.Assert(layer.Gradient(name).Data, grad.Data, ForwardRtol, ForwardAtol, $"{kernelName} grad {name}");
    }

    [Fact]
    public void ParametersAreReachableByPyTorchName()
    {
        var mha = new MultiHeadAttention(8, 2);
        Assert.Equal(["query.weight", "query.bias", "key.weight", "key.bias", "value.weight", "value.bias", "out.weight", "out.bias"],
            mha.NamedParameters().Select(p => p.Name));
        Assert.Same(mha.Key.Bias, mha.Parameter("key.bias"));
        Assert.Same(mha.Out.WeightGrad, mha.Gradient("out.weight"));
        Assert.Throws<ArgumentException>(() => mha.Parameter("proj.weight"));
        Assert.Throws<ArgumentException>(() => new MultiHeadAttention(8, 3));
    }

    [Fact]
    public void SplitAndMergeHeadsAreViewTransposeAndItsInverse()
    {
        var x = new Tensor(2, 3, 8);
        for (int i = 0; i < x.Length; i++) x.Data[i] = i;
        var split = MultiHeadAttention.SplitHeads(x, 2);
        Assert.Equal(x.View(2, 3, 2, 4).Transpose(1, 2).Data, split.Data);  // (B, H, T, D)
        Assert.Equal([2, 2, 3, 4], split.Shape);
        Assert.Equal(x.Data, MultiHeadAttention.MergeHeads(split).Data);
    }
    [Fact]
    public void TheOneStacksLayerIsReachableByPyTorchName()
    {
        var mha = new MultiHeadSelfAttention(8, 2);
        Assert.Equal(["query.weight", "query.bias", "key.weight", "key.bias", "value.weight", "value.bias", "out.weight", "out.bias"],
            mha.ParameterNames);
        var bias = Enumerable.Range(0, 8).Select(i => (float)i).ToArray();
        mha.SetParameter("key.bias", bias);
        Assert.Equal(bias, mha.Parameter("key.bias").Data);
        Assert.Equal(bias, mha.Parameters[mha.Layout.AttentionBias!].Slice(8, 8).ToArray());          // [b_q | b_k | b_v]
        var w = Enumerable.Range(0, 64).Select(i => (float)i).ToArray();                               // (out, in)
        mha.SetParameter("value.weight", w);
        Assert.Equal(w, mha.Parameter("value.weight").Data);
        Assert.Equal(w[1 * 8 + 3], mha.Parameters[mha.Layout.AttentionWeight][3 * 24 + 16 + 1]);     // W_v[1, 3] at (in 3, column 2C + 1)
        Assert.Equal([8, 8], mha.Gradient("out.weight").Shape);
        Assert.Throws<ArgumentException>(() => mha.Parameter("proj.weight"));
        Assert.Throws<ArgumentException>(() => mha.SetParameter("out.bias", new float[7]));
        Assert.Throws<ArgumentException>(() => new MultiHeadSelfAttention(8, 3));
    }

    [Fact]
    public void AttentionHeadsSplitAndMergeAreViewTransposeAndItsInverse()
    {
        var x = new Tensor(2, 3, 8);
        for (int i = 0; i < x.Length; i++) x.Data[i] = i;
        var split = new float[x.Length];
        AttentionLab.Layers.AttentionHeads.Split(x.Data, 2, 3, 2, 4, split);
        Assert.Equal(x.View(2, 3, 2, 4).Transpose(1, 2).Data, split);                                // (B, H, T, D)
        var merged = new float[x.Length];
        AttentionLab.Layers.AttentionHeads.Merge(split, 2, 3, 2, 4, merged);
        Assert.Equal(x.Data, merged);
    }
}
