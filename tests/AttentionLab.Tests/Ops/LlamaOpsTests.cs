using AttentionLab.Attention;
using AttentionLab.Layers;
using AttentionLab.Ops;
using AttentionLab.Tests.Attention;

namespace AttentionLab.Tests.Ops;

/// <summary>
/// The Llama family's pieces against fixtures/llama/ops.json (plain torch written from Hugging Face's
/// modeling_llama.py and modeling_rope_utils.py, float64; see make_llama_fixtures.py), each fast version against its
/// plain reference, and each backward against finite differences. Tolerances: forward values rtol 1e-5 + atol 1e-6
/// and gradients rtol 1e-4 + atol 1e-6, as the fixture README asks for float32 against float64; finite differences
/// as <see cref="TestData.GradCheck"/> argues (h 1e-2, 1e-4 absolute + 1e-3 relative).
/// </summary>
public class LlamaOpsTests
{
    private const double Rtol = 1e-5, Atol = 1e-6, GradientRtol = 1e-4, GradientAtol = 1e-6;
    private static System.Text.Json.JsonElement Ops => Fixtures.Load("llama/ops.json");
    private static float[] F(string path) => Fixtures.Floats(Fixtures.Get(Ops, path));
    private static double[] D(string path) => Fixtures.Doubles(Fixtures.Get(Ops, path));

    [Fact]
    public void RmsNormMatchesPyTorchForwardAndBackward()
    {
        var x = F("rmsnorm.x"); var w = F("rmsnorm.weight"); var dy = F("rmsnorm.dy");
        float eps = (float)Fixtures.Get(Ops, "rmsnorm.eps").GetDouble();
        int c = w.Length, n = x.Length / c;
        var y = new float[x.Length]; var rstd = new float[n];
        RmsNorm.Forward(x, w, n, c, eps, y, rstd);
        Close.Assert(y, D("rmsnorm.y"), Rtol, Atol, "y");
        var yRef = new float[x.Length];
        RmsNorm.ForwardReference(x, w, n, c, eps, yRef, new float[n]);
        Close.Assert(y, yRef, Rtol, Atol, "fast against reference");
        var dx = new float[x.Length]; var dw = new float[c];
        RmsNorm.Backward(dy, x, w, rstd, n, c, dx, dw);
        Close.Assert(dx, D("rmsnorm.dx"), GradientRtol, GradientAtol, "dx");
        Close.Assert(dw, D("rmsnorm.dweight"), GradientRtol, GradientAtol, "dweight");
        var dxRef = new float[x.Length]; var dwRef = new float[c];
        RmsNorm.BackwardReference(dy, x, w, eps, n, c, dxRef, dwRef);
        Close.Assert(dx, dxRef, GradientRtol, GradientAtol, "dx against reference");
        // finite differences of Σ y·dy with respect to x and the weight
        double Loss() { var o = new float[x.Length]; RmsNorm.ForwardReference(x, w, n, c, eps, o, new float[n]); return TestData.Dot(o, dy); }
        TestData.GradCheck(x, dx, Loss, "rmsnorm dx");
        TestData.GradCheck(w, dw, Loss, "rmsnorm dweight");
    }

    [Fact]
    public void SwiGluMatchesPyTorchForwardAndBackward()
    {
        var gate = F("swiglu.gate"); var up = F("swiglu.up"); var dh = F("swiglu.dh");
        int m = 10, n = gate.Length / m;
        var gateUp = new float[2 * gate.Length];                                            // rows [gate | up]
        for (int i = 0; i < n; i++) { gate.AsSpan(i * m, m).CopyTo(gateUp.AsSpan(2 * i * m)); up.AsSpan(i * m, m).CopyTo(gateUp.AsSpan((2 * i + 1) * m)); }
        var h = new float[n * m];
        SwiGlu.Forward(gateUp, n, m, h);
        Close.Assert(h, D("swiglu.h"), Rtol, Atol, "h");
        var hRef = new float[n * m];
        SwiGlu.ForwardReference(gateUp, n, m, hRef);
        Close.Assert(h, hRef, Rtol, Atol, "fast against reference");
        var d = new float[gateUp.Length];
        SwiGlu.Backward(gateUp, dh, n, m, d);
        var dGate = new float[n * m]; var dUp = new float[n * m];
        for (int i = 0; i < n; i++) { d.AsSpan(2 * i * m, m).CopyTo(dGate.AsSpan(i * m)); d.AsSpan((2 * i + 1) * m, m).CopyTo(dUp.AsSpan(i * m)); }
        Close.Assert(dGate, D("swiglu.dgate"), GradientRtol, GradientAtol, "dgate");
        Close.Assert(dUp, D("swiglu.dup"), GradientRtol, GradientAtol, "dup");
        TestData.GradCheck(gateUp, d, () => { var o = new float[n * m]; SwiGlu.ForwardReference(gateUp, n, m, o); return TestData.Dot(o, dh); }, "swiglu");
    }

