using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AttentionLab.Ops;

/// <summary>
/// Cross-entropy of logits against integer targets, <c>torch.nn.functional.cross_entropy</c> with mean reduction:
/// <c>loss_i = logsumexp(logits_i) − logits_i[target_i]</c>, loss = mean over the N = B·T positions.
/// The row maximum is subtracted before exponentiating only for numerical stability (it cancels).
/// </summary>
public static class CrossEntropy
{
    /// <summary>Fast forward: per-position losses and their mean.</summary>
    /// <param name="logits">(N, V)</param>
    /// <param name="targets">(N), each in [0, V)</param>
    /// <param name="vocab">V</param>
    /// <param name="losses">(N), overwritten</param>
    /// <param name="logSumExp">(N) saved for <see cref="Backward"/>, or empty</param>
    /// <returns>the mean loss</returns>
    public static float Forward(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int vocab, Span<float> losses, Span<float> logSumExp)
    {
        Check(logits, targets, vocab, losses, logSumExp);
        double total = 0;
        for (int i = 0; i < targets.Length; i++)
        {
            var row = logits.Slice(i * vocab, vocab);
            float lse = LogSumExp(row);
            if (!logSumExp.IsEmpty) logSumExp[i] = lse;
            losses[i] = lse - row[targets[i]];
            total += losses[i];
        }
        return targets.Length == 0 ? float.NaN : (float)(total / targets.Length);
    }

    /// <summary>Plain loops in float64. Same contract as <see cref="Forward"/>.</summary>
    public static float ForwardReference(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int vocab, Span<float> losses, Span<float> logSumExp)
    {
        Check(logits, targets, vocab, losses, logSumExp);
        double total = 0;
        for (int i = 0; i < targets.Length; i++)
        {
            int o = i * vocab;
            double max = double.NegativeInfinity;
            for (int j = 0; j < vocab; j++) max = Math.Max(max, logits[o + j]);
            double sum = 0;
            for (int j = 0; j < vocab; j++) sum += Math.Exp(logits[o + j] - max);
            double lse = max + Math.Log(sum);
            if (!logSumExp.IsEmpty) logSumExp[i] = (float)lse;
            losses[i] = (float)(lse - logits[o + targets[i]]);
            total += lse - logits[o + targets[i]];
        }
        return targets.Length == 0 ? float.NaN : (float)(total / targets.Length);
    }

    /// <summary>
    /// Fast backward: <c>dLogits_i = (softmax(logits_i) − onehot(target_i)) · dLoss</c>, overwritten.
    /// For the mean loss dLoss = 1/N. <paramref name="dLogits"/> may be the same memory as <paramref name="logits"/>
    /// (in place: every element is read before it is written).
    /// </summary>
    /// <param name="logits">(N, V)</param>
    /// <param name="logSumExp">(N) from <see cref="Forward"/></param>
    /// <param name="targets">(N)</param>
    /// <param name="dLoss">gradient of the loss with respect to each position's loss</param>
    /// <param name="dLogits">(N, V)</param>
    public static void Backward(ReadOnlySpan<float> logits, ReadOnlySpan<float> logSumExp, ReadOnlySpan<int> targets, int vocab,
        float dLoss, Span<float> dLogits)
    {
        CheckBackward(logits, logSumExp, targets, vocab, dLogits);
        for (int i = 0; i < targets.Length; i++)
        {
            SoftmaxScaled(logits.Slice(i * vocab, vocab), logSumExp[i], dLoss, dLogits.Slice(i * vocab, vocab));
            dLogits[i * vocab + targets[i]] -= dLoss;
        }
    }

