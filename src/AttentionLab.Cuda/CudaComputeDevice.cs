using AttentionLab.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace AttentionLab.Cuda;

/// <summary>
/// The GPU behind the span-based <see cref="ComputeDevice"/> seam: <see cref="Models.DecoderModel.Device"/> can point
/// here so inference (generate, inspect) runs its matrix products on the GPU. Each call copies its operands over and
/// the result back, which suits inference's large head and MLP products; training uses the device-resident
/// <see cref="CudaDecoderModel"/> instead, where nothing crosses per op. Attention stays on the CPU kernels.
/// </summary>
public sealed class CudaComputeDevice(GpuContext gpu) : ComputeDevice, IDisposable
{
    private MemoryBuffer1D<float, Stride1D.Dense>? _a, _b, _c;

    public GpuContext Gpu { get; } = gpu ?? throw new ArgumentNullException(nameof(gpu));

    public override string Name => "cuda";

    public override string Description => Gpu.Description;

    /// <summary>Training on the device: a <see cref="CudaTrainingBackend"/> (weights, moments and activations resident).</summary>
    /// <exception cref="ArgumentException">a model or kernel the GPU cannot run, with the reason</exception>
    public override Training.ITrainingBackend TrainingBackend(Models.DecoderModel model, Training.AdamW optimizer) =>
        new CudaTrainingBackend(Gpu, model, optimizer);

    /// <summary>Cached generation on the device: a <see cref="CudaCachedDecoder"/> (weights, KV cache, attention).</summary>
    /// <exception cref="ArgumentException">a model or kernel the GPU cannot run, with the reason</exception>
    public override Models.ICachedDecoder CachedDecoder(Models.DecoderModel model) => new CudaCachedDecoder(Gpu, model);

    public override void MatMul(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c,
        int m, int n, int k, bool transposeA = false, bool transposeB = false, bool accumulate = false, int maxThreads = 0)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), $"GEMM sizes must be non-negative, got m {m}, n {n}, k {k}");
        if (a.Length < (long)m * k || b.Length < (long)k * n || c.Length < (long)m * n)
            throw new ArgumentException($"GEMM operands too short for m {m}, n {n}, k {k}: a {a.Length}, b {b.Length}, c {c.Length}");
        a = a[..(m * k)]; b = b[..(k * n)]; c = c[..(m * n)];
        lock (this)
        {
            var da = Room(ref _a, a.Length); var db = Room(ref _b, b.Length); var dc = Room(ref _c, c.Length);
            GpuOps.Upload(a, da); GpuOps.Upload(b, db);
            if (accumulate) GpuOps.Upload(c, dc);
            Gpu.Ops.MatMul(da, db, dc, m, n, k, transposeA, transposeB, accumulate);
            GpuOps.Download(dc, c);
        }
    }

    private ArrayView<float> Room(ref MemoryBuffer1D<float, Stride1D.Dense>? buffer, int length)
    {
        if (buffer is null || buffer.Length < length)
        {
            buffer?.Dispose();
            buffer = Gpu.Accelerator.Allocate1D<float>(Math.Max(1, length));
        }
        return buffer.View.SubView(0, length);
    }

    public void Dispose()
    {
        _a?.Dispose(); _b?.Dispose(); _c?.Dispose();
        _a = _b = _c = null;
    }
}
