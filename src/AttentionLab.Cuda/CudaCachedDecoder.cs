using AttentionLab.Models;

namespace AttentionLab.Cuda;

/// <summary>
/// The GPU <see cref="ICachedDecoder"/>: the weights, the KV cache and every activation on the device
/// (<see cref="CudaDecoderModel.ForwardCached"/> over a <see cref="DeviceKvCache"/>). Per generated token the host sends
/// one token id and reads back one row of V logits; the sampling stays with <see cref="TextGenerator"/>.
/// </summary>
public sealed class CudaCachedDecoder : ICachedDecoder, IDisposable
{
    /// <param name="gpu">the device (CUDA, or the CPU simulator in tests)</param>
    /// <param name="host">the model whose weights, kernel and attention options are copied to the device</param>
    /// <exception cref="ArgumentException">the model has no GPU version (its kernel or its position encoding)</exception>
    public CudaCachedDecoder(GpuContext gpu, DecoderModel host)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        ArgumentNullException.ThrowIfNull(host);
        Model = new CudaDecoderModel(gpu, host.Config, host.Attention.Name) { AttentionOptions = host.AttentionOptions };
        try
        {
            Model.UploadParameters(host.Parameters);
            Cache = Model.CreateCache();
        }
        catch
        {
            Model.Dispose();
            throw;
        }
    }

    public CudaDecoderModel Model { get; }
    public DeviceKvCache Cache { get; }
    public int Length => Cache.Length;
    public void Clear() => Cache.Clear();
    public ReadOnlySpan<float> Forward(ReadOnlySpan<int> tokens) => Model.ForwardCached(tokens, Cache);

    public void Dispose()
    {
        Cache.Dispose();
        Model.Dispose();
    }
}
