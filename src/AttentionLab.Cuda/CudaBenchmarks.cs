using System.Diagnostics;
using AttentionLab.Attention;
using AttentionLab.Diagnostics;
using AttentionLab.Models;
using ILGPU;
using ILGPU.Runtime;

namespace AttentionLab.Cuda;

/// <summary>One GEMM shape timed on the device.</summary>
public sealed record GpuGemmTiming(GemmShape Shape, double Milliseconds, double Gflops);

/// <summary>One attention call timed on the device: forward, and forward + backward.</summary>
public sealed record GpuAttentionTiming(string Kernel, int Batch, int Heads, int Length, int HeadDim, bool Causal,
    double ForwardMilliseconds, double ForwardBackwardMilliseconds, long SavedFloats);

/// <summary>A GPT-2 training step timed on the device.</summary>
public sealed record GpuTrainTiming(DecoderConfig Config, int Batch, int Length, string Attention, double BestMilliseconds,
    double MedianMilliseconds, double TokensPerSecond, float FirstLoss, float LastLoss);

/// <summary>
/// Device benchmarks (never tests): each times whole launches with the device synchronized before and after, keeps
/// the best of the repeats, and reports what <c>bench/pytorch/cuda_*.py</c> reports for PyTorch on the same GPU.
/// </summary>
public static class CudaBenchmarks
{
    /// <summary>Every matrix product of a GPT-2 124M training step at N = B·T tokens (C = 768, V = 50257), in the
    /// forms the model runs them (weights stored (in, out): forward x·W, backward dX = dY·Wᵀ and dW = Xᵀ·dY).</summary>
    public static IReadOnlyList<GemmShape> Gpt2Shapes(int tokens) =>
    [
        new("qkv fwd x·W", tokens, 2304, 768, false, false),
        new("attn.proj fwd x·W", tokens, 768, 768, false, false),
        new("fc fwd x·W", tokens, 3072, 768, false, false),
        new("proj fwd x·W", tokens, 768, 3072, false, false),
        new("lm_head fwd x·Eᵀ", tokens, 50257, 768, false, true),
        new("qkv bwd dX=dY·Wᵀ", tokens, 768, 2304, false, true),
        new("fc bwd dX=dY·Wᵀ", tokens, 768, 3072, false, true),
        new("qkv bwd dW=Xᵀ·dY", 768, 2304, tokens, true, false),
        new("fc bwd dW=Xᵀ·dY", 768, 3072, tokens, true, false),
        new("lm_head bwd dX=dL·E", tokens, 768, 50257, false, false),
        new("lm_head bwd dE=dLᵀ·X", 50257, 768, tokens, true, false),
    ];

    /// <summary>Each shape: one warm-up launch, then the best of <paramref name="repeat"/> timed launches.</summary>
    public static IReadOnlyList<GpuGemmTiming> Gemm(GpuContext gpu, IEnumerable<GemmShape> shapes, int repeat)
    {
        var result = new List<GpuGemmTiming>();
        foreach (var s in shapes)
        {
            using var a = gpu.Accelerator.Allocate1D<float>((long)s.M * s.K);
            using var b = gpu.Accelerator.Allocate1D<float>((long)s.K * s.N);
            using var c = gpu.Accelerator.Allocate1D<float>((long)s.M * s.N);
            a.MemSetToZero(); b.MemSetToZero();
            double best = Time(gpu, repeat, () => gpu.Ops.MatMul(a.View, b.View, c.View, s.M, s.N, s.K, s.TransposeA, s.TransposeB));
            result.Add(new GpuGemmTiming(s, best, 2.0 * s.M * s.N * s.K / (best * 1e6)));
        }
        return result;
    }

