namespace AttentionLab.Kernels;

/// <summary>
/// A weight matrix held in 16 bits for inference: (Rows, Cols) row-major, exactly as its float32 original was laid
/// out, <see cref="Format"/> BF16 or F16. It multiplies (through <see cref="GemmHalf"/>) and hands out rows (the token
/// table's lookup) as float32; it never keeps a float32 copy.
/// </summary>
public sealed class HalfMatrix : IWeightMatrix
{
    public HalfMatrix(WeightFormat format, ushort[] bits, int rows, int cols)
    {
        if (format is not (WeightFormat.BF16 or WeightFormat.F16)) throw new ArgumentException("a HalfMatrix holds BF16 or F16", nameof(format));
        ArgumentNullException.ThrowIfNull(bits);
        if ((long)rows * cols != bits.Length) throw new ArgumentException($"{bits.Length} weights do not make a ({rows}, {cols}) matrix");
        Format = format; Bits = bits; Rows = rows; Cols = cols;
    }

    /// <summary>A float32 matrix rounded to the nearest 16-bit values (ties to even).</summary>
    /// <exception cref="OverflowException">a weight beyond the format's range (F16: ±65504)</exception>
    public static HalfMatrix FromSingle(ReadOnlySpan<float> values, WeightFormat format, int rows, int cols)
    {
        var bits = new ushort[values.Length];
        HalfConversion.Narrow(values, format, bits);
        return new HalfMatrix(format, bits, rows, cols);
    }

    public WeightFormat Format { get; }

    /// <summary>The stored 16-bit patterns, (Rows, Cols) row-major.</summary>
    public ushort[] Bits { get; }

    public int Rows { get; }
    public int Cols { get; }

    /// <summary>Bytes the matrix occupies (and a product streams): 2 per weight.</summary>
    public long Bytes => 2L * Bits.Length;

    /// <summary>output (+)= x·op(W): op(W) = W (Rows = k, Cols = n) or Wᵀ when <paramref name="transpose"/> (Rows = n, Cols = k).</summary>
    /// <param name="x">(m, k)</param>
    /// <param name="output">(m, n)</param>
    public void Multiply(ReadOnlySpan<float> x, Span<float> output, int m, bool transpose = false, bool accumulate = false, int maxThreads = 0)
    {
        int k = transpose ? Cols : Rows, n = transpose ? Rows : Cols;
        GemmHalf.Multiply(x, Bits, Format, output, m, n, k, transposeB: transpose, accumulate: accumulate, maxThreads: maxThreads);
    }

    /// <summary>Row <paramref name="row"/> widened to float32 (an embedding lookup).</summary>
    public void Row(int row, Span<float> destination) =>
        HalfConversion.Widen(Bits.AsSpan(row * Cols, Cols), Format, destination);

    /// <summary>The whole matrix as float32 (tests, and saving to a float32 folder).</summary>
    public float[] ToSingle()
    {
        var result = new float[Bits.Length];
        HalfConversion.Widen(Bits, Format, result);
        return result;
    }
}