    [Theory]
    [InlineData("default")]
    [InlineData("llama3")]
    public void RotaryMatchesPyTorchForwardAndBackward(string kind)
    {
        string p = "rope." + kind;
        var c = Fixtures.Get(Ops, p);
        int d = c.GetProperty("head_dim").GetInt32(), start = c.GetProperty("start").GetInt32();
        double theta = c.GetProperty("theta").GetDouble();
        AttentionLab.IO.RopeScaling? scaling = c.TryGetProperty("scaling", out var s)
            ? new AttentionLab.IO.RopeScaling(s.GetProperty("factor").GetDouble(), s.GetProperty("low_freq_factor").GetDouble(),
                s.GetProperty("high_freq_factor").GetDouble(), s.GetProperty("original_max_position_embeddings").GetInt32())
            : null;
        var rope = new RotaryEmbedding(d, theta, scaling);
        // inv_freq exactly as HF computes it in float32 (the llama3 case has one kept, one blended and two divided)
        Close.Assert(rope.InverseFrequencies, D(p + ".inv_freq"), 1e-7, 0, "inv_freq");
        var x = F(p + ".x");
        int bh = 6, t = 5;
        var y = x.ToArray();
        rope.Apply(y, bh, t, start);
        Close.Assert(y, D(p + ".y"), Rtol, Atol, "y");
        Close.Assert(y, rope.Reference(x, bh, t, start), Rtol, Atol, "against the rotate-half reference");
        var dx = F(p + ".dy");
        rope.Apply(dx, bh, t, start, inverse: true);                                       // the backward: rotation by −pθ
        Close.Assert(dx, D(p + ".dx"), GradientRtol, GradientAtol, "dx");
        var dy = F(p + ".dy");
        TestData.GradCheck(x, dx, () => TestData.Dot(rope.Reference(x, bh, t, start), dy), "rope dx");
    }

    /// <summary>Grouped-query attention through repeat_kv (<see cref="KeyValueGroups"/>) and every exact kernel:
    /// outputs and the group-summed dk, dv equal PyTorch's; and the cached decode (each query head reading its
    /// group's head of a cache of Hkv heads) equals the full pass.</summary>
    [Theory]
    [InlineData("naive")]
    [InlineData("fast")]
    [InlineData("flash")]
    [InlineData("flash,tile:3")]
    public void GroupedQueryAttentionMatchesPyTorch(string name)
    {
        var kernel = AttentionKernels.Parse(name);
        int b = 2, h = 4, hkv = 2, t = 7, d = 8;
        var q = F("gqa.q"); var k = F("gqa.k"); var v = F("gqa.v"); var dOut = F("gqa.do");
        var kx = new float[b * h * t * d]; var vx = new float[b * h * t * d];
        KeyValueGroups.Expand(k, b, hkv, h, t, d, kx);
        KeyValueGroups.Expand(v, b, hkv, h, t, d, vx);
        var shape = AttentionShape.Self(b, h, t, d);
        var r = TestData.Run(kernel, q, kx, vx, dOut, shape, new AttentionOptions { IsCausal = true });
        Close.Assert(r.Output, D("gqa.o"), Rtol, Atol, "o");
        Close.Assert(r.Dq, D("gqa.dq"), GradientRtol, GradientAtol, "dq");
        var dk = new float[k.Length]; var dv = new float[v.Length];
        KeyValueGroups.Reduce(r.Dk, b, hkv, h, t, d, dk);
        KeyValueGroups.Reduce(r.Dv, b, hkv, h, t, d, dv);
        Close.Assert(dk, D("gqa.dk"), GradientRtol, GradientAtol, "dk");
        Close.Assert(dv, D("gqa.dv"), GradientRtol, GradientAtol, "dv");

        // decode: sequence 0's last 3 queries, one at a time, against a cache of (Hkv, n, D)
        var expected = D("gqa.cached");                                                   // (1, H, 3, D)
        for (int i = 0; i < 3; i++)
        {
            int n = t - 2 + i;
            for (int hh = 0; hh < h; hh++)
            {
                var o = new float[d];
                var qRow = q.AsSpan((hh * t + n - 1) * d, d);
                var keys = k.AsSpan((hh / 2) * t * d, n * d);                              // batch 0, key/value head hh / G
                var values = v.AsSpan((hh / 2) * t * d, n * d);
                kernel.Forward(qRow, keys, values, new AttentionShape(1, 1, 1, n, d), new AttentionOptions { IsCausal = true }, o, default);
                Close.Assert(o, expected.AsSpan((hh * 3 + i) * d, d), Rtol, Atol, $"cached head {hh} step {i}");
            }
        }
    }
}
