using AttentionLab.Hooks;
using AttentionLab.Models;

namespace AttentionLab.Layers;

/// <summary>
/// One transformer block, the same code for training, inference and cached decoding. Pre-norm (GPT-2, Llama; Xiong
/// et al. 2020):
/// <code>
/// x = x + attention(ln_1(x))     (B, T, C)   hook_resid_pre → ln1 → attn → hook_resid_mid
/// x = x + mlp(ln_2(x))           (B, T, C)   ln2 → mlp → hook_resid_post
/// </code>
/// Post-norm (the original Transformer, BERT; <see cref="NormPlacement.Post"/>), hooks as TransformerLens's BertBlock:
/// <code>
/// x = ln_1(x + attention(x))     (B, T, C)   hook_resid_pre → attn → hook_resid_mid (the sum) → ln1.hook_normalized
/// x = ln_2(x + mlp(x))           (B, T, C)   mlp → hook_resid_post (the sum) → ln2.hook_normalized (the block's output)
/// </code>
/// In post-norm the slots hold: Residual2 = the first sum, Norm1 = its norm (the MLP's input and residual), Norm2 =
/// the second sum, Residual3 = its norm, the block's output.
/// </summary>
internal sealed class TransformerBlock(int index, NormLayer norm1, AttentionLayer attention, NormLayer norm2, MlpLayer mlp,
    NormPlacement placement = NormPlacement.Pre)
{
    public int Index { get; } = index;
    public NormLayer Norm1 { get; } = norm1;
    public AttentionLayer Attention { get; } = attention;
    public NormLayer Norm2 { get; } = norm2;
    public MlpLayer Mlp { get; } = mlp;
    public NormPlacement Placement { get; } = placement;

    /// <summary>Block <paramref name="index"/> over the views of <paramref name="w"/>: the config's norm and MLP
    /// activation, a fused (C, 3C) qkv and a 4C MLP — the one way every model builds its self-attention blocks.</summary>
    public static TransformerBlock Create(int index, DecoderBlockLayout w, NormKind norm, float epsilon, MlpActivation activation, int heads, int headDim,
        NormPlacement placement = NormPlacement.Pre)
    {
        int c = heads * headDim;
        return new TransformerBlock(index,
            new NormLayer(norm, w.Norm1Weight, w.Norm1Bias, c, epsilon),
            new AttentionLayer(new LinearLayer(w.AttentionWeight, w.AttentionBias, c, 3 * c),
                new LinearLayer(w.AttentionProjectionWeight, w.AttentionProjectionBias, c, c), heads, headDim),
            new NormLayer(norm, w.Norm2Weight, w.Norm2Bias, c, epsilon),
            new MlpLayer(new LinearLayer(w.MlpWeight, w.MlpBias, c, 4 * c),
                new LinearLayer(w.MlpProjectionWeight, w.MlpProjectionBias, 4 * c, c), activation), placement);
    }

    /// <summary>Block <paramref name="index"/> with every choice of <paramref name="config"/>: its norm, key/value
    /// heads, head size, biases (absent views), Qwen3's q/k norms, the rotation shared by all blocks and the MLP's
    /// activation and width. For GPT-2's choices it is exactly the block <see cref="Create(int, DecoderBlockLayout, NormKind, float, MlpActivation, int, int, NormPlacement)"/> builds.</summary>
    public static TransformerBlock Create(int index, DecoderBlockLayout w, DecoderConfig config, Ops.RotaryEmbedding? rotary)
    {
        int c = config.Channels, a = config.AttentionChannels, m = config.IntermediateSize;
        float eps = config.LayerNormEpsilon;
        int fc = config.Activation == MlpActivation.SwiGlu ? 2 * m : m;
        var norms = w.QueryNormWeight is { } qn && w.KeyNormWeight is { } kn ? new HeadNorms(qn, kn, eps) : null;
        return new TransformerBlock(index,
            new NormLayer(config.Norm, w.Norm1Weight, w.Norm1Bias, c, eps),
            new AttentionLayer(new LinearLayer(w.AttentionWeight, w.AttentionBias, c, config.QkvChannels),
                new LinearLayer(w.AttentionProjectionWeight, w.AttentionProjectionBias, a, c), config.Heads, config.HeadDim,
                config.KeyValueHeads, rotary, norms),
            new NormLayer(config.Norm, w.Norm2Weight, w.Norm2Bias, c, eps),
            new MlpLayer(new LinearLayer(w.MlpWeight, w.MlpBias, c, fc),
                new LinearLayer(w.MlpProjectionWeight, w.MlpProjectionBias, m, c), config.Activation), config.NormPlacement);
    }

    /// <param name="residual">(N, C) the block's input</param>
    public void Forward(LayerRun run, Slot residual, in AttentionCall call)
    {
        var a = run.Activations;
        var s = a.Blocks[Index];
        var hooks = call.Hooks;
        int l = Index, b = a.Batch, t = a.Length, c = Attention.Projection.Out;
        hooks?.Call(HookPoint.ResidPre, l, run.Memory(residual), b, t, c);
        if (Placement == NormPlacement.Post)
        {
            Attention.Forward(run, l, s, residual, residual, s.Residual2, call);                 // x + attn(x)
            hooks?.Call(HookPoint.ResidMid, l, run.Memory(s.Residual2), b, t, c);
            Norm1.Forward(run, s.Residual2, s.Norm1, s.Norm1Mean, s.Norm1Rstd);                   // x1 = ln_1(x + attn(x))
            hooks?.Call(HookPoint.Ln1Normalized, l, run.Memory(s.Norm1), b, t, c);
            Mlp.Forward(run, l, s, s.Norm1, s.Norm1, s.Norm2, hooks);                            // x1 + mlp(x1)
            hooks?.Call(HookPoint.ResidPost, l, run.Memory(s.Norm2), b, t, c);
            Norm2.Forward(run, s.Norm2, s.Residual3, s.Norm2Mean, s.Norm2Rstd);                   // ln_2(x1 + mlp(x1))
            hooks?.Call(HookPoint.Ln2Normalized, l, run.Memory(s.Residual3), b, t, c);
            return;
        }
        Norm1.Forward(run, residual, s.Norm1, s.Norm1Mean, s.Norm1Rstd);
        hooks?.Call(HookPoint.Ln1Normalized, l, run.Memory(s.Norm1), b, t, c);
        Attention.Forward(run, l, s, s.Norm1, residual, s.Residual2, call);
        hooks?.Call(HookPoint.ResidMid, l, run.Memory(s.Residual2), b, t, c);
        Norm2.Forward(run, s.Residual2, s.Norm2, s.Norm2Mean, s.Norm2Rstd);
        hooks?.Call(HookPoint.Ln2Normalized, l, run.Memory(s.Norm2), b, t, c);
        Mlp.Forward(run, l, s, s.Norm2, s.Residual2, s.Residual3, hooks);
        hooks?.Call(HookPoint.ResidPost, l, run.Memory(s.Residual3), b, t, c);
    }

    /// <summary>
    /// The block in reverse. On entry dResidual holds dLoss/d(output); on exit dLoss/d(input): each branch adds its
    /// input gradient to the residual path's.
    /// </summary>
    /// <param name="residual">(N, C) the block's forward input</param>
    public void Backward(LayerRun run, Slot residual, (AttentionLab.Attention.IAttentionKernel Kernel, AttentionLab.Attention.AttentionOptions Options) attention, bool accumulate)
    {
        var a = run.Activations;
        var s = a.Blocks[Index];
        if (Placement == NormPlacement.Post)
        {
            PostNormBackward(run, a, s, residual, attention, accumulate);
            return;
        }
        Mlp.Backward(run, s, a.DResidual, s.Norm2, a.DNorm, accumulate);
        Norm2.Backward(run, a.DNorm, s.Residual2, s.Norm2Mean, s.Norm2Rstd, a.DResidual);
        Attention.Backward(run, s, s.Norm1, a.DResidual, a.DNorm, attention.Kernel, attention.Options, accumulate);
        Norm1.Backward(run, a.DNorm, residual, s.Norm1Mean, s.Norm1Rstd, a.DResidual);
    }

    /// <summary>
    /// Post-norm in reverse with the two (N, C) buffers dResidual (R) and dNorm (D). The norms add into their dInput,
    /// so D is cleared before each; each branch overwrites its dInput, and the sum's own path is added after:
    /// <code>
    /// D = ln_2′(R)              d(x1 + mlp(x1))
    /// R = mlp′(D) + D           d x1
    /// D = ln_1′(R)              d(x + attn(x))
    /// R = attn′(D) + D          d x, the block's input gradient
    /// </code>
    /// </summary>
    private void PostNormBackward(LayerRun run, DecoderActivations a, DecoderBlockActivations s, Slot residual,
        (AttentionLab.Attention.IAttentionKernel Kernel, AttentionLab.Attention.AttentionOptions Options) attention, bool accumulate)
    {
        run[a.DNorm].Clear();
        Norm2.Backward(run, a.DResidual, s.Norm2, s.Norm2Mean, s.Norm2Rstd, a.DNorm);
        Mlp.Backward(run, s, a.DNorm, s.Norm1, a.DResidual, accumulate);
        System.Numerics.Tensors.TensorPrimitives.Add(run[a.DResidual], run[a.DNorm], run[a.DResidual]);
        run[a.DNorm].Clear();
        Norm1.Backward(run, a.DResidual, s.Residual2, s.Norm1Mean, s.Norm1Rstd, a.DNorm);
        Attention.Backward(run, s, residual, a.DNorm, a.DResidual, attention.Kernel, attention.Options, accumulate);
        System.Numerics.Tensors.TensorPrimitives.Add(run[a.DResidual], run[a.DNorm], run[a.DResidual]);
    }
}
