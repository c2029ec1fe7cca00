using AttentionLab.Hooks;
using AttentionLab.Models;
using AttentionLab.Ops;

namespace AttentionLab.Layers;

/// <summary>
/// The residual stream to next-token logits and the loss:
/// <code>
/// h = ln_f(x)                         (N, C)   ln_final.hook_normalized
/// logits = h·Wᵀ                       (N, V)   W = wte (tied, GPT-2) — the unembedding
/// loss = mean cross_entropy(logits, targets)
/// </code>
/// </summary>
internal sealed class OutputHead(NormLayer finalNorm, ParameterView unembedding, int vocab, int channels)
{
    public NormLayer FinalNorm { get; } = finalNorm;
    public ParameterView Unembedding { get; } = unembedding;

    /// <summary>Logits into a.Logits; with targets the per-position losses and their mean (NaN without).</summary>
    public float Forward(LayerRun run, Slot residual, bool hasTargets, HookRun? hooks)
    {
        var a = run.Activations;
        int n = run.Rows, c = channels, v = vocab;
        FinalNorm.Forward(run, residual, a.FinalNorm, a.FinalNormMean, a.FinalNormRstd);
        hooks?.Call(HookPoint.LnFinalNormalized, 0, run.Memory(a.FinalNorm), a.Batch, a.Length, c);
        using (run.Phase(Gpt2Phase.LmHead))
            run.Device.MatMul(run[a.FinalNorm], run[Unembedding], run[a.Logits], n, v, c, transposeB: true);
        if (!hasTargets) return float.NaN;
        using var _ = run.Phase(Gpt2Phase.Loss);
        var data = a.Data;
        Slot logits = a.Logits, losses = a.Losses, lse = a.LogSumExp;
        var targets = a.Targets;
        ParallelRows.For(n, (long)n * v, run.ParallelMinimumWork, (start, count) =>
            CrossEntropy.Forward(data.AsSpan(logits.Offset + start * v, count * v), targets.AsSpan(start, count), v,
                data.AsSpan(losses.Offset + start, count), data.AsSpan(lse.Offset + start, count)));
        double total = 0;
        foreach (float x in a[a.Losses]) total += x;
        return (float)(total / n);
    }

    /// <summary>
    /// dlogits = (softmax − onehot)/N in place over the logits; then dln_f = dlogits·W and dW (+)= dlogitsᵀ·ln_f side
    /// by side; then ln_f's backward into dResidual (cleared first).
    /// </summary>
    /// <param name="residual">(N, C) ln_f's forward input</param>
    public void Backward(LayerRun run, Slot residual, bool accumulate)
    {
        var a = run.Activations;
        int n = run.Rows, c = channels, v = vocab;
        using (run.Phase(Gpt2Phase.BackwardLossAndLmHead))
        {
            var data = a.Data;
            Slot logits = a.Logits, lse = a.LogSumExp, dNorm = a.DNorm, finalNorm = a.FinalNorm;
            var targets = a.Targets;
            float dLoss = 1f / n;
            ParallelRows.For(n, (long)n * v, run.ParallelMinimumWork, (start, count) =>
            {
                var rows = data.AsSpan(logits.Offset + start * v, count * v);
                CrossEntropy.Backward(rows, data.AsSpan(lse.Offset + start, count), targets.AsSpan(start, count), v, dLoss, rows);
            });
            var p = run.Parameters; var g = run.Gradients!;
            var w = Unembedding;
            var device = run.Device;
            LayerRun.SideBySide(
                threads => device.MatMul(data.AsSpan(logits.Offset, n * v), p.AsSpan(w.Offset, w.Length),
                    data.AsSpan(dNorm.Offset, n * c), n, c, v, maxThreads: threads),
                threads => device.MatMul(data.AsSpan(logits.Offset, n * v), data.AsSpan(finalNorm.Offset, n * c),
                    g.AsSpan(w.Offset, w.Length), v, c, n, transposeA: true, accumulate: accumulate, maxThreads: threads));
        }
        run[a.DResidual].Clear();
        FinalNorm.Backward(run, a.DNorm, residual, a.FinalNormMean, a.FinalNormRstd, a.DResidual);
    }
}
