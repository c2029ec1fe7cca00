using AttentionLab.Tensors;

namespace AttentionLab.Inspection;

/// <summary>Which attention of a Transformer a map comes from.</summary>
public static class AttentionKinds
{
    /// <summary>Self-attention of an encoder (BERT, ViT, the encoder of an encoder-decoder): a full square.</summary>
    public const string EncoderSelf = "encoder_self";
    /// <summary>Causal self-attention of a decoder (GPT, the decoder of an encoder-decoder): a lower triangle.</summary>
    public const string DecoderSelf = "decoder_self";
    /// <summary>Cross-attention: decoder queries over encoder keys; the alignment between target and source.</summary>
    public const string Cross = "cross";
}

/// <summary>
/// The attention weights of one layer for one input: <see cref="Weights"/> is (H, Tq, Tk), row i of head h is the
/// softmax distribution of query i over the keys (each row sums to 1; 0 where masked). Labels name the query and
/// key positions (characters, "&lt;s&gt;", "[CLS]", "patch (r,c)").
/// </summary>
/// <param name="Kind">one of <see cref="AttentionKinds"/></param>
/// <param name="Layer">0-based layer index within its stack</param>
/// <param name="Heads">H</param>
/// <param name="QueryLabels">Tq labels</param>
/// <param name="KeyLabels">Tk labels</param>
/// <param name="Weights">(H, Tq, Tk) row-major (an array, or a layer's slice of a report's (L, H, T, T) weights)</param>
public sealed record AttentionMap(string Kind, int Layer, int Heads, IReadOnlyList<string> QueryLabels, IReadOnlyList<string> KeyLabels, ReadOnlyMemory<float> Weights)
{
    public int QueryLength => QueryLabels.Count;
    public int KeyLength => KeyLabels.Count;

    /// <summary>(Tq, Tk) weights of head <paramref name="head"/>.</summary>
    public ReadOnlySpan<float> Head(int head) => Weights.Span.Slice(head * QueryLength * KeyLength, QueryLength * KeyLength);

    /// <summary>(Tq, Tk) the mean over heads (still row-stochastic).</summary>
    public float[] MeanOverHeads()
    {
        int n = QueryLength * KeyLength;
        var mean = new float[n];
        for (int h = 0; h < Heads; h++) System.Numerics.Tensors.TensorPrimitives.Add(mean, Head(h), mean);
        System.Numerics.Tensors.TensorPrimitives.Multiply(mean, 1f / Heads, mean);
        return mean;
    }

    /// <summary>The map of batch element <paramref name="b"/> of a multi-head attention's (B, H, Tq, Tk) weights.</summary>
    public static AttentionMap FromBatch(string kind, int layer, Tensor weights, int b, IReadOnlyList<string> queryLabels, IReadOnlyList<string> keyLabels)
    {
        int H = weights.Dim(1), Tq = weights.Dim(2), Tk = weights.Dim(3);
        if (queryLabels.Count != Tq || keyLabels.Count != Tk)
            throw new ArgumentException($"labels ({queryLabels.Count}, {keyLabels.Count}) do not match the weights' (Tq, Tk) = ({Tq}, {Tk})");
        var w = weights.Data.AsSpan(b * H * Tq * Tk, H * Tq * Tk).ToArray();
        return new AttentionMap(kind, layer, H, queryLabels, keyLabels, w);
    }
}
