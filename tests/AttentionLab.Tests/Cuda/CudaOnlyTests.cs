using AttentionLab.Attention;
using AttentionLab.Cuda;
using AttentionLab.Kernels;
using AttentionLab.Models;

namespace AttentionLab.Tests.Cuda;

/// <summary>A fact that runs only where a CUDA GPU is; elsewhere it is skipped with the reason (no device, no driver).</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    private static readonly GpuAvailability Probe = GpuContext.Probe();

    public CudaFactAttribute()
    {
        if (!Probe.IsAvailable) Skip = $"needs a CUDA GPU: {Probe.Description}";
    }
}

/// <summary>
/// The same kernels compiled to PTX on a real GPU, against the CPU path at GPT-2 sizes (skipped without CUDA).
/// Tolerances as on the simulator: outputs 1e-5, gradients 1e-4 relative, losses 1e-5.
/// </summary>
public class CudaOnlyTests
{
    [CudaFact]
    public void Gemm_AtGpt2Shape_MatchesCpu()
    {
        using var gpu = GpuContext.CreateCuda();
        using var device = new CudaComputeDevice(gpu);
        int m = 256, n = 2304, k = 768;
        var a = GpuCheck.Random(m * k, 1); var b = GpuCheck.Random(k * n, 2);
        var expected = new float[m * n]; var actual = new float[m * n];
        ComputeDevice.Cpu.MatMul(a, b, expected, m, n, k);
        device.MatMul(a, b, actual, m, n, k);
        GpuCheck.Close(actual, expected, 1e-5, "gemm 256×2304×768");
    }

    [CudaFact]
    public void Flash_AtT1024_MatchesCpu()
    {
        using var gpu = GpuContext.CreateCuda();
        var shape = AttentionShape.Self(1, 2, 1024, 64);
        var q = GpuCheck.Random(shape.QueryElements, 1); var k = GpuCheck.Random(shape.KeyElements, 2);
        var v = GpuCheck.Random(shape.KeyElements, 3); var dO = GpuCheck.Random(shape.QueryElements, 4);
        var o = new float[q.Length]; var dq = new float[q.Length]; var dk = new float[q.Length]; var dv = new float[q.Length];
        AttentionKernels.Fast.Forward(q, k, v, shape, AttentionOptions.Causal, o, default);
        AttentionKernels.Fast.Backward(q, k, v, o, default, dO, shape, AttentionOptions.Causal, dq, dk, dv);
        using var flash = GpuAttention.Create(gpu.Ops, "flash");
        var buffers = new[] { q, k, v, dO, new float[q.Length], new float[q.Length], new float[q.Length], new float[q.Length] }
            .Select(h => { var d = gpu.Accelerator.Allocate1D<float>(h.Length); GpuOps.Upload(h, d.View); return d; }).ToArray();
        using var saved = gpu.Accelerator.Allocate1D<float>(flash.SavedLength(shape));
        flash.Forward(buffers[0].View, buffers[1].View, buffers[2].View, shape, AttentionOptions.Causal, buffers[4].View, saved.View);
        flash.Backward(buffers[0].View, buffers[1].View, buffers[2].View, buffers[4].View, saved.View, buffers[3].View, shape, AttentionOptions.Causal,
            buffers[5].View, buffers[6].View, buffers[7].View);
        float[] Get(int i) { var h = new float[q.Length]; GpuOps.Download(buffers[i].View, h); return h; }
        GpuCheck.Close(Get(4), o, 1e-5, "output");
        GpuCheck.Close(Get(5), dq, 1e-4, "dq");
        GpuCheck.Close(Get(6), dk, 1e-4, "dk");
        GpuCheck.Close(Get(7), dv, 1e-4, "dv");
        foreach (var b in buffers) b.Dispose();
    }

    [CudaFact]
    public void Gpt2Loss_MatchesCpu()
    {
        using var gpu = GpuContext.CreateCuda();
        var config = DecoderConfig.ShakespeareChar;
        var cpu = new DecoderModel(config);
        cpu.InitializeWeights(5);
        var random = new Random(2);
        int batch = 4, t = config.ContextLength;
        var tokens = Enumerable.Range(0, batch * t).Select(_ => random.Next(config.VocabSize)).ToArray();
        var targets = Enumerable.Range(0, batch * t).Select(_ => random.Next(config.VocabSize)).ToArray();
        float expected = cpu.Forward(tokens, batch, t, targets);
        using var model = new CudaDecoderModel(gpu, config, "flash");
        model.UploadParameters(cpu.Parameters);
        float loss = model.Forward(tokens, batch, t, targets);
        Assert.True(Math.Abs(loss - expected) <= 1e-5 * expected, $"loss {loss} vs CPU {expected}");
    }
}
