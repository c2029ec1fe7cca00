using System.Numerics.Tensors;

namespace AttentionLab.Ops;

/// <summary>
/// Embedding lookup, <c>torch.nn.Embedding</c>: row i of the output is row indices[i] of the table.
/// The backward pass is a scatter-add: a row used twice receives both gradients.
/// </summary>
public static class Embedding
{
    /// <param name="table">(V, C)</param>
    /// <param name="indices">(N), each in [0, V)</param>
    /// <param name="channels">C</param>
    /// <param name="output">(N, C), overwritten</param>
    public static void Forward(ReadOnlySpan<float> table, ReadOnlySpan<int> indices, int channels, Span<float> output)
    {
        int vocab = Check(table, indices, channels, output, "output");
        for (int i = 0; i < indices.Length; i++)
            table.Slice(indices[i] * channels, channels).CopyTo(output.Slice(i * channels, channels));
        _ = vocab;
    }

    /// <summary>dTable[indices[i]] += dOutput[i] for every i.</summary>
    /// <param name="dOutput">(N, C)</param>
    /// <param name="indices">(N)</param>
    /// <param name="channels">C</param>
    /// <param name="dTable">(V, C), accumulated</param>
    public static void Backward(ReadOnlySpan<float> dOutput, ReadOnlySpan<int> indices, int channels, Span<float> dTable)
    {
        Check(dTable, indices, channels, dOutput, "dOutput");
        for (int i = 0; i < indices.Length; i++)
        {
            var row = dTable.Slice(indices[i] * channels, channels);
            TensorPrimitives.Add(row, dOutput.Slice(i * channels, channels), row);
        }
    }

    private static int Check(ReadOnlySpan<float> table, ReadOnlySpan<int> indices, int channels, ReadOnlySpan<float> rows, string rowsName)
    {
        if (channels <= 0) throw new ArgumentOutOfRangeException(nameof(channels), "channels must be positive");
        if (table.Length % channels != 0) throw new ArgumentException($"table has {table.Length} elements, not a multiple of C = {channels}");
        int vocab = table.Length / channels;
        if (rows.Length != (long)indices.Length * channels)
            throw new ArgumentException($"{rowsName} has {rows.Length} elements, (N, C) = ({indices.Length}, {channels}) needs {(long)indices.Length * channels}");
        foreach (int t in indices)
            if ((uint)t >= (uint)vocab) throw new ArgumentOutOfRangeException(nameof(indices), $"index {t} is outside the table's {vocab} rows");
        return vocab;
    }
}