    /// <summary>Plain loops. Same contract as <see cref="Backward"/>.</summary>
    public static void BackwardReference(ReadOnlySpan<float> logits, ReadOnlySpan<float> logSumExp, ReadOnlySpan<int> targets, int vocab,
        float dLoss, Span<float> dLogits)
    {
        CheckBackward(logits, logSumExp, targets, vocab, dLogits);
        for (int i = 0; i < targets.Length; i++)
        {
            int o = i * vocab;
            for (int j = 0; j < vocab; j++)
            {
                double p = Math.Exp(logits[o + j] - (double)logSumExp[i]);
                dLogits[o + j] = (float)((p - (j == targets[i] ? 1 : 0)) * dLoss);
            }
        }
    }

    /// <summary>log Σ exp(row), stable.</summary>
    public static float LogSumExp(ReadOnlySpan<float> row)
    {
        float max = TensorPrimitives.Max(row);
        int n = row.Length, i = 0;
        ref float p = ref Unsafe.AsRef(in row[0]);
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var vm = Vector512.Create(max);
            var acc = Vector512<float>.Zero;
            for (; i <= n - 16; i += 16) acc += Vector512.Exp(Vector512.LoadUnsafe(ref p, (nuint)i) - vm);
            sum = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var vm = Vector256.Create(max);
            var acc = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8) acc += Vector256.Exp(Vector256.LoadUnsafe(ref p, (nuint)i) - vm);
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++) sum += MathF.Exp(Unsafe.Add(ref p, i) - max);
        return max + MathF.Log(sum);
    }

    private static void SoftmaxScaled(ReadOnlySpan<float> row, float lse, float scale, Span<float> output)
    {
        int n = row.Length, i = 0;
        ref float p = ref Unsafe.AsRef(in row[0]);
        ref float q = ref output[0];
        if (Vector512.IsHardwareAccelerated)
        {
            var vl = Vector512.Create(lse); var vs = Vector512.Create(scale);
            for (; i <= n - 16; i += 16) (Vector512.Exp(Vector512.LoadUnsafe(ref p, (nuint)i) - vl) * vs).StoreUnsafe(ref q, (nuint)i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var vl = Vector256.Create(lse); var vs = Vector256.Create(scale);
            for (; i <= n - 8; i += 8) (Vector256.Exp(Vector256.LoadUnsafe(ref p, (nuint)i) - vl) * vs).StoreUnsafe(ref q, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref q, i) = MathF.Exp(Unsafe.Add(ref p, i) - lse) * scale;
    }

    private static void Check(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int vocab, Span<float> losses, Span<float> logSumExp)
    {
        if (vocab <= 0) throw new ArgumentOutOfRangeException(nameof(vocab), "vocab must be positive");
        if (logits.Length != (long)targets.Length * vocab)
            throw new ArgumentException($"logits has {logits.Length} elements, (N, V) = ({targets.Length}, {vocab}) needs {(long)targets.Length * vocab}");
        if (losses.Length != targets.Length) throw new ArgumentException($"losses needs {targets.Length} elements, has {losses.Length}");
        if (!logSumExp.IsEmpty && logSumExp.Length != targets.Length) throw new ArgumentException($"logSumExp needs {targets.Length} elements");
        CheckTargets(targets, vocab);
    }

    private static void CheckBackward(ReadOnlySpan<float> logits, ReadOnlySpan<float> logSumExp, ReadOnlySpan<int> targets, int vocab, Span<float> dLogits)
    {
        if (vocab <= 0) throw new ArgumentOutOfRangeException(nameof(vocab), "vocab must be positive");
        long n = (long)targets.Length * vocab;
        if (logits.Length != n || dLogits.Length != n) throw new ArgumentException($"logits and dLogits need (N, V) = ({targets.Length}, {vocab}) elements");
        if (logSumExp.Length != targets.Length) throw new ArgumentException($"logSumExp needs {targets.Length} elements");
        CheckTargets(targets, vocab);
    }

    private static void CheckTargets(ReadOnlySpan<int> targets, int vocab)
    {
        foreach (int t in targets)
            if ((uint)t >= (uint)vocab) throw new ArgumentOutOfRangeException(nameof(targets), $"target {t} is outside [0, {vocab})");
    }
}
