using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace AttentionLab.Cuda;

/// <summary>Cross-entropy of next-token logits, as <see cref="Ops.CrossEntropy"/>: loss = logsumexp(row) − row[target];
/// backward (softmax − onehot)·dLoss in place. One group per row (V = 50257 for GPT-2).</summary>
public sealed partial class GpuOps
{
    private Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int>? _crossEntropy;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, float>? _crossEntropyBackward;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int>? _mean;

    /// <param name="logits">(N, V)</param>
    /// <param name="targets">(N)</param>
    /// <param name="losses">(N)</param>
    /// <param name="logSumExp">(N), saved for backward</param>
    public void CrossEntropyForward(ArrayView<float> logits, ArrayView<int> targets, int vocab, ArrayView<float> losses, ArrayView<float> logSumExp)
    {
        _crossEntropy ??= _accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int>(CrossEntropyKernel);
        if (targets.Length > 0) _crossEntropy(new KernelConfig((int)targets.Length, RowThreads), logits, targets, losses, logSumExp, vocab);
    }

    /// <summary>dLogits = (softmax(logits) − onehot(target))·dLoss, overwriting the logits.</summary>
    public void CrossEntropyBackward(ArrayView<float> logits, ArrayView<float> logSumExp, ArrayView<int> targets, int vocab, float dLoss)
    {
        _crossEntropyBackward ??= _accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, int, float>(CrossEntropyBackwardKernel);
        if (targets.Length > 0) _crossEntropyBackward(new KernelConfig((int)targets.Length, RowThreads), logits, logSumExp, targets, vocab, dLoss);
    }

    /// <summary>result[0] = mean of values (one group, fixed order).</summary>
    public void Mean(ArrayView<float> values, ArrayView<float> result)
    {
        _mean ??= _accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int>(MeanKernel);
        _mean(new KernelConfig(1, RowThreads), values, result, (int)values.Length);
    }

    private static void CrossEntropyKernel(ArrayView<float> logits, ArrayView<int> targets, ArrayView<float> losses, ArrayView<float> lse, int v)
    {
        var shared = SharedMemory.Allocate<float>(RowGroup);
        int row = Grid.IdxX, t = Group.IdxX;
        long o = (long)row * v;
        float max = float.NegativeInfinity;
        for (int j = t; j < v; j += Group.DimX) max = XMath.Max(max, logits[o + j]);
        max = GroupMax(shared, max);
        float sum = 0;
        for (int j = t; j < v; j += Group.DimX) sum += XMath.Exp(logits[o + j] - max);
        float l = max + XMath.Log(GroupSum(shared, sum));
        if (t == 0)
        {
            lse[row] = l;
            losses[row] = l - logits[o + targets[row]];
        }
    }

    private static void CrossEntropyBackwardKernel(ArrayView<float> logits, ArrayView<float> lse, ArrayView<int> targets, int v, float dLoss)
    {
        int row = Grid.IdxX, t = Group.IdxX;
        long o = (long)row * v;
        float l = lse[row];
        int target = targets[row];
        for (int j = t; j < v; j += Group.DimX)
            logits[o + j] = (XMath.Exp(logits[o + j] - l) - (j == target ? 1f : 0f)) * dLoss;
    }

    private static void MeanKernel(ArrayView<float> values, ArrayView<float> result, int n)
    {
        var shared = SharedMemory.Allocate<float>(RowGroup);
        float sum = 0;
        for (int i = Group.IdxX; i < n; i += Group.DimX) sum += values[i];
        sum = GroupSum(shared, sum);
        if (Group.IdxX == 0) result[0] = sum / n;
    }
}
