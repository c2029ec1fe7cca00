using System.Numerics.Tensors;

namespace AttentionLab.Ops;

/// <summary>
/// Root-mean-square normalization over the last dimension (Zhang &amp; Sennrich 2019), as Hugging Face's
/// <c>LlamaRMSNorm</c> (modeling_llama.py): <c>y = x · rsqrt(mean(x²) + ε) · weight</c>, no mean subtracted and no
/// bias. N = rows, C = channels. The reciprocal RMS of each row is saved for the backward pass.
/// <code>
/// backward, s = rsqrt(mean(x²) + ε), x̂ = x·s:
///   dweight += Σ_rows dy ⊙ x̂
///   dx = s · (dy ⊙ w − x̂ · mean(dy ⊙ w ⊙ x̂))
/// </code>
/// Used for the blocks' and the head's norms (over C) and for Qwen3's per-head q/k norms (over D).
/// </summary>
public static class RmsNorm
{
    /// <summary>Fast forward (SIMD per row). <paramref name="output"/> may be <paramref name="input"/>.</summary>
    /// <param name="input">(N, C)</param>
    /// <param name="weight">(C)</param>
    /// <param name="output">(N, C), overwritten</param>
    /// <param name="rstd">(N) 1/√(mean(x²) + ε), overwritten</param>
    public static void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, int rows, int channels, float epsilon,
        Span<float> output, Span<float> rstd)
    {
        Check(input, weight, rows, channels, output, rstd);
        for (int i = 0; i < rows; i++)
        {
            var x = input.Slice(i * channels, channels);
            var y = output.Slice(i * channels, channels);
            float s = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(x) / channels + epsilon);
            TensorPrimitives.Multiply(x, s, y);
            TensorPrimitives.Multiply(y, weight, y);
            rstd[i] = s;
        }
    }

    /// <summary>Plain loops in double, the definition. Same contract as <see cref="Forward"/>.</summary>
    public static void ForwardReference(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, int rows, int channels, float epsilon,
        Span<float> output, Span<float> rstd)
    {
        Check(input, weight, rows, channels, output, rstd);
        for (int i = 0; i < rows; i++)
        {
            int o = i * channels;
            double squares = 0;
            for (int c = 0; c < channels; c++) squares += (double)input[o + c] * input[o + c];
            double s = 1.0 / Math.Sqrt(squares / channels + epsilon);
            for (int c = 0; c < channels; c++) output[o + c] = (float)(input[o + c] * s * weight[c]);
            rstd[i] = (float)s;
        }
    }

    /// <summary>Fast backward: dInput += dx (accumulated, as the residual stream needs), dWeight += Σ dy ⊙ x̂.
    /// With <paramref name="overwrite"/> dInput is written instead; then it may be <paramref name="dOutput"/> itself.</summary>
    /// <param name="dOutput">(N, C)</param>
    /// <param name="input">(N, C) the forward input</param>
    /// <param name="rstd">(N) from the forward</param>
    /// <param name="dInput">(N, C)</param>
    /// <param name="dWeight">(C), accumulated</param>
    public static void Backward(ReadOnlySpan<float> dOutput, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> rstd,
        int rows, int channels, Span<float> dInput, Span<float> dWeight, bool overwrite = false)
    {
        for (int i = 0; i < rows; i++)
        {
            var dy = dOutput.Slice(i * channels, channels);
            var x = input.Slice(i * channels, channels);
            var dx = dInput.Slice(i * channels, channels);
            float s = rstd[i];
            float dot = 0;                                         // Σ dy·w·x̂ = s · Σ dy·w·x
            for (int c = 0; c < channels; c++) dot += dy[c] * weight[c] * x[c];
            dot *= s;
            float meanDot = dot / channels;
            for (int c = 0; c < channels; c++)
            {
                float xhat = x[c] * s;
                float g = s * (dy[c] * weight[c] - xhat * meanDot);
                dWeight[c] += dy[c] * xhat;
                dx[c] = overwrite ? g : dx[c] + g;
            }
        }
    }

    /// <summary>Plain loops in double, the definition: dInput += dx, dWeight += Σ dy ⊙ x̂ (recomputing the RMS).</summary>
    public static void BackwardReference(ReadOnlySpan<float> dOutput, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, float epsilon,
        int rows, int channels, Span<float> dInput, Span<float> dWeight)
    {
        for (int i = 0; i < rows; i++)
        {
            int o = i * channels;
            double squares = 0;
            for (int c = 0; c < channels; c++) squares += (double)input[o + c] * input[o + c];
            double s = 1.0 / Math.Sqrt(squares / channels + epsilon);
            double dot = 0;
            for (int c = 0; c < channels; c++) dot += (double)dOutput[o + c] * weight[c] * input[o + c] * s;
            for (int c = 0; c < channels; c++)
            {
                double xhat = input[o + c] * s;
                dWeight[c] += (float)(dOutput[o + c] * xhat);
                dInput[o + c] += (float)(s * (dOutput[o + c] * weight[c] - xhat * dot / channels));
            }
        }
    }

    private static void Check(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, int rows, int channels, Span<float> output, Span<float> rstd)
    {
        long n = (long)rows * channels;
        if (input.Length != n || output.Length != n) throw new ArgumentException($"input and output need (N, C) = ({rows}, {channels}) elements, got {input.Length} and {output.Length}");
        if (weight.Length != channels) throw new ArgumentException($"weight has {weight.Length} elements, needs {channels}");
        if (rstd.Length != rows) throw new ArgumentException($"rstd has {rstd.Length} elements, needs {rows}");
    }
}
