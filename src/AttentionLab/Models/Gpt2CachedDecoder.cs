namespace AttentionLab.Models;

/// <summary>The CPU <see cref="ICachedDecoder"/>: <see cref="Gpt2Model.ForwardCached"/> over a <see cref="KvCache"/>.</summary>
public sealed class Gpt2CachedDecoder(Gpt2Model model) : ICachedDecoder
{
    public Gpt2Model Model { get; } = model ?? throw new ArgumentNullException(nameof(model));
    public KvCache Cache { get; } = model.CreateCache();
    public int Length => Cache.Length;
    public void Clear() => Cache.Clear();
    public ReadOnlySpan<float> Forward(ReadOnlySpan<int> tokens) => Model.ForwardCached(tokens, Cache);
}