    /// <summary>Attention at (B, H, T, D), forward alone and forward + backward, best of the repeats.</summary>
    public static GpuAttentionTiming Attention(GpuContext gpu, string kernel, int batch, int heads, int length, int headDim, bool causal, int repeat)
    {
        var shape = AttentionShape.Self(batch, heads, length, headDim);
        var options = new AttentionOptions { IsCausal = causal };
        using var attention = GpuAttention.Create(gpu.Ops, kernel);
        long n = shape.QueryElements, savedLength = attention.SavedLength(shape);
        using var q = gpu.Accelerator.Allocate1D<float>(n); using var k = gpu.Accelerator.Allocate1D<float>(n); using var v = gpu.Accelerator.Allocate1D<float>(n);
        using var o = gpu.Accelerator.Allocate1D<float>(n); using var dO = gpu.Accelerator.Allocate1D<float>(n);
        using var dq = gpu.Accelerator.Allocate1D<float>(n); using var dk = gpu.Accelerator.Allocate1D<float>(n); using var dv = gpu.Accelerator.Allocate1D<float>(n);
        using var saved = gpu.Accelerator.Allocate1D<float>(Math.Max(1, savedLength));
        var random = new Random(1);
        var host = new float[n];
        foreach (var buffer in new[] { q, k, v, dO })
        {
            for (long i = 0; i < n; i++) host[i] = (float)(random.NextDouble() * 2 - 1);
            GpuOps.Upload(host, buffer.View);
        }
        var savedView = saved.View.SubView(0, savedLength);
        double forward = Time(gpu, repeat, () => attention.Forward(q.View, k.View, v.View, shape, options, o.View, savedView));
        double both = Time(gpu, repeat, () =>
        {
            attention.Forward(q.View, k.View, v.View, shape, options, o.View, savedView);
            attention.Backward(q.View, k.View, v.View, o.View, savedView, dO.View, shape, options, dq.View, dk.View, dv.View);
        });
        return new GpuAttentionTiming(attention.Name, batch, heads, length, headDim, causal, forward, both, savedLength);
    }

    /// <summary>Training steps (zero grad, forward, backward, clip, AdamW) of a freshly initialized model.</summary>
    public static GpuTrainTiming Train(GpuContext gpu, DecoderConfig config, int batch, int length, int steps, int warmup, string attention)
    {
        var host = new DecoderModel(config, training: false);
        host.InitializeWeights(1337);
        using var model = new CudaDecoderModel(gpu, config, attention);
        model.UploadParameters(host.Parameters);
        using var optimizer = new GpuAdamW(gpu.Ops, model.Layout.Count, new Training.AdamWOptions { WeightDecay = 0.1f },
            model.Layout.Matrices.Select(v => (v.Offset, v.Length)).ToArray());
        var random = new Random(1);
        var tokens = Enumerable.Range(0, batch * length).Select(_ => random.Next(config.VocabSize)).ToArray();
        var targets = Enumerable.Range(0, batch * length).Select(_ => random.Next(config.VocabSize)).ToArray();
        float first = float.NaN, last = float.NaN;
        var times = new List<double>();
        for (int s = 0; s < warmup + steps; s++)
        {
            gpu.Synchronize();
            long start = Stopwatch.GetTimestamp();
            model.ZeroGrad();
            float loss = model.Forward(tokens, batch, length, targets);
            model.Backward();
            optimizer.Step(model.Parameters, model.Gradients, 1f, 6e-4f);
            gpu.Synchronize();
            if (s >= warmup) times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            if (float.IsNaN(first)) first = loss;
            last = loss;
        }
        times.Sort();
        double best = times[0], median = times[times.Count / 2];
        return new GpuTrainTiming(config, batch, length, model.Attention.Name, best, median, batch * length / (best / 1000), first, last);
    }

    private static double Time(GpuContext gpu, int repeat, Action run)
    {
        run();
        gpu.Synchronize();
        double best = double.MaxValue;
        for (int r = 0; r < repeat; r++)
        {
            long start = Stopwatch.GetTimestamp();
            run();
            gpu.Synchronize();
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        return best;
    }
}
