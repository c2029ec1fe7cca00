using System.Globalization;
using System.Text.Json;
using AttentionLab.Cuda;
using AttentionLab.Models;
using AttentionLab.Training;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// What <c>--device cuda</c> does in each command, kept here so the commands change by one line each: the GPU is
/// opened once per process; training gets a <see cref="CudaTrainingBackend"/> for the shared training loop (the same
/// progress, checkpoints, resume and Ctrl+C as on the CPU); generation gets a <see cref="CudaCachedDecoder"/> (KV cache
/// and attention on the device); inspection and the uncached path point the model's <see cref="DecoderModel.Device"/> at
/// the GPU; the benchmarks render <see cref="CudaBenchmarks"/>.
/// </summary>
internal static class CudaCommands
{
    private static GpuContext? _gpu;
    private static CliDevice? _device;

    /// <summary>Tests only: a device (ILGPU's CPU simulator) that <c>--device cuda</c> uses instead of a CUDA GPU, for the
    /// calls made on this async flow, so the whole command path runs in CI.</summary>
    internal static readonly AsyncLocal<GpuContext?> TestGpu = new();

    /// <summary>The process's GPU (CommandSupport.Device has already checked there is one).</summary>
    public static GpuContext Gpu()
    {
        if (TestGpu.Value is { } test) return test;
        if (_gpu is not null) return _gpu;
        try { return _gpu = GpuContext.CreateCuda(); }
        catch (GpuUnavailableException e) { throw new CliError($"--device cuda: {e.Message}"); }
    }

    /// <summary>The process's GPU as the one device object (<see cref="Kernels.ComputeDevice"/>): matrix products,
    /// training steps and cached generation all come from it; what it cannot run is one line naming the option.</summary>
    public static Kernels.ComputeDevice ComputeDevice()
    {
        var gpu = Gpu();
        if (_device is null || _device.Inner.Gpu != gpu) _device = new CliDevice(new CudaComputeDevice(gpu));
        return _device;
    }

    /// <summary>The GPU device with its refusals (a model or kernel it cannot run) said as "--device cuda: …".</summary>
    private sealed class CliDevice(CudaComputeDevice inner) : Kernels.ComputeDevice
    {
        public CudaComputeDevice Inner { get; } = inner;
        public override string Name => Inner.Name;
        public override string Description => Inner.Description;

        public override void MatMul(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k,
            bool transposeA = false, bool transposeB = false, bool accumulate = false, int maxThreads = 0) =>
            Inner.MatMul(a, b, c, m, n, k, transposeA, transposeB, accumulate, maxThreads);

        public override AttentionLab.Attention.IAttentionKernel Attention(string name) => Inner.Attention(name);

        public override ITrainingBackend TrainingBackend(DecoderModel model, AdamW optimizer)
        {
            try { return Inner.TrainingBackend(model, optimizer); }
            catch (ArgumentException e) { throw new CliError($"--device cuda: {Cli.OneLine(e.Message)}"); }
        }

        public override ICachedDecoder CachedDecoder(DecoderModel model)
        {
            try { return Inner.CachedDecoder(model); }
            catch (ArgumentException e) { throw new CliError($"--device cuda: {Cli.OneLine(e.Message)}"); }
        }
    }

