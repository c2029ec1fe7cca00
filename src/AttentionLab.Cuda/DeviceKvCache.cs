using ILGPU;
using ILGPU.Runtime;

namespace AttentionLab.Cuda;

/// <summary>
/// <see cref="Models.KvCache"/> on the device: per layer, the keys and the values of every position seen so far, each
/// (H, Tmax, D), in one buffer. Generation appends one position per token and attends to the filled ones, so the
/// cache never crosses to the host.
/// </summary>
public sealed class DeviceKvCache : IDisposable
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _buffer;

    /// <param name="capacity">Tmax: the model's context window</param>
    public DeviceKvCache(GpuContext gpu, int layers, int heads, int headDim, int capacity)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        if (layers < 1 || heads < 1 || headDim < 1 || capacity < 1)
            throw new ArgumentOutOfRangeException(nameof(layers), $"a KV cache needs positive sizes, got L {layers}, H {heads}, D {headDim}, Tmax {capacity}");
        Layers = layers; Heads = heads; HeadDim = headDim; Capacity = capacity;
        _buffer = gpu.Accelerator.Allocate1D<float>(2L * layers * LayerLength);
    }

    public int Layers { get; }
    public int Heads { get; }
    public int HeadDim { get; }

    /// <summary>Tmax: positions the cache holds.</summary>
    public int Capacity { get; }

    /// <summary>How many positions are filled (0..Capacity).</summary>
    public int Length { get; set; }

    /// <summary>Floats of one layer's keys (or values): H·Tmax·D.</summary>
    public long LayerLength => (long)Heads * Capacity * HeadDim;

    /// <summary>Keys of layer <paramref name="layer"/>: (H, Tmax, D).</summary>
    public ArrayView<float> Keys(int layer) => _buffer.View.SubView(2L * layer * LayerLength, LayerLength);

    /// <summary>Values of layer <paramref name="layer"/>: (H, Tmax, D).</summary>
    public ArrayView<float> Values(int layer) => _buffer.View.SubView((2L * layer + 1) * LayerLength, LayerLength);

    /// <summary>Forgets every position (the memory is reused).</summary>
    public void Clear() => Length = 0;

    public void Dispose() => _buffer.Dispose();
}
