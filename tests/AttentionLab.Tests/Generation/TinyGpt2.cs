using AttentionLab.Attention;
using AttentionLab.IO;
using AttentionLab.Models;

namespace AttentionLab.Tests.Generation;

/// <summary>The gpt2_tiny fixture (vocab 65, 16 positions, 32 channels, 2 layers, 4 heads) and random models of its size.</summary>
public static class TinyGpt2
{
    public static string Directory { get; } = Path.Combine(Fixtures.Directory, "gpt2_tiny");

    /// <summary>The fixture model loaded for inference (no gradients), with the given kernel (null: the saved one).</summary>
    public static DecoderModel Load(IAttentionKernel? kernel = null) => DecoderFolder.Load(Directory, kernel, training: false);

    /// <summary>
    /// A random inference GPT-2 of the tiny size with large weights (uniform, up to ±0.5 in the embeddings), so its
    /// logits are far from uniform and greedy choices are not near-ties; LayerNorm gains 1.
    /// </summary>
    public static DecoderModel Random(int seed, IAttentionKernel? kernel = null)
    {
        var model = new DecoderModel(DecoderConfig.Tiny, kernel, training: false);
        var rng = new Random(seed);
        var p = model.Parameters;
        void Rand(ParameterView v, float scale) { var s = p[v]; for (int i = 0; i < s.Length; i++) s[i] = (float)((rng.NextDouble() * 2 - 1) * scale); }
        var layout = model.Layout;
        Rand(layout.TokenEmbedding, 0.5f);
        Rand(layout.PositionEmbedding!, 0.5f);
        Rand(layout.FinalNormBias!, 0.1f);
        foreach (var b in layout.Blocks)
        {
            Rand(b.Norm1Bias!, 0.1f); Rand(b.Norm2Bias!, 0.1f);
            Rand(b.AttentionWeight, 0.3f); Rand(b.AttentionBias!, 0.1f);
            Rand(b.AttentionProjectionWeight, 0.2f); Rand(b.AttentionProjectionBias!, 0.1f);
            Rand(b.MlpWeight, 0.2f); Rand(b.MlpBias!, 0.1f);
            Rand(b.MlpProjectionWeight, 0.1f); Rand(b.MlpProjectionBias!, 0.1f);
        }
        return model;
    }
}
