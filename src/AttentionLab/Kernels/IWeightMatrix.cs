namespace AttentionLab.Kernels;

/// <summary>
/// A weight matrix held for inference in a format narrower than float32 (<see cref="HalfMatrix"/>: BF16/F16;
/// <see cref="Q8Matrix"/>: GGUF's Q8_0 blocks), (Rows, Cols) row-major as its float32 original was laid out. It
/// multiplies and hands out rows as float32 and never keeps a float32 copy.
/// </summary>
public interface IWeightMatrix
{
    WeightFormat Format { get; }
    int Rows { get; }
    int Cols { get; }

    /// <summary>Bytes the matrix occupies (and a product streams).</summary>
    long Bytes { get; }

    /// <summary>output (+)= x·op(W): op(W) = W (Rows = k, Cols = n) or Wᵀ when <paramref name="transpose"/> (Rows = n, Cols = k).</summary>
    /// <param name="x">(m, k)</param>
    /// <param name="output">(m, n)</param>
    void Multiply(ReadOnlySpan<float> x, Span<float> output, int m, bool transpose = false, bool accumulate = false, int maxThreads = 0);

    /// <summary>Row <paramref name="row"/> as float32 (an embedding lookup).</summary>
    void Row(int row, Span<float> destination);

    /// <summary>The whole matrix as float32: the values it multiplies by (tests, saving to a float32 folder).</summary>
    float[] ToSingle();
}

/// <summary>Builds the narrow matrix of a format from float32 values.</summary>
public static class WeightMatrices
{
    /// <summary>BF16/F16: rounded to nearest (<see cref="HalfMatrix.FromSingle"/>); Q8_0: quantized in blocks of 32
    /// (<see cref="Q8Matrix.Quantize"/>).</summary>
    /// <exception cref="OverflowException">a weight beyond F16's range</exception>
    /// <exception cref="ArgumentException">Q8_0 with rows that are not a multiple of 32 weights</exception>
    public static IWeightMatrix FromSingle(ReadOnlySpan<float> values, WeightFormat format, int rows, int cols) => format switch
    {
        WeightFormat.Q8_0 => Q8Matrix.Quantize(values, rows, cols),
        _ => HalfMatrix.FromSingle(values, format, rows, cols),
    };
}
