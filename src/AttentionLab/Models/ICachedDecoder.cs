namespace AttentionLab.Models;

/// <summary>
/// One sequence decoded incrementally: a causal model together with its KV cache, wherever the two live.
/// <see cref="TextGenerator"/> calls only these members, so the CPU model (<see cref="CpuCachedDecoder"/>) and a GPU
/// whose cache stays on the device share one generation loop (sampling, cropping, the sliding window).
/// </summary>
public interface ICachedDecoder
{
    /// <summary>Positions held in the cache.</summary>
    int Length { get; }

    /// <summary>Forgets every position.</summary>
    void Clear();

    /// <summary>Runs the new tokens at positions <see cref="Length"/> … against the cached keys and values, appends
    /// theirs, and returns the (V) logits after the last new token.</summary>
    /// <param name="tokens">(n) new token ids, n ≥ 1, Length + n ≤ the context</param>
    ReadOnlySpan<float> Forward(ReadOnlySpan<int> tokens);
}
