namespace AttentionLab.Layers;

/// <summary>
/// Grouped-query attention's sharing of key/value heads (Ainslie et al. 2023): query head h reads key/value head
/// h / G, G = H / Hkv query heads per group (1 head for all: multi-query; G = 1: multi-head). Hugging Face's
/// <c>repeat_kv</c> (modeling_llama.py) expands (B, Hkv, T, D) to (B, H, T, D) so that any attention kernel runs
/// unchanged; the backward of a copy is a sum, so each key/value head's gradient is the sum over its group.
/// The KV cache keeps the Hkv heads themselves: that is where grouped-query attention saves memory.
/// </summary>
public static class KeyValueGroups
{
    /// <summary>HF repeat_kv: (B, Hkv, T, D) → (B, H, T, D), head h a copy of head h / G.</summary>
    public static void Expand(ReadOnlySpan<float> x, int batch, int keyValueHeads, int heads, int length, int headDim, Span<float> output)
    {
        int group = heads / keyValueHeads, slice = length * headDim;
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                x.Slice((b * keyValueHeads + h / group) * slice, slice).CopyTo(output.Slice((b * heads + h) * slice, slice));
    }

    /// <summary>The backward of <see cref="Expand"/>: (B, H, T, D) → (B, Hkv, T, D), each key/value head the sum of its
    /// group's heads (overwritten).</summary>
    public static void Reduce(ReadOnlySpan<float> x, int batch, int keyValueHeads, int heads, int length, int headDim, Span<float> output)
    {
        int group = heads / keyValueHeads, slice = length * headDim;
        for (int b = 0; b < batch; b++)
            for (int g = 0; g < keyValueHeads; g++)
            {
                var sum = output.Slice((b * keyValueHeads + g) * slice, slice);
                x.Slice((b * heads + g * group) * slice, slice).CopyTo(sum);
                for (int k = 1; k < group; k++)
                    System.Numerics.Tensors.TensorPrimitives.Add(sum, x.Slice((b * heads + g * group + k) * slice, slice), sum);
            }
    }
}
