using System.Text.Json;
using AttentionLab.Attention;

namespace AttentionLab.Tests.Attention;

/// <summary>
/// The variants against PyTorch (fixtures/variant_attention.json, made by fixtures/make_variant_fixtures.py in float64):
/// union masks (window OR global tokens, causal OR prefix) through every exact kernel and, where the case names one,
/// the window kernel; Performer FAVOR+ with the fixture's exact projection W, bidirectional, causal and causal decode.
/// Tolerances (float32 against float64): outputs 1e-5 relative + 1e-6 absolute, gradients 1e-4 relative + 1e-5
/// absolute, the same as the sdpa fixtures; Performer's exp features carry one more float32 rounding each, still
/// inside these bounds.
/// </summary>
public class VariantFixtureTests
{
    private const string File = "variant_attention.json";
    private const double ForwardRtol = 1e-5, ForwardAtol = 1e-6, GradRtol = 1e-4, GradAtol = 1e-5;

    public static TheoryData<string, string> UnionCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var c in new[] { "window_global", "causal_window_global_decode", "prefix", "longformer", "sliding_causal" })
        {
            foreach (var kernel in TestData.ExactKernels) data.Add(c, kernel);
            data.Add(c, "kernel-from-case");
        }
        return data;
    }

    private static AttentionShape Shape(JsonElement c) => new(c.GetProperty("B").GetInt32(), c.GetProperty("H").GetInt32(),
        c.GetProperty("Tq").GetInt32(), c.GetProperty("Tk").GetInt32(), c.GetProperty("D").GetInt32());

    private static void Check(IAttentionKernel kernel, JsonElement c, AttentionShape shape, AttentionOptions options, string what)
    {
        var r = TestData.Run(kernel, Fixtures.Floats(c.GetProperty("q")), Fixtures.Floats(c.GetProperty("k")), Fixtures.Floats(c.GetProperty("v")),
            Fixtures.Floats(c.GetProperty("do")), shape, options);
        Close.Assert(r.Output, Fixtures.Doubles(c.GetProperty("o")), ForwardRtol, ForwardAtol, $"{what} o");
        Close.Assert(r.Dq, Fixtures.Doubles(c.GetProperty("dq")), GradRtol, GradAtol, $"{what} dq");
        Close.Assert(r.Dk, Fixtures.Doubles(c.GetProperty("dk")), GradRtol, GradAtol, $"{what} dk");
        Close.Assert(r.Dv, Fixtures.Doubles(c.GetProperty("dv")), GradRtol, GradAtol, $"{what} dv");
    }

    [Theory]
    [MemberData(nameof(UnionCases))]
    public void UnionMasksMatchPyTorch(string caseName, string kernelName)
    {
        var c = Fixtures.Get(Fixtures.Load(File), $"union.{caseName}");
        var shape = Shape(c);
        var options = new AttentionOptions
        {
            IsCausal = c.GetProperty("causal").GetBoolean(),
            PrefixLength = c.GetProperty("prefix_length").GetInt32(),
            GlobalTokens = c.GetProperty("global_tokens").GetInt32(),
            Window = c.TryGetProperty("window_before", out var before)
                ? new SlidingWindow(before.GetInt32(), c.GetProperty("window_after").GetInt32()) : null,
        };
        // the fixture's mask, written independently in Python, is the rule in AttentionOptions.Allows
        var expectedVisible = Fixtures.Doubles(c.GetProperty("visible"));
        for (int i = 0; i < shape.QueryLength; i++)
            for (int j = 0; j < shape.KeyLength; j++)
                Assert.Equal(expectedVisible[i * shape.KeyLength + j] != 0, options.Allows(0, 0, i, j, shape));

        if (kernelName != "kernel-from-case") { Check(AttentionKernels.Get(kernelName), c, shape, options, $"{caseName} {kernelName}"); return; }
        if (!c.TryGetProperty("kernel", out var spec)) return; // the case has no kernel form
        // the window kernel is given the caller's part only (causal); it adds its own window and global tokens
        var kernel = AttentionKernels.Parse(spec.GetString()!);
        Check(kernel, c, shape, options with { Window = null, GlobalTokens = 0 }, $"{caseName} {kernel.Name}");
    }

    [Theory]
    [InlineData("bidirectional")]
    [InlineData("causal")]
    [InlineData("causal_decode")]
    public void PerformerMatchesPyTorch(string caseName)
    {
        var c = Fixtures.Get(Fixtures.Load(File), $"performer.{caseName}");
        var shape = Shape(c);
        var kernel = new PerformerAttention(Fixtures.Floats(c.GetProperty("projection")), c.GetProperty("features").GetInt32(), shape.HeadDim);
        Check(kernel, c, shape, new AttentionOptions { IsCausal = c.GetProperty("causal").GetBoolean() }, $"performer {caseName}");
    }
}