    public static int BenchGemm(int repeat, bool json, TextWriter stdout)
    {
        var gpu = Gpu();
        var timings = CudaBenchmarks.Gemm(gpu, CudaBenchmarks.Gpt2Shapes(8 * 1024), repeat);
        if (json)
        {
            stdout.WriteLine(JsonSerializer.Serialize(new
            {
                device = gpu.Description,
                shapes = timings.Select(t => new { name = t.Shape.Name, m = t.Shape.M, n = t.Shape.N, k = t.Shape.K, form = t.Shape.Form, ms = t.Milliseconds, gflops = t.Gflops }),
            }, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        var inv = CultureInfo.InvariantCulture;
        stdout.WriteLine($"GEMM at GPT-2 124M shapes, 8 × 1024 tokens, on {gpu.Description}; fp32, best of {repeat}");
        stdout.WriteLine();
        stdout.WriteLine($"{"shape",-22} {"m",6} {"n",6} {"k",6} {"form",4} {"ms",9} {"GFLOP/s",9}");
        foreach (var t in timings)
            stdout.WriteLine(string.Create(inv, $"{t.Shape.Name,-22} {t.Shape.M,6} {t.Shape.N,6} {t.Shape.K,6} {t.Shape.Form,4} {t.Milliseconds,9:F3} {t.Gflops,9:F1}"));
        return 0;
    }

    public static int BenchTrain(string preset, DecoderConfig config, int batch, int length, int steps, int warmup, string kernel, bool json, TextWriter stdout)
    {
        var gpu = Gpu();
        GpuTrainTiming r;
        try { r = CudaBenchmarks.Train(gpu, config, batch, length, steps, warmup, kernel); }
        catch (ArgumentException e) { throw new CliError(e.Message); }
        if (json)
        {
            stdout.WriteLine(JsonSerializer.Serialize(new
            {
                device = gpu.Description, preset, batch, context = length, attention = r.Attention, steps,
                ms_per_step = r.BestMilliseconds, median_ms_per_step = r.MedianMilliseconds, tokens_per_s = r.TokensPerSecond,
                first_loss = r.FirstLoss, last_loss = r.LastLoss,
            }, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        var inv = CultureInfo.InvariantCulture;
        stdout.WriteLine(string.Create(inv, $"GPT-2 '{preset}' training step on {gpu.Description}: B {batch} × T {length}, attention '{r.Attention}'"));
        stdout.WriteLine(string.Create(inv, $"best {r.BestMilliseconds:F1} ms/step (median {r.MedianMilliseconds:F1} of {steps}), {r.TokensPerSecond:F0} tokens/s; loss {r.FirstLoss:F4} → {r.LastLoss:F4}"));
        return 0;
    }

    /// <summary><c>bench attention --device cuda</c>: each GPU kernel (naive or flash; fast is naive here) at each length.</summary>
    public static int BenchAttention(IReadOnlyList<string> variants, IReadOnlyList<int> lengths, int batch, int heads, int d, bool causal, int repeat, bool json, TextWriter stdout)
    {
        var gpu = Gpu();
        var rows = new List<GpuAttentionTiming>();
        foreach (var kernel in variants)
            foreach (int t in lengths)
            {
                try { rows.Add(CudaBenchmarks.Attention(gpu, kernel, batch, heads, t, d, causal, repeat)); }
                catch (Exception e) when (e is ArgumentException or NotSupportedException) { throw new CliError($"--device cuda: {e.Message}"); }
            }
        if (json)
        {
            stdout.WriteLine(JsonSerializer.Serialize(new
            {
                device = gpu.Description,
                rows = rows.Select(r => new { kernel = r.Kernel, batch = r.Batch, heads = r.Heads, length = r.Length, head_dim = r.HeadDim, causal = r.Causal,
                    forward_ms = r.ForwardMilliseconds, forward_backward_ms = r.ForwardBackwardMilliseconds, saved_floats = r.SavedFloats }),
            }, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        stdout.WriteLine($"attention on {gpu.Description}; fp32{(causal ? ", causal" : "")}, best of {repeat}");
        stdout.WriteLine($"{"kernel",-6} {"B",3} {"H",4} {"T",6} {"D",4} {"fwd ms",9} {"fwd+bwd ms",11} {"saved floats",13}");
        foreach (var r in rows)
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.Kernel,-6} {r.Batch,3} {r.Heads,4} {r.Length,6} {r.HeadDim,4} {r.ForwardMilliseconds,9:F3} {r.ForwardBackwardMilliseconds,11:F3} {r.SavedFloats,13:N0}"));
        return 0;
    }
}
