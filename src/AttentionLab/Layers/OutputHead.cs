using AttentionLab.Hooks;
using AttentionLab.Models;
using AttentionLab.Ops;

namespace AttentionLab.Layers;

/// <summary>
/// The residual stream to token logits and the loss:
/// <code>
/// h = ln_f(x)                         (N, C)   ln_final.hook_normalized (no final norm: h = x)
/// logits = h·Wᵀ + b                   (N, V)   W = wte (tied, GPT-2) or its own (V, C) matrix (BERT's MLM head);
///                                              b only where the config has an output bias
/// loss = mean cross_entropy(logits, targets)   over the positions whose target is not negative (−1: not scored,
///                                              PyTorch's ignore_index, e.g. BERT's unmasked tokens)
/// </code>
/// With every target scored the arithmetic is GPT-2's: the loss is the mean over all N positions.
/// </summary>
internal sealed class OutputHead(NormLayer? finalNorm, ParameterView unembedding, ParameterView? bias, int vocab, int channels)
{
    public NormLayer? FinalNorm { get; } = finalNorm;
    public ParameterView Unembedding { get; } = unembedding;
    public ParameterView? Bias { get; } = bias;
    private int _counted;   // positions the last forward scored

    /// <summary>Logits into a.Logits; with targets the per-position losses and their mean (NaN without).</summary>
    /// <param name="residual">(N, C) the stream the head reads</param>
    public float Forward(LayerRun run, Slot residual, bool hasTargets, HookRun? hooks)
    {
        var a = run.Activations;
        int n = run.Rows, c = channels, v = vocab;
        Slot normalized = residual;
        if (FinalNorm is not null)
        {
            FinalNorm.Forward(run, residual, a.FinalNorm, a.FinalNormMean, a.FinalNormRstd);
            normalized = a.FinalNorm;
            if (hooks is not null && hooks.Wants(HookPoint.LnFinalScale)) CallScale(run, hooks);
            hooks?.Call(HookPoint.LnFinalNormalized, 0, run.Memory(a.FinalNorm), a.Batch, a.Length, c);
        }
        using (run.Phase(DecoderPhase.LmHead))
        {
            if (Bias is { } b)
            {
                Ops.Bias.Fill(run[b], run[a.Logits]);
                run.MultiplyByWeight(run[normalized], Unembedding, run[a.Logits], n, v, c, transposeWeight: true, accumulate: true);
            }
            else run.MultiplyByWeight(run[normalized], Unembedding, run[a.Logits], n, v, c, transposeWeight: true);
        }
        if (!hasTargets) return float.NaN;
        using var _ = run.Phase(DecoderPhase.Loss);
        var data = a.Data;
        Slot logits = a.Logits, losses = a.Losses, lse = a.LogSumExp;
        var targets = a.Targets;
        if (targets.AsSpan(0, n).IndexOfAnyInRange(int.MinValue, -1) >= 0)
        {
            // some positions are not scored: the ignore-index loss, mean over the scored ones
            (float loss, _counted) = CrossEntropyIgnoreIndex.Forward(run[logits], targets.AsSpan(0, n), v, run[lse]);
            Span<float> perPosition = run[losses], rowLse = run[lse], z = run[logits];           // (N), (N), (N, V)
            for (int i = 0; i < n; i++) perPosition[i] = targets[i] < 0 ? 0f : rowLse[i] - z[i * v + targets[i]];
            return loss;
        }
        _counted = n;
        ParallelRows.For(n, (long)n * v, run.ParallelMinimumWork, (start, count) =>
            CrossEntropy.Forward(data.AsSpan(logits.Offset + start * v, count * v), targets.AsSpan(start, count), v,
                data.AsSpan(losses.Offset + start, count), data.AsSpan(lse.Offset + start, count)));
        double total = 0;
        foreach (float x in a[a.Losses]) total += x;
        return (float)(total / n);
    }

