using AttentionLab.Attention;
using AttentionLab.Models;

namespace AttentionLab.Cuda;

/// <summary>The backward pass on the device: <see cref="DecoderModel.Backward"/>'s order and formulas (docs/gpt2.md).</summary>
public sealed partial class CudaDecoderModel
{
    /// <summary>
    /// ADDS dLoss/dParameters of the last forward (which must have had targets) to <see cref="Gradients"/> (call
    /// <see cref="ZeroGrad"/> first unless accumulating). The logits are overwritten by dLogits.
    /// </summary>
    public void Backward()
    {
        if (_acts is null || !_hasTargets) throw new InvalidOperationException("Backward needs a Forward with targets first");
        if (_logitsConsumed) throw new InvalidOperationException("Backward was already called for this Forward");
        var a = _acts;
        var cfg = Config;
        int batch = a.Batch, length = a.Length, n = batch * length;
        int c = cfg.Channels, v = cfg.VocabSize, h = cfg.Heads, d = cfg.HeadDim;

        // dlogits = (softmax − onehot)/N, in place over the logits
        _ops.CrossEntropyBackward(A(a.Logits), A(a.LogSumExp), _targets!.View, v, 1f / n);
        _logitsConsumed = true;
        // dln_f = dlogits · wte; dwte += dlogitsᵀ · ln_f
        _ops.MatMul(A(a.Logits), P(Layout.TokenEmbedding), A(a.DNorm), n, c, v);
        _ops.MatMul(A(a.Logits), A(a.FinalNorm), G(Layout.TokenEmbedding), v, c, n, transposeA: true, accumulate: true);

        _ops.Zero(A(a.DResidual));
        var lastResidual = cfg.Layers > 0 ? a.Blocks[^1].Residual3 : a.Encoded;
        _ops.LayerNormBackward(A(a.DNorm), A(lastResidual), P(Layout.FinalNormWeight), A(a.FinalNormMean), A(a.FinalNormRstd), n, c,
            A(a.DResidual), G(Layout.FinalNormWeight), G(Layout.FinalNormBias!));

        var shape = new AttentionShape(batch, h, length, length, d);
        for (int l = cfg.Layers - 1; l >= 0; l--)
        {
            var w = Layout.Blocks[l];
            var s = a.Blocks[l];
            var residualIn = l == 0 ? a.Encoded : a.Blocks[l - 1].Residual3;
            // dResidual holds dLoss/dResidual3; every branch adds its input gradient to it
            LinearBackward(a.DResidual, s.FcGelu, w.MlpProjectionWeight, w.MlpProjectionBias!, a.DFc, n, 4 * c, c);
            _ops.GeluBackward(A(s.Fc), A(a.DFc), A(a.DFc));
            LinearBackward(a.DFc, s.Norm2, w.MlpWeight, w.MlpBias!, a.DNorm, n, c, 4 * c);
            _ops.LayerNormBackward(A(a.DNorm), A(s.Residual2), P(w.Norm2Weight), A(s.Norm2Mean), A(s.Norm2Rstd), n, c,
                A(a.DResidual), G(w.Norm2Weight), G(w.Norm2Bias!));

            LinearBackward(a.DResidual, s.AttentionMerged, w.AttentionProjectionWeight, w.AttentionProjectionBias!, a.DMerged, n, c, c);
            _ops.SplitHeads(A(a.DMerged), batch, length, h, d, A(a.DAttention));
            Attention.Backward(A(s.Q), A(s.K), A(s.V), A(s.AttentionOutput), A(s.AttentionSaved), A(a.DAttention), shape, AttentionOptions,
                A(a.DQ), A(a.DK), A(a.DV));
            _ops.MergeQkv(A(a.DQ), A(a.DK), A(a.DV), batch, length, h, d, A(a.DQkv));
            LinearBackward(a.DQkv, s.Norm1, w.AttentionWeight, w.AttentionBias!, a.DNorm, n, c, 3 * c);
            _ops.LayerNormBackward(A(a.DNorm), A(residualIn), P(w.Norm1Weight), A(s.Norm1Mean), A(s.Norm1Rstd), n, c,
                A(a.DResidual), G(w.Norm1Weight), G(w.Norm1Bias!));
        }
        // dwte[token] += dx (scatter-add), dwpe[t] += Σ_b dx[b, t]
        _ops.EmbeddingBackward(A(a.DResidual), _tokens!.View, length, c, G(Layout.TokenEmbedding), G(Layout.PositionEmbedding!));
    }

    /// <summary>y = x·W + b backward: dX = dY·Wᵀ; dW += Xᵀ·dY; db += Σ dY.</summary>
    private void LinearBackward(Slot dOutput, Slot input, ParameterView weight, ParameterView bias, Slot dInput,
        int n, int inFeatures, int outFeatures)
    {
        _ops.MatMul(A(dOutput), P(weight), A(dInput), n, inFeatures, outFeatures, transposeB: true);
        _ops.MatMul(A(input), A(dOutput), G(weight), inFeatures, outFeatures, n, transposeA: true, accumulate: true);
        _ops.BiasBackward(A(dOutput), G(bias), n, outFeatures);
    }
}
