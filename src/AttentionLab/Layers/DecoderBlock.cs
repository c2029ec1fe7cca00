using AttentionLab.Attention;
using AttentionLab.Hooks;
using AttentionLab.Models;

namespace AttentionLab.Layers;

/// <summary>
/// One decoder block of an encoder-decoder Transformer (Vaswani et al. 2017, §3.1), pre-norm:
/// <code>
/// x = x + self_attn(ln_1(x))              (B, Tt, C)  causal               hook_resid_pre → ln1 → attn → hook_resid_mid
/// x = x + cross_attn(ln_cross(x), memory) (B, Tt, C)  memory (B, Ts, C)    ln_cross → cross_attn → hook_resid_mid_cross
/// x = x + mlp(ln_2(x))                    (B, Tt, C)                       ln2 → mlp → hook_resid_post
/// </code>
/// The self-attention and MLP are the layers of <see cref="TransformerBlock"/>; the cross-attention is
/// <see cref="CrossAttentionLayer"/>. In the state dict the three norms are ln_1, ln_2 (cross) and ln_3 (MLP).
/// </summary>
internal sealed class DecoderBlock(int index, NormLayer norm1, AttentionLayer selfAttention, NormLayer crossNorm,
    CrossAttentionLayer crossAttention, NormLayer norm2, MlpLayer mlp)
{
    public int Index { get; } = index;
    public NormLayer Norm1 { get; } = norm1;
    public AttentionLayer SelfAttention { get; } = selfAttention;
    public NormLayer CrossNorm { get; } = crossNorm;
    public CrossAttentionLayer CrossAttention { get; } = crossAttention;
    public NormLayer Norm2 { get; } = norm2;
    public MlpLayer Mlp { get; } = mlp;

    /// <param name="residual">(N, C) the block's input; the output is the block's Residual3</param>
    /// <param name="self">the causal self-attention's kernel, options and hooks</param>
    /// <param name="cross">the cross-attention's kernel, source padding mask and hooks</param>
    public void Forward(LayerRun run, Slot residual, in AttentionCall self, in AttentionCall cross)
    {
        var a = run.Activations;
        var s = a.Blocks[Index];
        var x = a.CrossBlocks![Index];
        var hooks = self.Hooks;
        int l = Index, b = a.Batch, t = a.Length, c = SelfAttention.Heads * SelfAttention.HeadDim;
        hooks?.Call(HookPoint.ResidPre, l, run.Memory(residual), b, t, c);
        Norm1.Forward(run, residual, s.Norm1, s.Norm1Mean, s.Norm1Rstd);
        hooks?.Call(HookPoint.Ln1Normalized, l, run.Memory(s.Norm1), b, t, c);
        SelfAttention.Forward(run, l, s, s.Norm1, residual, x.AfterSelf, self);
        hooks?.Call(HookPoint.ResidMid, l, run.Memory(x.AfterSelf), b, t, c);
        CrossNorm.Forward(run, x.AfterSelf, x.Norm, x.NormMean, x.NormRstd);
        hooks?.Call(HookPoint.LnCrossNormalized, l, run.Memory(x.Norm), b, t, c);
        CrossAttention.Forward(run, l, x, x.Norm, x.AfterSelf, s.Residual2, cross);
        hooks?.Call(HookPoint.ResidMidCross, l, run.Memory(s.Residual2), b, t, c);
        Norm2.Forward(run, s.Residual2, s.Norm2, s.Norm2Mean, s.Norm2Rstd);
        hooks?.Call(HookPoint.Ln2Normalized, l, run.Memory(s.Norm2), b, t, c);
        Mlp.Forward(run, l, s, s.Norm2, s.Residual2, s.Residual3, hooks);
        hooks?.Call(HookPoint.ResidPost, l, run.Memory(s.Residual3), b, t, c);
    }

    /// <summary>
    /// The block in reverse, gradients added. On entry dResidual holds dLoss/d(output); on exit dLoss/d(input), and
    /// the cross-attention has added its dLoss/dMemory into a.DMemory.
    /// </summary>
    /// <param name="residual">(N, C) the block's forward input</param>
    public void Backward(LayerRun run, Slot residual, IAttentionKernel kernel, AttentionOptions selfOptions, AttentionOptions crossOptions)
    {
        var a = run.Activations;
        var s = a.Blocks[Index];
        var x = a.CrossBlocks![Index];
        Mlp.Backward(run, s, a.DResidual, s.Norm2, a.DNorm, accumulate: true);
        Norm2.Backward(run, a.DNorm, s.Residual2, s.Norm2Mean, s.Norm2Rstd, a.DResidual);       // d Residual2
        CrossAttention.Backward(run, x, x.Norm, a.DResidual, a.DNorm, kernel, crossOptions);
        CrossNorm.Backward(run, a.DNorm, x.AfterSelf, x.NormMean, x.NormRstd, a.DResidual);     // d AfterSelf
        SelfAttention.Backward(run, s, s.Norm1, a.DResidual, a.DNorm, kernel, selfOptions, accumulate: true);
        Norm1.Backward(run, a.DNorm, residual, s.Norm1Mean, s.Norm1Rstd, a.DResidual);          // d input
    }
}