    /// <summary><c>ln_final.hook_scale</c> (B, T, 1): the divisor the final norm used, 1/rstd per row. Read-only: the
    /// normalized stream is already computed, so an editor could not change it.</summary>
    private static void CallScale(LayerRun run, HookRun hooks)
    {
        if (hooks.Edits(HookPoint.LnFinalScale))
            throw new InvalidOperationException("ln_final.hook_scale can be read, not edited");
        var a = run.Activations;
        var scale = new float[run.Rows];                                                   // (N)
        var rstd = run[a.FinalNormRstd];
        for (int i = 0; i < scale.Length; i++) scale[i] = 1f / rstd[i];
        hooks.Call(HookPoint.LnFinalScale, 0, scale, a.Batch, a.Length, 1);
    }

    /// <summary>Any rows of a residual stream through the final norm and the unembedding, as the forward's last step
    /// would map them (the logit lens). On one call's memory, not the activation arena.</summary>
    /// <param name="residual">(N, C)</param>
    /// <param name="logits">(N, V), overwritten</param>
    public void Unembed(float[] parameters, Kernels.ComputeDevice device, ReadOnlySpan<float> residual, int rows, Span<float> logits)
    {
        int c = channels, v = vocab;
        ReadOnlySpan<float> normalized = residual;
        if (FinalNorm is not null)
        {
            var h = new float[rows * c];                                                   // (N, C)
            FinalNorm.Apply(parameters, residual, rows, h);
            normalized = h;
        }
        var w = parameters.AsSpan(Unembedding.Offset, Unembedding.Length);                 // (V, C)
        if (Bias is { } b)
        {
            Ops.Bias.Fill(parameters.AsSpan(b.Offset, b.Length), logits[..(rows * v)]);
            device.MatMul(normalized, w, logits, rows, v, c, transposeB: true, accumulate: true);
        }
        else device.MatMul(normalized, w, logits, rows, v, c, transposeB: true);
    }

    /// <summary>
    /// dlogits = (softmax − onehot)/count in place over the logits (0 for unscored positions); then dh = dlogits·W
    /// and dW (+)= dlogitsᵀ·h (and db += Σ dlogits) side by side; then ln_f's backward into dResidual (cleared first).
    /// </summary>
    /// <param name="residual">(N, C) the head's forward input</param>
    public void Backward(LayerRun run, Slot residual, bool accumulate)
    {
        var a = run.Activations;
        int n = run.Rows, c = channels, v = vocab;
        Slot normalized = FinalNorm is null ? residual : a.FinalNorm;
        Slot dNormalized = FinalNorm is null ? a.DResidual : a.DNorm;
        using (run.Phase(DecoderPhase.BackwardLossAndLmHead))
        {
            var data = a.Data;
            Slot logits = a.Logits, lse = a.LogSumExp;
            var targets = a.Targets;
            if (_counted != n)
                CrossEntropyIgnoreIndex.Backward(run[logits], run[lse], targets.AsSpan(0, n), v, _counted, run[logits]);
            else
            {
                float dLoss = 1f / n;
                ParallelRows.For(n, (long)n * v, run.ParallelMinimumWork, (start, count) =>
                {
                    var rows = data.AsSpan(logits.Offset + start * v, count * v);
                    CrossEntropy.Backward(rows, data.AsSpan(lse.Offset + start, count), targets.AsSpan(start, count), v, dLoss, rows);
                });
            }
            var p = run.Parameters; var g = run.Gradients!;
            var w = Unembedding;
            var bias = Bias;
            var device = run.Device;
            LayerRun.SideBySide(
                threads => device.MatMul(data.AsSpan(logits.Offset, n * v), p.AsSpan(w.Offset, w.Length),
                    data.AsSpan(dNormalized.Offset, n * c), n, c, v, maxThreads: threads),
                threads =>
                {
                    device.MatMul(data.AsSpan(logits.Offset, n * v), data.AsSpan(normalized.Offset, n * c),
                        g.AsSpan(w.Offset, w.Length), v, c, n, transposeA: true, accumulate: accumulate, maxThreads: threads);
                    if (bias is { } b) Ops.Bias.Backward(data.AsSpan(logits.Offset, n * v), g.AsSpan(b.Offset, b.Length));
                });
        }
        if (FinalNorm is null) return;                                                    // dResidual = dh already
        run[a.DResidual].Clear();
        FinalNorm.Backward(run, a.DNorm, residual, a.FinalNormMean, a.FinalNormRstd, a.DResidual);
    }
}
