namespace AttentionLab.Layers;

/// <summary>
/// Splitting the channels into heads and merging them back — PyTorch's <c>x.view(B, T, H, D).transpose(1, 2)</c>
/// and its inverse — written once for every model. Head h owns channels h·D … (h + 1)·D − 1.
/// </summary>
public static class AttentionHeads
{
    /// <summary>(B, T, C) → (B, H, T, D), C = H·D, copying D-long rows.</summary>
    public static void Split(ReadOnlySpan<float> x, int batch, int length, int heads, int headDim, Span<float> output) =>
        SplitColumns(x, heads * headDim, 0, batch, length, heads, headDim, output);

    /// <summary>(B, H, T, D) → (B, T, C), the heads side by side.</summary>
    public static void Merge(ReadOnlySpan<float> x, int batch, int length, int heads, int headDim, Span<float> output) =>
        MergeColumns(x, batch, length, heads, headDim, output, heads * headDim, 0);

    /// <summary>
    /// Heads out of a column block of a wider row: rows of <paramref name="rowWidth"/> floats (e.g. the fused (N, 3C)
    /// qkv), the block starting at column <paramref name="column"/>. (B, T, rowWidth) → (B, H, T, D).
    /// </summary>
    public static void SplitColumns(ReadOnlySpan<float> x, int rowWidth, int column, int batch, int length, int heads, int headDim, Span<float> output)
    {
        int d = headDim;
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < length; t++)
            {
                var row = x.Slice((b * length + t) * rowWidth + column, heads * d);
                for (int h = 0; h < heads; h++)
                    row.Slice(h * d, d).CopyTo(output.Slice(((b * heads + h) * length + t) * d, d));
            }
    }

    /// <summary>The inverse of <see cref="SplitColumns"/>: (B, H, T, D) into a column block of wider rows.</summary>
    public static void MergeColumns(ReadOnlySpan<float> x, int batch, int length, int heads, int headDim, Span<float> output, int rowWidth, int column)
    {
        int d = headDim;
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < length; t++)
            {
                var row = output.Slice((b * length + t) * rowWidth + column, heads * d);
                for (int h = 0; h < heads; h++)
                    x.Slice(((b * heads + h) * length + t) * d, d).CopyTo(row.Slice(h * d, d));
            }
    }
}
