using System.Numerics.Tensors;

namespace AttentionLab.Ops;

/// <summary>
/// A bias broadcast over rows, the "+ b" of a linear layer, kept apart from the matrix multiply so the model can
/// pre-fill an output with it and let the GEMM accumulate on top (one pass fewer over the output).
/// </summary>
public static class Bias
{
    /// <summary>Every row of <paramref name="output"/> becomes <paramref name="bias"/> (overwritten).</summary>
    /// <param name="bias">(C)</param>
    /// <param name="output">(N, C)</param>
    public static void Fill(ReadOnlySpan<float> bias, Span<float> output)
    {
        int c = bias.Length;
        if (c == 0 || output.Length % c != 0) throw new ArgumentException($"output has {output.Length} elements, not a multiple of C = {c}");
        for (int o = 0; o < output.Length; o += c) bias.CopyTo(output.Slice(o, c));
    }

    /// <summary>output = residual + bias broadcast over rows.</summary>
    /// <param name="residual">(N, C)</param>
    /// <param name="bias">(C)</param>
    /// <param name="output">(N, C)</param>
    public static void AddTo(ReadOnlySpan<float> residual, ReadOnlySpan<float> bias, Span<float> output)
    {
        int c = bias.Length;
        if (c == 0 || output.Length % c != 0 || residual.Length != output.Length)
            throw new ArgumentException($"residual and output need the same (N, C) length with C = {c}");
        for (int o = 0; o < output.Length; o += c) TensorPrimitives.Add(residual.Slice(o, c), bias, output.Slice(o, c));
    }

    /// <summary>dBias += column sums of dOutput.</summary>
    /// <param name="dOutput">(N, C)</param>
    /// <param name="dBias">(C), accumulated</param>
    public static void Backward(ReadOnlySpan<float> dOutput, Span<float> dBias)
    {
        int c = dBias.Length;
        if (c == 0 || dOutput.Length % c != 0) throw new ArgumentException($"dOutput has {dOutput.Length} elements, not a multiple of C = {c}");
        for (int o = 0; o < dOutput.Length; o += c) TensorPrimitives.Add(dBias, dOutput.Slice(o, c), dBias);
    }
}
