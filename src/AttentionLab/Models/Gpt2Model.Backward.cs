using System.Diagnostics;
using AttentionLab.Attention;
using AttentionLab.Kernels;
using AttentionLab.Ops;

namespace AttentionLab.Models;

/// <summary>GPT-2 backward pass: the forward in reverse, each layer's backward formula in docs/gpt2.md.</summary>
public sealed partial class Gpt2Model
{
    /// <summary>
    /// Back-propagates the mean loss of the last <see cref="Forward"/> (which must have had targets). By default ADDS
    /// the gradients to <see cref="Gradients"/> (PyTorch semantics: call <see cref="ZeroGrad"/> first unless
    /// accumulating micro-batches). With <paramref name="accumulate"/> false it OVERWRITES them instead, so no
    /// ZeroGrad is needed and the weight-gradient GEMMs write without reading (about 1 GB less memory traffic per
    /// GPT-2 124M step). The logits buffer is reused for dLogits, so <see cref="Logits"/> is unavailable afterwards.
    /// </summary>
    /// <param name="accumulate">true: gradients += this batch's; false: gradients = this batch's</param>
    public void Backward(bool accumulate = true)
    {
        if (!IsTraining) throw new InvalidOperationException("this model was built for inference: it has no backward pass");
        if (_acts is null || !_hasTargets || !_acts.IsTraining) throw new InvalidOperationException("Backward needs a Forward with targets first");
        if (_logitsConsumed) throw new InvalidOperationException("Backward was already called for this Forward");
        var a = _acts;
        var cfg = Config;
        var p = Parameters; var g = Gradients;
        int batch = a.Batch, length = a.Length, n = batch * length;
        int c = cfg.Channels, v = cfg.VocabSize, h = cfg.Heads, d = cfg.HeadDim;
        var timer = Timer;
        long t0 = timer is null ? 0 : Stopwatch.GetTimestamp();

        if (!accumulate) ClearGradientsNotWrittenByGemm();

        // dlogits = (softmax − onehot)/N, in place over the logits
        var data = a.Data;
        var logitsSlot = a.Logits; var lseSlot = a.LogSumExp; var targetsArray = a.Targets;
        float dLoss = 1f / n;
        ParallelRows.For(n, (long)n * v, ParallelMinimumWork, (start, count) =>
        {
            var rows = data.AsSpan(logitsSlot.Offset + start * v, count * v);
            CrossEntropy.Backward(rows, data.AsSpan(lseSlot.Offset + start, count), targetsArray.AsSpan(start, count), v, dLoss, rows);
        });
        _logitsConsumed = true;
        // dln_f = dlogits · wte and dwte (+)= dlogitsᵀ · ln_f, side by side
        var pData = p.Data; var gData = g.Data;
        var wte = Layout.TokenEmbedding; var dNormSlot = a.DNorm; var finalNorm = a.FinalNorm;
        SideBySide(
            threads => Device.MatMul(data.AsSpan(logitsSlot.Offset, n * v), pData.AsSpan(wte.Offset, wte.Length),
                data.AsSpan(dNormSlot.Offset, n * c), n, c, v, maxThreads: threads),
            threads => Device.MatMul(data.AsSpan(logitsSlot.Offset, n * v), data.AsSpan(finalNorm.Offset, n * c),
                gData.AsSpan(wte.Offset, wte.Length), v, c, n, transposeA: true, accumulate: accumulate, maxThreads: threads));
        if (timer is not null) t0 = timer.Lap(Gpt2Phase.BackwardLossAndLmHead, t0);

        var dResidual = a[a.DResidual];
        dResidual.Clear();
        var lastResidual = cfg.Layers > 0 ? a.Blocks[^1].Residual3 : a.Encoded;
        NormBackward(a, a.DNorm, lastResidual, Layout.FinalNormWeight, Layout.FinalNormBias, a.FinalNormMean, a.FinalNormRstd, n, a.DResidual);
        if (timer is not null) t0 = timer.Lap(Gpt2Phase.BackwardLayerNorm, t0);

        var shape = new AttentionShape(batch, h, length, length, d);
        var options = AttentionOptions;
        for (int l = cfg.Layers - 1; l >= 0; l--)
        {
            var w = Layout.Blocks[l];
            var s = a.Blocks[l];
            var residualIn = l == 0 ? a.Encoded : a.Blocks[l - 1].Residual3;
            // dResidual holds dLoss/dResidual3 (the block's output); every branch adds its input gradient to it.

            // MLP: residual3 = residual2 + gelu(ln_2 · W_fc + b_fc) · W_fcproj + b_fcproj
            LinearBackward(a, a.DResidual, s.FcGelu, w.MlpProjectionWeight, w.MlpProjectionBias, a.DFc, n, 4 * c, c, accumulate);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.BackwardMatmul, t0);
            GeluBackward(a, s.Fc, a.DFc, n, 4 * c);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.BackwardGelu, t0);
            LinearBackward(a, a.DFc, s.Norm2, w.MlpWeight, w.MlpBias, a.DNorm, n, c, 4 * c, accumulate);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.BackwardMatmul, t0);
            NormBackward(a, a.DNorm, s.Residual2, w.Norm2Weight, w.Norm2Bias, s.Norm2Mean, s.Norm2Rstd, n, a.DResidual);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.BackwardLayerNorm, t0);

            // attention: residual2 = residual + merge(attention(split(ln_1 · W_attn + b_attn))) · W_proj + b_proj
            LinearBackward(a, a.DResidual, s.AttentionMerged, w.AttentionProjectionWeight, w.AttentionProjectionBias, a.DMerged, n, c, c, accumulate);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.BackwardMatmul, t0);
            SplitHeads(a[a.DMerged], batch, length, h, d, a[a.DAttention]);
            GateHeads(a[a.DAttention], l, batch, length);          // d(gate·o)/do = gate
            Attention.Backward(a[s.Q], a[s.K], a[s.V], a[s.AttentionOutput], a[s.AttentionSaved], a[a.DAttention], shape, options,
                a[a.DQ], a[a.DK], a[a.DV]);
            MergeHeads(a[a.DQ], a[a.DK], a[a.DV], batch, length, h, d, a[a.DQkv]);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.BackwardAttention, t0);
            LinearBackward(a, a.DQkv, s.Norm1, w.AttentionWeight, w.AttentionBias, a.DNorm, n, c, 3 * c, accumulate);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.BackwardMatmul, t0);
            NormBackward(a, a.DNorm, residualIn, w.Norm1Weight, w.Norm1Bias, s.Norm1Mean, s.Norm1Rstd, n, a.DResidual);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.BackwardLayerNorm, t0);
        }

        // embeddings: dwte[token] += dx (scatter-add), dwpe[t] += Σ_b dx[b, t] (fixed or no positions: nothing to learn)
        Embedding.Backward(dResidual, a.Tokens, c, g[Layout.TokenEmbedding]);
        if (cfg.Positions == PositionEncoding.Learned)
        {
            var dwpe = g[Layout.PositionEmbedding].Slice(0, length * c);
            for (int b = 0; b < batch; b++)
                System.Numerics.Tensors.TensorPrimitives.Add(dwpe, dResidual.Slice(b * length * c, length * c), dwpe);
        }
        if (timer is not null) timer.Lap(Gpt2Phase.BackwardOther, t0);
    }

    /// <summary>
    /// The backward pass of <c>y = x·W + b</c> (W stored (in, out)): dX = dY·Wᵀ on one half of the cores while
    /// dW (+)= Xᵀ·dY and db += Σ dY run on the other. The two products have the same flops and touch different
    /// outputs, and two single-core GEMMs side by side beat two two-core GEMMs in a row: no fork/join inside each,
    /// no core waiting at a join for the other (measured on 2 cores, notes in docs/gpt2.md).
    /// </summary>
    /// <param name="dOutput">(N, out)</param>
    /// <param name="input">(N, in) the forward input x</param>
    /// <param name="dInput">(N, in), overwritten</param>
    private void LinearBackward(Gpt2Activations a, Slot dOutput, Slot input, ParameterView weight, ParameterView bias,
        Slot dInput, int n, int inFeatures, int outFeatures, bool accumulate)
    {
        var data = a.Data; var p = Parameters.Data; var g = Gradients.Data;
        SideBySide(
            threads => Device.MatMul(data.AsSpan(dOutput.Offset, n * outFeatures), p.AsSpan(weight.Offset, weight.Length),
                data.AsSpan(dInput.Offset, n * inFeatures), n, inFeatures, outFeatures, transposeB: true, maxThreads: threads),
            threads =>
            {
                Device.MatMul(data.AsSpan(input.Offset, n * inFeatures), data.AsSpan(dOutput.Offset, n * outFeatures),
                    g.AsSpan(weight.Offset, weight.Length), inFeatures, outFeatures, n, transposeA: true, accumulate: accumulate, maxThreads: threads);
                Bias.Backward(data.AsSpan(dOutput.Offset, n * outFeatures), g.AsSpan(bias.Offset, bias.Length));
            });
    }

    /// <summary>Runs two independent pieces of work at once, each told how many cores it may use; in a row on one core.</summary>
    private static void SideBySide(Action<int> first, Action<int> second)
    {
        int cores = Environment.ProcessorCount;
        if (cores < 2) { first(0); second(0); return; }
        int half = cores / 2;
        Parallel.Invoke(() => first(half), () => second(cores - half));
    }

    /// <summary>
    /// Zeroes every gradient view that the backward pass adds to rather than writes: biases, LayerNorm weights and
    /// the position table (small: about 1% of the arena). The matrices and wte are written by their GEMMs.
    /// </summary>
    private void ClearGradientsNotWrittenByGemm()
    {
        var g = Gradients;
        g[Layout.PositionEmbedding].Clear();
        foreach (var b in Layout.Blocks)
        {
            g[b.Norm1Weight].Clear(); g[b.Norm1Bias].Clear();
            g[b.AttentionBias].Clear(); g[b.AttentionProjectionBias].Clear();
            g[b.Norm2Weight].Clear(); g[b.Norm2Bias].Clear();
            g[b.MlpBias].Clear(); g[b.MlpProjectionBias].Clear();
        }
        g[Layout.FinalNormWeight].Clear(); g[Layout.FinalNormBias].Clear();
    }
}
