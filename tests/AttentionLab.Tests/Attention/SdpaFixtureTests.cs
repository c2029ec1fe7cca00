using AttentionLab.Attention;

namespace AttentionLab.Tests.Attention;

/// <summary>
/// Parity with PyTorch's <c>F.scaled_dot_product_attention</c> (attention_ops.json, float64 ground truth) for
/// every registered kernel: output, weights and the gradients of q, k, v.
/// Tolerances: forward 1e-5 relative + 1e-6 absolute — float32 inputs through a few dozen multiply-adds and
/// one exp lose a few ulps (~1e-7 each); gradients 1e-4 relative + 1e-5 absolute — they chain two more
/// products and a subtraction (dP − rowsum) that cancels, so relative error grows on small entries.
/// </summary>
public class SdpaFixtureTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var kernel in TestData.ExactKernels)
            foreach (var c in new[] { "self", "causal", "cross", "padding" })
                data.Add(kernel, c);
        return data;
    }

    private const double ForwardRtol = 1e-5, ForwardAtol = 1e-6, GradRtol = 1e-4, GradAtol = 1e-5;

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string kernelName, string caseName)
    {
        var kernel = AttentionKernels.Get(kernelName);
        var root = Fixtures.Get(Fixtures.Load("attention_ops.json"), "sdpa." + caseName);
        int B = root.GetProperty("B").GetInt32(), H = root.GetProperty("H").GetInt32();
        int Tq = root.GetProperty("Tq").GetInt32(), Tk = root.GetProperty("Tk").GetInt32(), D = root.GetProperty("D").GetInt32();
        var shape = new AttentionShape(B, H, Tq, Tk, D);
        var options = new AttentionOptions
        {
            IsCausal = root.GetProperty("causal").GetBoolean(),
            KeyPaddingMask = root.TryGetProperty("key_padding_mask", out var pad)
                ? AttentionOptions.KeyPaddingFrom(Fixtures.Floats(pad)) : null,
        };
        var q = Fixtures.Floats(root.GetProperty("q"));
        var k = Fixtures.Floats(root.GetProperty("k"));
        var v = Fixtures.Floats(root.GetProperty("v"));

        var output = new float[shape.QueryElements];
        var weights = new float[shape.WeightElements];
        var saved = new float[kernel.SavedLength(shape)];
        kernel.Forward(q, k, v, shape, options, output, saved);
        kernel.Weights(q, k, v, shape, options, weights);
        Close.Assert(output, Fixtures.Doubles(root.GetProperty("o")), ForwardRtol, ForwardAtol, $"{kernelName} {caseName} o");
        Close.Assert(weights, Fixtures.Doubles(root.GetProperty("weights")), ForwardRtol, ForwardAtol, $"{kernelName} {caseName} weights");

        var dq = new float[shape.QueryElements];
        var dk = new float[shape.KeyElements];
        var dv = new float[shape.KeyElements];
        kernel.Backward(q, k, v, output, saved, Fixtures.Floats(root.GetProperty("do")), shape, options, dq, dk, dv);
        Close.Assert(dq, Fixtures.Doubles(root.GetProperty("dq")), GradRtol, GradAtol, $"{kernelName} {caseName} dq");
        Close.Assert(dk, Fixtures.Doubles(root.GetProperty("dk")), GradRtol, GradAtol, $"{kernelName} {caseName} dk");
        Close.Assert(dv, Fixtures.Doubles(root.GetProperty("dv")), GradRtol, GradAtol, $"{kernelName} {caseName} dv");

        // Backward without the weights recomputes them and must give the same gradients.
        var dq2 = new float[shape.QueryElements];
        var dk2 = new float[shape.KeyElements];
        var dv2 = new float[shape.KeyElements];
        kernel.Backward(q, k, v, output, default, Fixtures.Floats(root.GetProperty("do")), shape, options, dq2, dk2, dv2);
        Assert.Equal(dq, dq2);
        Assert.Equal(dk, dk2);
        Assert.Equal(dv, dv2);
    }

    [Fact]
    public void UnknownKernelNameListsTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => AttentionKernels.Get("flashy"));
        Assert.Contains("flashy", e.Message);
        foreach (var name in AttentionKernels.Names) Assert.Contains(name, e.Message);
        Assert.Same(AttentionKernels.Fast, AttentionKernels.Default);
        Assert.Same(AttentionKernels.Reference, AttentionKernels.Get("REFERENCE"));
        Assert.Equal(["naive", "fast"], AttentionKernels.Names.Take(2));
    }
}
