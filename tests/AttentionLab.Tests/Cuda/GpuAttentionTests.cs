using AttentionLab.Attention;
using AttentionLab.Cuda;

namespace AttentionLab.Tests.Cuda;

/// <summary>
/// The device attention kernels (naive: batched GEMMs + softmax; flash: tiled online softmax, backward from the saved
/// log-sum-exp) against the CPU reference kernel, with each mask the GPU takes. Sizes cross the 64-row tile edge in
/// the flash test with Tq &lt; Tk (bottom-right causal). Tolerances: output 1e-5, gradients 1e-4, relative.
/// </summary>
[Collection("Gpu")]
public class GpuAttentionTests(GpuFixture gpu)
{
    private const double Output = 1e-5, Gradient = 1e-4;

    public static TheoryData<string, int, int, int, string> Cases() => new()
    {
        { "naive", 7, 7, 5, "causal" },
        { "naive", 5, 9, 4, "padding" },
        { "flash", 7, 7, 5, "causal" },
        { "flash", 6, 70, 3, "causal" },       // Tq < Tk: the queries are the last Tq positions; two key tiles
        { "flash", 9, 9, 4, "none" },
        { "flash", 9, 9, 4, "window" },
        { "flash", 5, 9, 4, "padding" },        // batch 0 pads its last keys, batch 1 pads every key (rows of zeros)
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardAndBackward_MatchCpuReference(string name, int tq, int tk, int d, string mask)
    {
        int batch = 2, heads = 2;
        var shape = new AttentionShape(batch, heads, tq, tk, d);
        var options = mask switch
        {
            "causal" => AttentionOptions.Causal,
            "window" => new AttentionOptions { IsCausal = true, Window = new SlidingWindow(2) },
            "padding" => new AttentionOptions { KeyPaddingMask = Enumerable.Range(0, batch * tk).Select(i => i < tk - 2).ToArray() },
            _ => AttentionOptions.Default,
        };
        var q = GpuCheck.Random(shape.QueryElements, 1); var k = GpuCheck.Random(shape.KeyElements, 2);
        var v = GpuCheck.Random(shape.KeyElements, 3); var dO = GpuCheck.Random(shape.QueryElements, 4);
        var cpu = AttentionKernels.Reference;
        var o = new float[shape.QueryElements]; var dq = new float[shape.QueryElements]; var dk = new float[shape.KeyElements]; var dv = new float[shape.KeyElements];
        cpu.Forward(q, k, v, shape, options, o, default);
        cpu.Backward(q, k, v, o, default, dO, shape, options, dq, dk, dv);

        using var kernel = GpuAttention.Create(gpu.Ops, name);
        using var gq = gpu.Upload(q); using var gk = gpu.Upload(k); using var gv = gpu.Upload(v); using var gdO = gpu.Upload(dO);
        using var go = gpu.Zeros(shape.QueryElements); using var saved = gpu.Zeros(kernel.SavedLength(shape));
        using var gdq = gpu.Zeros(shape.QueryElements); using var gdk = gpu.Zeros(shape.KeyElements); using var gdv = gpu.Zeros(shape.KeyElements);
        kernel.Forward(gq.View, gk.View, gv.View, shape, options, go.View, saved.View);
        GpuCheck.Close(GpuFixture.Download(go, shape.QueryElements), o, Output, $"{name} output");
        kernel.Backward(gq.View, gk.View, gv.View, go.View, saved.View, gdO.View, shape, options, gdq.View, gdk.View, gdv.View);
        GpuCheck.Close(GpuFixture.Download(gdq, shape.QueryElements), dq, Gradient, $"{name} dq");
        GpuCheck.Close(GpuFixture.Download(gdk, shape.KeyElements), dk, Gradient, $"{name} dk");
        GpuCheck.Close(GpuFixture.Download(gdv, shape.KeyElements), dv, Gradient, $"{name} dv");
    }

    /// <summary>
    /// The flash backward against finite differences of its own forward (L = Σ O ⊙ G): central differences with
    /// h = 1e-2 in float32 on the device are good to about 1e-2 relative, the tolerance checked here.
    /// </summary>
    [Fact]
    public void FlashBackward_MatchesFiniteDifferences()
    {
        var shape = new AttentionShape(1, 1, 5, 5, 3);
        var options = AttentionOptions.Causal;
        var q = GpuCheck.Random(shape.QueryElements, 5); var k = GpuCheck.Random(shape.KeyElements, 6);
        var v = GpuCheck.Random(shape.KeyElements, 7); var g = GpuCheck.Random(shape.QueryElements, 8);
        using var kernel = GpuAttention.Create(gpu.Ops, "flash");
        using var gq = gpu.Upload(q); using var gk = gpu.Upload(k); using var gv = gpu.Upload(v); using var gG = gpu.Upload(g);
        using var go = gpu.Zeros(shape.QueryElements); using var saved = gpu.Zeros(kernel.SavedLength(shape));
        using var gdq = gpu.Zeros(shape.QueryElements); using var gdk = gpu.Zeros(shape.KeyElements); using var gdv = gpu.Zeros(shape.KeyElements);
        kernel.Forward(gq.View, gk.View, gv.View, shape, options, go.View, saved.View);
        kernel.Backward(gq.View, gk.View, gv.View, go.View, saved.View, gG.View, shape, options, gdq.View, gdk.View, gdv.View);
        var analytic = new[] { GpuFixture.Download(gdq, q.Length), GpuFixture.Download(gdk, k.Length), GpuFixture.Download(gdv, v.Length) };
        var inputs = new[] { (q, gq), (k, gk), (v, gv) };
        const float h = 1e-2f;
        for (int which = 0; which < 3; which++)
        {
            var (host, device) = inputs[which];
            var numeric = new float[host.Length];
            for (int i = 0; i < host.Length; i++)
            {
                float keep = host[i];
                host[i] = keep + h; GpuOps.Upload(host, device.View.SubView(0, host.Length));
                double plus = Loss(kernel, gq, gk, gv, go, shape, options, g);
                host[i] = keep - h; GpuOps.Upload(host, device.View.SubView(0, host.Length));
                double minus = Loss(kernel, gq, gk, gv, go, shape, options, g);
                host[i] = keep; GpuOps.Upload(host, device.View.SubView(0, host.Length));
                numeric[i] = (float)((plus - minus) / (2 * h));
            }
            GpuCheck.Close(analytic[which], numeric, 1e-2, $"gradient {"qkv"[which]}");
        }
    }

    private static double Loss(GpuAttention kernel, ILGPU.Runtime.MemoryBuffer1D<float, ILGPU.Stride1D.Dense> q,
        ILGPU.Runtime.MemoryBuffer1D<float, ILGPU.Stride1D.Dense> k, ILGPU.Runtime.MemoryBuffer1D<float, ILGPU.Stride1D.Dense> v,
        ILGPU.Runtime.MemoryBuffer1D<float, ILGPU.Stride1D.Dense> o, AttentionShape shape, AttentionOptions options, float[] g)
    {
        kernel.Forward(q.View, k.View, v.View, shape, options, o.View, default);
        var output = GpuFixture.Download(o, shape.QueryElements);
        double sum = 0;
        for (int i = 0; i < output.Length; i++) sum += (double)output[i] * g[i];
        return sum;
    }
}
