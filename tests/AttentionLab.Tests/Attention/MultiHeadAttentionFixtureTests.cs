using AttentionLab.Attention;
using AttentionLab.Tensors;

namespace AttentionLab.Tests.Attention;

/// <summary>
/// Parity with the materials' multi-head causal self-attention in PyTorch (attention_ops.json mha_causal):
/// output, dx and every parameter gradient, with each kernel.
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
        var mha = new MultiHeadAttention(C, H, AttentionOptions.Causal, AttentionKernels.Get(kernelName));
        foreach (var (name, value, _) in mha.NamedParameters())
            Fixtures.Floats(Fixtures.Get(root, "params." + name)).CopyTo(value.Data, 0);

        var x = Fixtures.Tensor(Fixtures.Get(root, "x"));
        var y = mha.Forward(x);
        Close.Assert(y.Data, Fixtures.Doubles(root.GetProperty("y")), ForwardRtol, ForwardAtol, $"{kernelName} y");

        var dx = mha.Backward(Fixtures.Tensor(Fixtures.Get(root, "dy")));
        Close.Assert(dx.Data, Fixtures.Doubles(root.GetProperty("dx")), GradRtol, GradAtol, $"{kernelName} dx");
        int checkedCount = 0;
        foreach (var (name, _, grad) in mha.NamedParameters())
        {
            Close.Assert(grad.Data, Fixtures.Doubles(Fixtures.Get(root, "grads." + name)), GradRtol, GradAtol, $"{kernelName} grad {name}");
            checkedCount++;
        }
        Assert.Equal(8, checkedCount);
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
}
