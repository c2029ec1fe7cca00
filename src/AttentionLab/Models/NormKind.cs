namespace AttentionLab.Models;

/// <summary>The normalization a transformer's blocks and head use: one choice of the config.</summary>
public enum NormKind
{
    /// <summary>LayerNorm (Ba et al. 2016): subtract the mean, divide by the standard deviation, then gain and bias.
    /// GPT-2, BERT, ViT, the original Transformer.</summary>
    LayerNorm,
    /// <summary>RMSNorm (Zhang &amp; Sennrich 2019): divide by the root mean square, then a gain; no mean, no bias.
    /// Llama, Mistral, Qwen: <c>y = x / √(mean(x²) + ε) · γ</c> (HF LlamaRMSNorm). Half the reductions of LayerNorm
    /// and, in practice, the same quality.</summary>
    RmsNorm,
}
