namespace AttentionLab.Kernels;

/// <summary>
/// A weight matrix in GGUF's Q8_0 format for inference: (Rows, Cols) row-major as its float32 original, each row cut
/// into blocks of <see cref="BlockSize"/> consecutive weights, each block one scale d and 32 signed bytes q, the weight
/// being q·d. Quantizing follows ggml's <c>quantize_row_q8_0_ref</c> (ggml-quants.c): d = max |w| / 127 in float32,
/// stored as F16 (round to nearest even); q = round(w · (1/d)), halves away from zero (C's roundf), with 1/d taken
/// from the float32 d before it is rounded; an all-zero block has d = 0 and q = 0.
/// <para>Unlike GGUF's 34-byte block, the scale is held widened to float32 beside the bytes (36 bytes per 32 weights,
/// 1.125 a weight): the kernels read it with a plain broadcast. The value is the F16 one, so the weights are exactly
/// GGUF's. q·d is exact in float32 (8 by 11 significant bits), so a product over this matrix is a float32 product
/// over <see cref="ToSingle"/>'s values.</para>
/// </summary>
public sealed class Q8Matrix : IWeightMatrix
{
    /// <summary>Weights per block (GGUF's QK8_0).</summary>
    public const int BlockSize = 32;

    /// <summary>Bytes a block occupies here: 32 quants and a float32 scale.</summary>
    public const int BytesPerBlock = BlockSize + sizeof(float);

    public Q8Matrix(sbyte[] quants, float[] scales, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(quants);
        ArgumentNullException.ThrowIfNull(scales);
        CheckShape(rows, cols);
        if ((long)rows * cols != quants.Length) throw new ArgumentException($"{quants.Length} quants do not make a ({rows}, {cols}) matrix");
        if ((long)rows * (cols / BlockSize) != scales.Length) throw new ArgumentException($"{scales.Length} scales do not fit a ({rows}, {cols}) matrix of {BlockSize}-weight blocks");
        Quants = quants; Scales = scales; Rows = rows; Cols = cols;
    }

    /// <summary>(rows, cols) float32 values quantized block by block (ggml's reference rule, above).</summary>
    /// <exception cref="ArgumentException">cols is not a multiple of 32, or a value is not finite</exception>
    public static Q8Matrix Quantize(ReadOnlySpan<float> values, int rows, int cols)
    {
        CheckShape(rows, cols);
        if (values.Length != (long)rows * cols) throw new ArgumentException($"{values.Length} values do not make a ({rows}, {cols}) matrix");
        var quants = new sbyte[values.Length];
        var scales = new float[values.Length / BlockSize];
        for (int b = 0; b < scales.Length; b++)
        {
            var block = values.Slice(b * BlockSize, BlockSize);
            float amax = 0;
            foreach (float w in block)
            {
                if (!float.IsFinite(w)) throw new ArgumentException($"a weight is {w}: Q8_0 holds finite values only");
                amax = Math.Max(amax, Math.Abs(w));
            }
            float d = amax / 127f;
            float id = d != 0 ? 1f / d : 0f;
            scales[b] = HalfConversion.ToSingle(HalfConversion.FromSingle(d, WeightFormat.F16), WeightFormat.F16);
            for (int t = 0; t < BlockSize; t++)
                quants[b * BlockSize + t] = (sbyte)MathF.Round(block[t] * id, MidpointRounding.AwayFromZero);
        }
        return new Q8Matrix(quants, scales, rows, cols);
    }

    private static void CheckShape(int rows, int cols)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        if (cols % BlockSize != 0)
            throw new ArgumentException($"Q8_0 quantizes rows in blocks of {BlockSize} weights; a ({rows}, {cols}) matrix has rows of {cols}");
    }

    public WeightFormat Format => WeightFormat.Q8_0;

    /// <summary>q, (Rows, Cols) row-major.</summary>
    public sbyte[] Quants { get; }

    /// <summary>d, (Rows, Cols / 32): the scale of each block, an F16 value held as float32.</summary>
    public float[] Scales { get; }

    public int Rows { get; }
    public int Cols { get; }

    /// <summary>36 bytes per 32 weights.</summary>
    public long Bytes => Quants.LongLength + sizeof(float) * Scales.LongLength;

    public void Multiply(ReadOnlySpan<float> x, Span<float> output, int m, bool transpose = false, bool accumulate = false, int maxThreads = 0) =>
        GemmQ8.Multiply(x, this, output, m, transpose, accumulate, maxThreads);

    public void Row(int row, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)Rows, nameof(row));
        Dequantize(row, 0, Cols, destination);
    }

    /// <summary>Columns [col, col + count) of row <paramref name="row"/> as float32: q·d (whole blocks 32 at a time).</summary>
    internal void Dequantize(int row, int col, int count, Span<float> destination)
    {
        long at = (long)row * Cols + col, end = at + count;
        int j = 0;
        for (; at < end && at % BlockSize != 0; j++, at++) destination[j] = Quants[at] * Scales[at / BlockSize];
        int whole = (int)((end - at) / BlockSize);
        GemmQ8.DequantizeBlocks(Quants.AsSpan((int)at, whole * BlockSize), Scales.AsSpan((int)(at / BlockSize), whole), destination.Slice(j, whole * BlockSize));
        j += whole * BlockSize; at += whole * BlockSize;
        for (; at < end; j++, at++) destination[j] = Quants[at] * Scales[at / BlockSize];
    }

    public float[] ToSingle()
    {
        var result = new float[Quants.Length];
        for (int r = 0; r < Rows; r++) Dequantize(r, 0, Cols, result.AsSpan(r * Cols, Cols));
        return result;
    }
}
