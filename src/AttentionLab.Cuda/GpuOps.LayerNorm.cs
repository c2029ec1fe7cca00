using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace AttentionLab.Cuda;

/// <summary>LayerNorm over the last dimension, as <see cref="Ops.LayerNorm"/>: one group per row, the two row means
/// reduced in shared memory; the weight and bias gradients one thread per column (fixed order, no atomics).</summary>
public sealed partial class GpuOps
{
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>? _normForward;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>? _normBackward;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>? _normParameterBackward;

    /// <param name="input">(N, C)</param>
    /// <param name="weight">(C)</param>
    /// <param name="bias">(C)</param>
    /// <param name="output">(N, C)</param>
    /// <param name="mean">(N), saved for backward</param>
    /// <param name="rstd">(N) 1/√(var + eps), saved for backward</param>
    public void LayerNormForward(ArrayView<float> input, ArrayView<float> weight, ArrayView<float> bias, int rows, int channels, float epsilon,
        ArrayView<float> output, ArrayView<float> mean, ArrayView<float> rstd)
    {
        _normForward ??= _accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(LayerNormForwardKernel);
        if (rows > 0) _normForward(new KernelConfig(rows, RowThreads), input, weight, bias, output, mean, rstd, channels, epsilon);
    }

    /// <summary>Gradients ADDED to dInput, dWeight and dBias (as <see cref="Ops.LayerNorm.Backward"/>).</summary>
    /// <param name="dOutput">(N, C)</param>
    /// <param name="input">(N, C) the forward input</param>
    /// <param name="dInput">(N, C), accumulated</param>
    /// <param name="dWeight">(C), accumulated</param>
    /// <param name="dBias">(C), accumulated</param>
    public void LayerNormBackward(ArrayView<float> dOutput, ArrayView<float> input, ArrayView<float> weight,
        ArrayView<float> mean, ArrayView<float> rstd, int rows, int channels,
        ArrayView<float> dInput, ArrayView<float> dWeight, ArrayView<float> dBias)
    {
        _normBackward ??= _accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(LayerNormBackwardKernel);
        _normParameterBackward ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(LayerNormParameterBackwardKernel);
        if (rows == 0) return;
        _normBackward(new KernelConfig(rows, RowThreads), dOutput, input, weight, mean, rstd, dInput, channels);
        _normParameterBackward(channels, dOutput, input, mean, rstd, dWeight, dBias, rows);
    }

    private static void LayerNormForwardKernel(ArrayView<float> x, ArrayView<float> w, ArrayView<float> b, ArrayView<float> y,
        ArrayView<float> mean, ArrayView<float> rstd, int c, float eps)
    {
        var shared = SharedMemory.Allocate<float>(RowGroup);
        int row = Grid.IdxX, t = Group.IdxX;
        long o = (long)row * c;
        float sum = 0;
        for (int j = t; j < c; j += Group.DimX) sum += x[o + j];
        float m = GroupSum(shared, sum) / c;
        // the centred sum of squares, more accurate than E[x²] − E[x]² in float32
        float squares = 0;
        for (int j = t; j < c; j += Group.DimX) { float d = x[o + j] - m; squares += d * d; }
        float s = XMath.Rsqrt(GroupSum(shared, squares) / c + eps);
        for (int j = t; j < c; j += Group.DimX) y[o + j] = (x[o + j] - m) * s * w[j] + b[j];
        if (t == 0) { mean[row] = m; rstd[row] = s; }
    }

    private static void LayerNormBackwardKernel(ArrayView<float> dy, ArrayView<float> x, ArrayView<float> w,
        ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> dx, int c)
    {
        var shared = SharedMemory.Allocate<float>(RowGroup);
        int row = Grid.IdxX, t = Group.IdxX;
        long o = (long)row * c;
        float m = mean[row], s = rstd[row];
        // with x̂ = (x − mean)·rstd and g = dy·weight: dx = rstd·(g − mean(g) − x̂·mean(g·x̂))
        float sumG = 0, sumGx = 0;
        for (int j = t; j < c; j += Group.DimX)
        {
            float g = dy[o + j] * w[j];
            sumG += g;
            sumGx += g * (x[o + j] - m) * s;
        }
        float meanG = GroupSum(shared, sumG) / c;
        float meanGx = GroupSum(shared, sumGx) / c;
        for (int j = t; j < c; j += Group.DimX)
        {
            float xhat = (x[o + j] - m) * s;
            dx[o + j] += s * (dy[o + j] * w[j] - meanG - xhat * meanGx);
        }
    }

    private static void LayerNormParameterBackwardKernel(Index1D j, ArrayView<float> dy, ArrayView<float> x,
        ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> dw, ArrayView<float> db, int rows)
    {
        int c = (int)dw.Length;
        float sumW = 0, sumB = 0;
        for (int r = 0; r < rows; r++)
        {
            long o = (long)r * c + j;
            sumB += dy[o];
            sumW += dy[o] * (x[o] - mean[r]) * rstd[r];
        }
        dw[j] += sumW;
        db[j] += sumB;
    }
}
