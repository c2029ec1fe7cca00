namespace AttentionLab.Models;

/// <summary>The CPU <see cref="ICachedDecoder"/>: <see cref="DecoderModel.ForwardCached"/> over a <see cref="KvCache"/>.</summary>
public sealed class CpuCachedDecoder(DecoderModel model) : ICachedDecoder
{
    public DecoderModel Model { get; } = model ?? throw new ArgumentNullException(nameof(model));
    public KvCache Cache { get; } = model.CreateCache();
    public int Length => Cache.Length;
    public void Clear() => Cache.Clear();
    public ReadOnlySpan<float> Forward(ReadOnlySpan<int> tokens) => Model.ForwardCached(tokens, Cache);
}
