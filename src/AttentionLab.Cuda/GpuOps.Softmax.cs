using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace AttentionLab.Cuda;

/// <summary>Row softmax and its backward, as <see cref="Ops.Softmax"/>: one group per row. A row of −∞ gives zeros.</summary>
public sealed partial class GpuOps
{
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int>? _softmax;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>? _softmaxBackward;

    /// <param name="x">(rows, cols) scores</param>
    /// <param name="y">(rows, cols) probabilities; may be x</param>
    public void SoftmaxForward(ArrayView<float> x, ArrayView<float> y, int rows, int cols)
    {
        _softmax ??= _accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int>(SoftmaxKernel);
        if (rows > 0 && cols > 0) _softmax(new KernelConfig(rows, RowThreads), x, y, cols);
    }

    /// <summary>dx = y ⊙ (dy − rowsum(dy ⊙ y)); dx may be dy.</summary>
    public void SoftmaxBackward(ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int rows, int cols)
    {
        _softmaxBackward ??= _accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(SoftmaxBackwardKernel);
        if (rows > 0 && cols > 0) _softmaxBackward(new KernelConfig(rows, RowThreads), y, dy, dx, cols);
    }

    private static void SoftmaxKernel(ArrayView<float> x, ArrayView<float> y, int cols)
    {
        var shared = SharedMemory.Allocate<float>(RowGroup);
        int t = Group.IdxX;
        long o = (long)Grid.IdxX * cols;
        // subtract the row maximum only for numerical stability: softmax is shift-invariant
        float max = float.NegativeInfinity;
        for (int j = t; j < cols; j += Group.DimX) max = XMath.Max(max, x[o + j]);
        max = GroupMax(shared, max);
        if (max == float.NegativeInfinity)
        {
            for (int j = t; j < cols; j += Group.DimX) y[o + j] = 0;
            return;
        }
        float sum = 0;
        for (int j = t; j < cols; j += Group.DimX) { float e = XMath.Exp(x[o + j] - max); y[o + j] = e; sum += e; }
        float inv = 1f / GroupSum(shared, sum);
        for (int j = t; j < cols; j += Group.DimX) y[o + j] *= inv;
    }

    private static void SoftmaxBackwardKernel(ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int cols)
    {
        var shared = SharedMemory.Allocate<float>(RowGroup);
        int t = Group.IdxX;
        long o = (long)Grid.IdxX * cols;
        float dot = 0;
        for (int j = t; j < cols; j += Group.DimX) dot += dy[o + j] * y[o + j];
        dot = GroupSum(shared, dot);
        for (int j = t; j < cols; j += Group.DimX) dx[o + j] = y[o + j] * (dy[o + j] - dot);
    }
}
