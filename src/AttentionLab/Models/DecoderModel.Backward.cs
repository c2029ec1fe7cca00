using AttentionLab.Attention;

namespace AttentionLab.Models;

/// <summary>GPT-2 backward pass: the forward's layers in reverse, each layer's backward formula in docs/gpt2.md.</summary>
public sealed partial class DecoderModel
{
    /// <summary>
    /// Back-propagates the mean loss of the last <see cref="Forward"/> (which must have had targets). By default ADDS
    /// the gradients to <see cref="Gradients"/> (PyTorch semantics: call <see cref="ZeroGrad"/> first unless
    /// accumulating micro-batches). With <paramref name="accumulate"/> false it OVERWRITES them instead, so no
    /// ZeroGrad is needed and the weight-gradient GEMMs write without reading (about 1 GB less memory traffic per
    /// GPT-2 124M step). The logits buffer is reused for dLogits, so <see cref="Logits"/> is unavailable afterwards.
    /// Runs with the kernel and masks of that forward.
    /// </summary>
    /// <param name="accumulate">true: gradients += this batch's; false: gradients = this batch's</param>
    public void Backward(bool accumulate = true)
    {
        if (!IsTraining) throw new InvalidOperationException("this model was built for inference: it has no backward pass");
        if (_acts is null || !_hasTargets || !_acts.IsTraining) throw new InvalidOperationException("Backward needs a Forward with targets first");
        if (_logitsConsumed) throw new InvalidOperationException("Backward was already called for this Forward");
        if (_lastEdited) throw new InvalidOperationException("the last Forward ran hooks that edit activations; it has no backward pass (run Forward without editing hooks)");
        var a = _acts;
        var run = Prepare(a);
        if (!accumulate) ClearGradientsNotWrittenByGemm();

        _head.Backward(run, _blocks.Length > 0 ? a.Blocks[^1].Residual3 : a.Encoded, accumulate);
        _logitsConsumed = true;
        var attention = (_lastKernel, _lastOptions);
        for (int l = _blocks.Length - 1; l >= 0; l--)
            _blocks[l].Backward(run, l == 0 ? a.Encoded : a.Blocks[l - 1].Residual3, attention, accumulate);
        _embedding.Backward(run, a.Tokens.AsSpan(0, a.Batch * a.Length), a.DResidual);
    }

    /// <summary>
    /// Zeroes every gradient view that the backward pass adds to rather than writes: biases, LayerNorm weights and
    /// the position table (small: about 1% of the arena). The matrices and wte are written by their GEMMs.
    /// </summary>
    private void ClearGradientsNotWrittenByGemm()
    {
        var g = Gradients;
        if (Layout.PositionEmbedding is { } wpe) g[wpe].Clear();
        foreach (var b in Layout.Blocks)
            foreach (var view in b.All)
                if (view.Shape.Length == 1) g[view].Clear();          // norms, biases, Qwen3's q/k norms
        g[Layout.FinalNormWeight].Clear();
        if (Layout.FinalNormBias is { } lnfBias) g[lnfBias].Clear();
    }
}
