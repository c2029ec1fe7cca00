using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AttentionLab.Ops;

/// <summary>
/// Cross-entropy with PyTorch's <c>ignore_index</c>: <c>F.cross_entropy(logits, targets, ignore_index=-1)</c>.
/// Rows whose target is negative (padding, unmasked tokens in BERT's masked-LM) contribute no loss and get a zero
/// gradient; the mean is over the counted rows only, so a batch's padding does not dilute its loss.
/// </summary>
public static class CrossEntropyIgnoreIndex
{
    /// <param name="logits">(N, V)</param>
    /// <param name="targets">(N), each in [0, V) or negative (ignored)</param>
    /// <param name="vocab">V</param>
    /// <param name="logSumExp">(N) saved for <see cref="Backward"/>, overwritten (0 for ignored rows)</param>
    /// <returns>the mean loss over counted rows (0 when none counts) and how many rows counted</returns>
    public static (float Loss, int Count) Forward(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int vocab, Span<float> logSumExp)
    {
        Check(logits, targets, vocab, logSumExp.Length);
        double sum = 0;
        int count = 0;
        for (int i = 0; i < targets.Length; i++)
        {
            logSumExp[i] = 0;
            if (targets[i] < 0) continue;
            var row = logits.Slice(i * vocab, vocab);
            float lse = CrossEntropy.LogSumExp(row);
            logSumExp[i] = lse;
            sum += lse - row[targets[i]];
            count++;
        }
        return (count == 0 ? 0f : (float)(sum / count), count);
    }

    /// <summary><c>dLogits_i = (softmax(logits_i) − onehot(target_i)) / count</c> for counted rows, 0 for ignored ones.
    /// Overwrites <paramref name="dLogits"/>, which may be the same memory as <paramref name="logits"/>.</summary>
    /// <param name="logits">(N, V)</param>
    /// <param name="logSumExp">(N) from <see cref="Forward"/></param>
    /// <param name="targets">(N)</param>
    /// <param name="count">counted rows, from <see cref="Forward"/></param>
    /// <param name="dLogits">(N, V)</param>
    public static void Backward(ReadOnlySpan<float> logits, ReadOnlySpan<float> logSumExp, ReadOnlySpan<int> targets, int vocab, int count,
        Span<float> dLogits)
    {
        Check(logits, targets, vocab, logSumExp.Length);
        if (dLogits.Length != logits.Length) throw new ArgumentException($"dLogits needs {logits.Length} elements, got {dLogits.Length}");
        float scale = count == 0 ? 0f : 1f / count;
        for (int i = 0; i < targets.Length; i++)
        {
            var d = dLogits.Slice(i * vocab, vocab);
            if (targets[i] < 0) { d.Clear(); continue; }
            TensorPrimitives.Subtract(logits.Slice(i * vocab, vocab), logSumExp[i], d);
            TensorPrimitives.Exp(d, d);                                            // softmax = exp(logit − lse)
            TensorPrimitives.Multiply(d, scale, d);
            d[targets[i]] -= scale;
        }
    }

    private static void Check(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int vocab, int lseLength)
    {
        if (vocab <= 0) throw new ArgumentOutOfRangeException(nameof(vocab), $"vocab must be positive, got {vocab}");
        if (logits.Length != (long)targets.Length * vocab)
            throw new ArgumentException($"logits have {logits.Length} elements; (N, V) = ({targets.Length}, {vocab}) needs {(long)targets.Length * vocab}");
        if (lseLength != targets.Length) throw new ArgumentException($"logSumExp needs {targets.Length} elements, got {lseLength}");
        foreach (int t in targets)
            if (t >= vocab) throw new ArgumentOutOfRangeException(nameof(targets), $"target {t} is outside [0, {vocab})");
    }
}
