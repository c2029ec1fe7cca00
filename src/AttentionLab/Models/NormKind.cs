namespace AttentionLab.Models;

/// <summary>The normalization a transformer's blocks and head use: one choice of the config.</summary>
public enum NormKind
{
    /// <summary>LayerNorm (Ba et al. 2016): subtract the mean, divide by the standard deviation, then gain and bias.
    /// GPT-2, BERT, ViT, the original Transformer. (RMSNorm, Llama's, is the next choice.)</summary>
    LayerNorm,
}
