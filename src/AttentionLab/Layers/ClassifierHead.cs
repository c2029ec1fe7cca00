using AttentionLab.Hooks;
using AttentionLab.Models;
using AttentionLab.Ops;

namespace AttentionLab.Layers;

/// <summary>
/// ViT's head: classify each image from its [CLS] row alone.
/// <code>
/// h = ln_f(x)                               (B, T, C)   norm.*; ln_final.hook_normalized
/// cls = h[:, 0]                             (B, C)      row 0 of each image
/// logits = cls·W + b                        (B, K)      W (C, K) stored (in, out)
/// loss = mean cross_entropy(logits, labels) over the B images
/// </code>
/// Only the [CLS] rows get a gradient: dh is zero elsewhere, and ln_f's backward spreads nothing to the other rows.
/// The (B, C) class rows and the (B, K) logits are the caller's buffers; the logits become dLogits in backward.
/// </summary>
internal sealed class ClassifierHead(NormLayer finalNorm, ParameterView weight, ParameterView bias, int classes, int channels)
{
    public NormLayer FinalNorm { get; } = finalNorm;
    public ParameterView Weight { get; } = weight;
    public ParameterView Bias { get; } = bias;
    public int Classes { get; } = classes;

    /// <summary>The logits, and with labels the per-image losses (a.Losses, first B) and their mean (NaN without).</summary>
    /// <param name="residual">(B, T, C) the last block's output</param>
    /// <param name="classRows">(B, C), overwritten: the normalized [CLS] rows (kept for backward)</param>
    /// <param name="logits">(B, K), overwritten</param>
    /// <param name="labels">(B) class ids, or empty</param>
    public float Forward(LayerRun run, Slot residual, Span<float> classRows, Span<float> logits, ReadOnlySpan<int> labels, HookRun? hooks)
    {
        var a = run.Activations;
        int batch = a.Batch, t = a.Length, c = channels, k = Classes;
        FinalNorm.Forward(run, residual, a.FinalNorm, a.FinalNormMean, a.FinalNormRstd);            // (B, T, C)
        hooks?.Call(HookPoint.LnFinalNormalized, 0, run.Memory(a.FinalNorm), batch, t, c);
        using (run.Phase(DecoderPhase.LmHead))
        {
            var h = run[a.FinalNorm];
            for (int b = 0; b < batch; b++) h.Slice(b * t * c, c).CopyTo(classRows.Slice(b * c, c));  // (B, C)
            Ops.Bias.Fill(run[Bias], logits);
            run.Device.MatMul(classRows, run[Weight], logits, batch, k, c, accumulate: true);       // (B, K)
        }
        if (labels.IsEmpty) return float.NaN;
        using var _ = run.Phase(DecoderPhase.Loss);
        return CrossEntropy.Forward(logits, labels, k, run[a.Losses][..batch], run[a.LogSumExp][..batch]);
    }

    /// <summary>
    /// dlogits = (softmax − onehot)/B in place over <paramref name="logits"/>; dcls = dlogits·Wᵀ, dW += clsᵀ·dlogits,
    /// db += Σ dlogits; dh = dcls at row 0 of each image, 0 elsewhere; then ln_f's backward into a.DResidual (cleared first).
    /// </summary>
    /// <param name="residual">(B, T, C) the head's forward input</param>
    /// <param name="classRows">(B, C) the forward's normalized [CLS] rows</param>
    /// <param name="logits">(B, K) the forward's logits; dlogits afterwards</param>
    /// <param name="dClassRows">(B, C) scratch</param>
    public void Backward(LayerRun run, Slot residual, ReadOnlySpan<float> classRows, Span<float> logits, ReadOnlySpan<int> labels, Span<float> dClassRows)
    {
        var a = run.Activations;
        int batch = a.Batch, t = a.Length, c = channels, k = Classes;
        using (run.Phase(DecoderPhase.BackwardLossAndLmHead))
        {
            CrossEntropy.Backward(logits, run[a.LogSumExp][..batch], labels, k, 1f / batch, logits);
            run.Device.MatMul(logits, run[Weight], dClassRows, batch, c, k, transposeB: true);     // (B, C)
            run.Device.MatMul(classRows, logits, run.Gradient(Weight), c, k, batch, transposeA: true, accumulate: true);
            Ops.Bias.Backward(logits, run.Gradient(Bias));
            var dh = run[a.DNorm];                                                               // (B, T, C)
            dh.Clear();
            for (int b = 0; b < batch; b++) dClassRows.Slice(b * c, c).CopyTo(dh.Slice(b * t * c, c));
        }
        run[a.DResidual].Clear();
        FinalNorm.Backward(run, a.DNorm, residual, a.FinalNormMean, a.FinalNormRstd, a.DResidual);
    }
}
