using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AttentionLab.Ops;

/// <summary>
/// Layer normalization over the last dimension (Ba, Kiros, Hinton 2016), as <c>torch.nn.LayerNorm</c>:
/// <c>y = (x − mean) / √(var + eps) · weight + bias</c> with the biased variance (divide by C).
/// N = rows (B·T), C = channels. Mean and reciprocal standard deviation are saved for the backward pass.
/// </summary>
public static class LayerNorm
{
    /// <summary>GPT-2's and PyTorch's default epsilon.</summary>
    public const float DefaultEpsilon = 1e-5f;

    /// <summary>Fast forward (SIMD per row).</summary>
    /// <param name="input">(N, C)</param>
    /// <param name="weight">(C)</param>
    /// <param name="bias">(C)</param>
    /// <param name="output">(N, C), overwritten</param>
    /// <param name="mean">(N), overwritten</param>
    /// <param name="rstd">(N) 1/√(var + eps), overwritten</param>
    public static void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        int rows, int channels, float epsilon, Span<float> output, Span<float> mean, Span<float> rstd)
    {
        Check(input, weight, rows, channels, output, mean, rstd);
        if (bias.Length != channels) throw new ArgumentException($"bias has {bias.Length} elements, needs {channels}");
        for (int i = 0; i < rows; i++)
        {
            var x = input.Slice(i * channels, channels);
            var y = output.Slice(i * channels, channels);
            // two passes over a row that sits in L1: the mean first, then the centred sum of squares,
            // which is more accurate than E[x²] − E[x]² in float32
            float m = TensorPrimitives.Sum(x) / channels;
            float v = SumOfSquaredDeviations(x, m) / channels;
            float s = 1f / MathF.Sqrt(v + epsilon);
            Normalize(x, weight, bias, m, s, y);
            mean[i] = m;
            rstd[i] = s;
        }
    }

    /// <summary>Plain loops, the definition. Same contract as <see cref="Forward"/>.</summary>
    public static void ForwardReference(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        int rows, int channels, float epsilon, Span<float> output, Span<float> mean, Span<float> rstd)
    {
        Check(input, weight, rows, channels, output, mean, rstd);
        for (int i = 0; i < rows; i++)
        {
            int o = i * channels;
            double m = 0;
            for (int c = 0; c < channels; c++) m += input[o + c];
            m /= channels;
            double v = 0;
            for (int c = 0; c < channels; c++) { double d = input[o + c] - m; v += d * d; }
            v /= channels;
            double s = 1.0 / Math.Sqrt(v + epsilon);
            for (int c = 0; c < channels; c++)
                output[o + c] = (float)((input[o + c] - m) * s * weight[c] + bias[c]);
            mean[i] = (float)m;
            rstd[i] = (float)s;
        }
    }

    /// <summary>
    /// Fast backward. Gradients are ADDED to <paramref name="dInput"/>, <paramref name="dWeight"/> and
    /// <paramref name="dBias"/> (as in llm.c), so a residual stream can collect its branches in one buffer.
    /// With x̂ = (x − mean)·rstd and g = dy·weight: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)).
    /// </summary>
    /// <param name="dOutput">(N, C)</param>
    /// <param name="input">(N, C) the forward input</param>
    /// <param name="weight">(C)</param>
    /// <param name="mean">(N) from forward</param>
    /// <param name="rstd">(N) from forward</param>
    /// <param name="dInput">(N, C), accumulated</param>
    /// <param name="dWeight">(C), accumulated</param>
    /// <param name="dBias">(C), accumulated</param>
    public static void Backward(ReadOnlySpan<float> dOutput, ReadOnlySpan<float> input, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, int rows, int channels,
        Span<float> dInput, Span<float> dWeight, Span<float> dBias)
    {
        CheckBackward(dOutput, input, weight, mean, rstd, rows, channels, dInput, dWeight, dBias);
        for (int i = 0; i < rows; i++)
            BackwardRow(dOutput.Slice(i * channels, channels), input.Slice(i * channels, channels), weight,
                mean[i], rstd[i], dInput.Slice(i * channels, channels), dWeight, dBias);
    }

    /// <summary>Plain loops. Same contract as <see cref="Backward"/>.</summary>
    public static void BackwardReference(ReadOnlySpan<float> dOutput, ReadOnlySpan<float> input, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, int rows, int channels,
        Span<float> dInput, Span<float> dWeight, Span<float> dBias)
    {
        CheckBackward(dOutput, input, weight, mean, rstd, rows, channels, dInput, dWeight, dBias);
        for (int i = 0; i < rows; i++)
        {
            int o = i * channels;
            double m = mean[i], s = rstd[i];
            // the two row means that the normalization couples every input to
            double meanG = 0, meanGx = 0;
            for (int c = 0; c < channels; c++)
            {
                double xhat = (input[o + c] - m) * s;
                double g = dOutput[o + c] * weight[c];
                meanG += g;
                meanGx += g * xhat;
            }
            meanG /= channels;
            meanGx /= channels;
            for (int c = 0; c < channels; c++)
            {
                double xhat = (input[o + c] - m) * s;
                double g = dOutput[o + c] * weight[c];
                dBias[c] += dOutput[o + c];
                dWeight[c] += (float)(dOutput[o + c] * xhat);
                dInput[o + c] += (float)(s * (g - meanG - xhat * meanGx));
            }
        }
    }

    private static float SumOfSquaredDeviations(ReadOnlySpan<float> x, float m)
    {
        ref float px = ref Unsafe.AsRef(in x[0]);
        int n = x.Length, i = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var acc = Vector512<float>.Zero;
            var vm = Vector512.Create(m);
            for (; i <= n - 16; i += 16)
            {
                var d = Vector512.LoadUnsafe(ref px, (nuint)i) - vm;
                acc = Vector512.FusedMultiplyAdd(d, d, acc);
            }
            sum = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var acc = Vector256<float>.Zero;
            var vm = Vector256.Create(m);
            for (; i <= n - 8; i += 8)
            {
                var d = Vector256.LoadUnsafe(ref px, (nuint)i) - vm;
                acc += d * d;
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++) { float d = Unsafe.Add(ref px, i) - m; sum += d * d; }
        return sum;
    }

    private static void Normalize(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, float m, float s, Span<float> y)
    {
        int n = x.Length, i = 0;
        if (n == 0) return;
        ref float px = ref Unsafe.AsRef(in x[0]);
        ref float pw = ref Unsafe.AsRef(in w[0]);
        ref float pb = ref Unsafe.AsRef(in b[0]);
        ref float py = ref y[0];
        if (Vector512.IsHardwareAccelerated)
        {
            var vm = Vector512.Create(m); var vs = Vector512.Create(s);
            for (; i <= n - 16; i += 16)
            {
                var xh = (Vector512.LoadUnsafe(ref px, (nuint)i) - vm) * vs;
                Vector512.FusedMultiplyAdd(xh, Vector512.LoadUnsafe(ref pw, (nuint)i), Vector512.LoadUnsafe(ref pb, (nuint)i))
                    .StoreUnsafe(ref py, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var vm = Vector256.Create(m); var vs = Vector256.Create(s);
            for (; i <= n - 8; i += 8)
            {
                var xh = (Vector256.LoadUnsafe(ref px, (nuint)i) - vm) * vs;
                (xh * Vector256.LoadUnsafe(ref pw, (nuint)i) + Vector256.LoadUnsafe(ref pb, (nuint)i)).StoreUnsafe(ref py, (nuint)i);
            }
        }
        for (; i < n; i++) Unsafe.Add(ref py, i) = (Unsafe.Add(ref px, i) - m) * s * Unsafe.Add(ref pw, i) + Unsafe.Add(ref pb, i);
    }

    private static void BackwardRow(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> w, float m, float s,
        Span<float> dx, Span<float> dw, Span<float> db)
    {
        int n = x.Length, i = 0;
        if (n == 0) return;
        ref float pdy = ref Unsafe.AsRef(in dy[0]);
        ref float px = ref Unsafe.AsRef(in x[0]);
        ref float pw = ref Unsafe.AsRef(in w[0]);
        ref float pdx = ref dx[0];
        ref float pdw = ref dw[0];
        ref float pdb = ref db[0];
        float sumG = 0, sumGx = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vm = Vector512.Create(m); var vs = Vector512.Create(s);
            var accG = Vector512<float>.Zero; var accGx = Vector512<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var d = Vector512.LoadUnsafe(ref pdy, (nuint)i);
                var xh = (Vector512.LoadUnsafe(ref px, (nuint)i) - vm) * vs;
                var g = d * Vector512.LoadUnsafe(ref pw, (nuint)i);
                accG += g;
                accGx = Vector512.FusedMultiplyAdd(g, xh, accGx);
                (Vector512.LoadUnsafe(ref pdb, (nuint)i) + d).StoreUnsafe(ref pdb, (nuint)i);
                Vector512.FusedMultiplyAdd(d, xh, Vector512.LoadUnsafe(ref pdw, (nuint)i)).StoreUnsafe(ref pdw, (nuint)i);
            }
            sumG = Vector512.Sum(accG); sumGx = Vector512.Sum(accGx);
        }
        for (; i < n; i++)
        {
            float d = Unsafe.Add(ref pdy, i);
            float xh = (Unsafe.Add(ref px, i) - m) * s;
            float g = d * Unsafe.Add(ref pw, i);
            sumG += g; sumGx += g * xh;
            Unsafe.Add(ref pdb, i) += d;
            Unsafe.Add(ref pdw, i) += d * xh;
        }
        float meanG = sumG / n, meanGx = sumGx / n;
        i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vm = Vector512.Create(m); var vs = Vector512.Create(s);
            var vG = Vector512.Create(meanG); var vGx = Vector512.Create(meanGx);
            for (; i <= n - 16; i += 16)
            {
                var xh = (Vector512.LoadUnsafe(ref px, (nuint)i) - vm) * vs;
                var g = Vector512.LoadUnsafe(ref pdy, (nuint)i) * Vector512.LoadUnsafe(ref pw, (nuint)i);
                var t = g - vG - xh * vGx;
                Vector512.FusedMultiplyAdd(t, vs, Vector512.LoadUnsafe(ref pdx, (nuint)i)).StoreUnsafe(ref pdx, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float xh = (Unsafe.Add(ref px, i) - m) * s;
            float g = Unsafe.Add(ref pdy, i) * Unsafe.Add(ref pw, i);
            Unsafe.Add(ref pdx, i) += s * (g - meanG - xh * meanGx);
        }
    }

    private static void Check(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, int rows, int channels,
        Span<float> output, Span<float> mean, Span<float> rstd)
    {
        if (rows < 0 || channels <= 0) throw new ArgumentOutOfRangeException(nameof(rows), $"need rows ≥ 0 and channels > 0, got {rows}, {channels}");
        long n = (long)rows * channels;
        if (input.Length != n) throw new ArgumentException($"input has {input.Length} elements, (N, C) = ({rows}, {channels}) needs {n}");
        if (output.Length != n) throw new ArgumentException($"output has {output.Length} elements, needs {n}");
        if (weight.Length != channels) throw new ArgumentException($"weight has {weight.Length} elements, needs {channels}");
        if (mean.Length != rows || rstd.Length != rows) throw new ArgumentException($"mean and rstd need {rows} elements");
    }

    private static void CheckBackward(ReadOnlySpan<float> dOutput, ReadOnlySpan<float> input, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, int rows, int channels,
        Span<float> dInput, Span<float> dWeight, Span<float> dBias)
    {
        if (rows < 0 || channels <= 0) throw new ArgumentOutOfRangeException(nameof(rows), $"need rows ≥ 0 and channels > 0, got {rows}, {channels}");
        long n = (long)rows * channels;
        if (dOutput.Length != n || input.Length != n || dInput.Length != n)
            throw new ArgumentException($"dOutput, input and dInput need (N, C) = ({rows}, {channels}) elements");
        if (weight.Length != channels || dWeight.Length != channels || dBias.Length != channels)
            throw new ArgumentException($"weight, dWeight and dBias need {channels} elements");
        if (mean.Length != rows || rstd.Length != rows) throw new ArgumentException($"mean and rstd need {rows} elements");
    }
}
