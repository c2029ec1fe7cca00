using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using AttentionLab.Attention;
using AttentionLab.Tensors;

namespace AttentionLab.Models;

/// <summary>
/// One decoder block of an encoder-decoder Transformer (Vaswani et al. 2017, §3.1), pre-LayerNorm:
/// <code>
/// x = x + self_attn(ln_1(x))               (B, Tt, C)  causal: target position i sees targets ≤ i
/// x = x + cross_attn(ln_2(x), memory)      (B, Tt, C)  queries from the target, keys and values from the
///                                                      encoder's output (B, Ts, C), padding masked
/// x = x + mlp(ln_3(x))                     (B, Tt, C)
/// </code>
/// Cross-attention is where the decoder reads the source: its (Tt, Ts) weights are the alignment.
/// The backward pass returns dL/dx and adds dL/d(memory) into a buffer the caller sums over layers.
/// </summary>
public sealed class TransformerDecoderBlock
{
    public int Channels { get; }
    public LayerNormLayer Norm1 { get; }
    public MultiHeadAttention SelfAttention { get; }
    public LayerNormLayer Norm2 { get; }
    public MultiHeadAttention CrossAttention { get; }
    public LayerNormLayer Norm3 { get; }
    public FeedForward Mlp { get; }

    private Tensor? _x1, _x2, _y, _d, _dx;

    public TransformerDecoderBlock(int channels, int heads, IAttentionKernel kernel, Random random)
    {
        Channels = channels;
        Norm1 = new LayerNormLayer(channels);
        SelfAttention = new MultiHeadAttention(channels, heads, AttentionOptions.Causal, kernel, random);
        Norm2 = new LayerNormLayer(channels);
        CrossAttention = new MultiHeadAttention(channels, heads, AttentionOptions.Default, kernel, random);
        Norm3 = new LayerNormLayer(channels);
        Mlp = new FeedForward(channels, 4 * channels, random);
    }

    public IEnumerable<(string Name, Tensor Value, Tensor Grad)> NamedParameters(string prefix = "") =>
        Norm1.NamedParameters(prefix + "ln_1.")
            .Concat(SelfAttention.NamedParameters(prefix + "self_attn."))
            .Concat(Norm2.NamedParameters(prefix + "ln_2."))
            .Concat(CrossAttention.NamedParameters(prefix + "cross_attn."))
            .Concat(Norm3.NamedParameters(prefix + "ln_3."))
            .Concat(Mlp.NamedParameters(prefix + "mlp."));

    /// <param name="x">(B, Tt, C) the target stream</param>
    /// <param name="memory">(B, Ts, C) the encoder's output</param>
    /// <param name="memoryPadding">(B, Ts) true = a real source token, or null when nothing is padded</param>
    /// <returns>(B, Tt, C); the block's own buffer, valid until its next forward call</returns>
    public Tensor Forward(Tensor x, Tensor memory, bool[]? memoryPadding)
    {
        CrossAttention.Options = memoryPadding is null ? AttentionOptions.Default : new AttentionOptions { KeyPaddingMask = memoryPadding };
        var a = SelfAttention.Forward(Norm1.Forward(x));                          // (B, Tt, C)
        _x1 = Reuse.Like(_x1, x.Shape);
        TensorPrimitives.Add(x.Data, a.Data, _x1.Data);
        var c = CrossAttention.Forward(Norm2.Forward(_x1), memory);               // (B, Tt, C)
        _x2 = Reuse.Like(_x2, x.Shape);
        TensorPrimitives.Add(_x1.Data, c.Data, _x2.Data);
        var m = Mlp.Forward(Norm3.Forward(_x2));                                  // (B, Tt, C)
        _y = Reuse.Like(_y, x.Shape);
        TensorPrimitives.Add(_x2.Data, m.Data, _y.Data);
        return _y;
    }

    /// <summary>Adds every parameter gradient and dL/d(memory) into <paramref name="dMemory"/>; returns dL/dx.</summary>
    /// <param name="dy">(B, Tt, C)</param>
    /// <param name="dMemory">(B, Ts, C), accumulated</param>
    public Tensor Backward(Tensor dy, Tensor dMemory)
    {
        _d = Reuse.Like(_d, dy.Shape);
        dy.Span.CopyTo(_d.Span);                                                  // dx2: the residual path
        Norm3.Backward(Mlp.Backward(dy), _d);                                     // + through mlp(ln_3(x2))
        var dh2 = CrossAttention.Backward(_d, out var dMem);                      // (B, Tt, C), dMem (B, Ts, C)
        TensorPrimitives.Add(dMemory.Data, dMem!.Data, dMemory.Data);
        Norm2.Backward(dh2, _d);                                                  // dx1 = dx2 + through ln_2
        var dh1 = SelfAttention.Backward(_d);
        _dx = Reuse.Like(_dx, dy.Shape);
        _d.Span.CopyTo(_dx.Span);
        Norm1.Backward(dh1, _dx);                                                 // dx = dx1 + through ln_1
        return _dx;
    }

    public void ZeroGrad()
    {
        Norm1.ZeroGrad(); SelfAttention.ZeroGrad(); Norm2.ZeroGrad(); CrossAttention.ZeroGrad(); Norm3.ZeroGrad(); Mlp.ZeroGrad();
    }
}
