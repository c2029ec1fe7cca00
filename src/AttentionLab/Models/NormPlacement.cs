namespace AttentionLab.Models;

/// <summary>Where a block's norms sit: one choice of the config.</summary>
public enum NormPlacement
{
    /// <summary>Pre-norm (GPT-2, Llama; Xiong et al. 2020): each branch reads a normalized copy and adds to an
    /// un-normalized residual stream, <c>x = x + attn(ln_1(x)); x = x + mlp(ln_2(x))</c>. Gradients reach the
    /// embeddings through the plain sum, so deep stacks train without warmup tricks.</summary>
    Pre,
    /// <summary>Post-norm (the original Transformer, Vaswani et al. 2017; BERT): each sum is normalized,
    /// <c>x = ln_1(x + attn(x)); x = ln_2(x + mlp(x))</c> — PyTorch's <c>nn.TransformerEncoderLayer</c> with
    /// <c>norm_first=False</c>. Every gradient passes through every norm, which is why it needs warmup.</summary>
    Post,
}
