using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using AttentionLab.Attention;
using AttentionLab.Tensors;

namespace AttentionLab.Models;

/// <summary>
/// One encoder block, pre-LayerNorm as in GPT-2 and ViT (Xiong et al. 2020 show why pre-LN trains without warmup
/// tricks):
/// <code>
/// x = x + attn(ln_1(x))      (B, T, C)  multi-head self-attention; bidirectional unless the options say causal
/// x = x + mlp(ln_2(x))       (B, T, C)  position-wise feed-forward
/// </code>
/// BERT's and ViT's blocks are this block; GPT's is this block with <see cref="AttentionOptions.IsCausal"/>.
/// Padding is masked through <see cref="Options"/> (<see cref="AttentionOptions.KeyPaddingMask"/>, (B, T)).
/// Parameter names follow PyTorch's state_dict: <c>ln_1.weight</c>, <c>attn.query.weight</c>, <c>mlp.fc.weight</c>, …
/// </summary>
public sealed class TransformerEncoderBlock
{
    public int Channels { get; }
    public LayerNormLayer Norm1 { get; }
    public MultiHeadAttention Attention { get; }
    public LayerNormLayer Norm2 { get; }
    public FeedForward Mlp { get; }

    /// <summary>Masks of the self-attention (padding, causal), set per batch.</summary>
    public AttentionOptions Options { get => Attention.Options; set => Attention.Options = value; }

    private Tensor? _x1, _y, _dx1, _dx;

    /// <param name="channels">C</param>
    /// <param name="heads">H; must divide C</param>
    /// <param name="kernel">the attention algorithm</param>
    /// <param name="random">initialisation</param>
    public TransformerEncoderBlock(int channels, int heads, IAttentionKernel kernel, Random random)
    {
        Channels = channels;
        Norm1 = new LayerNormLayer(channels);
        Attention = new MultiHeadAttention(channels, heads, AttentionOptions.Default, kernel, random);
        Norm2 = new LayerNormLayer(channels);
        Mlp = new FeedForward(channels, 4 * channels, random);
    }

    public IEnumerable<(string Name, Tensor Value, Tensor Grad)> NamedParameters(string prefix = "") =>
        Norm1.NamedParameters(prefix + "ln_1.")
            .Concat(Attention.NamedParameters(prefix + "attn."))
            .Concat(Norm2.NamedParameters(prefix + "ln_2."))
            .Concat(Mlp.NamedParameters(prefix + "mlp."));

    /// <param name="x">(B, T, C); kept (not copied) for the backward pass</param>
    /// <returns>(B, T, C); the block's own buffer, valid until its next forward call</returns>
    public Tensor Forward(Tensor x)
    {
        var a = Attention.Forward(Norm1.Forward(x));                              // (B, T, C)
        _x1 = Reuse.Like(_x1, x.Shape);
        TensorPrimitives.Add(x.Data, a.Data, _x1.Data);                           // x1 = x + attn(ln_1(x))
        var m = Mlp.Forward(Norm2.Forward(_x1));                                  // (B, T, C)
        _y = Reuse.Like(_y, x.Shape);
        TensorPrimitives.Add(_x1.Data, m.Data, _y.Data);                          // y = x1 + mlp(ln_2(x1))
        return _y;
    }

    /// <summary>Adds every parameter gradient; returns dL/dx (the block's own buffer).</summary>
    /// <param name="dy">(B, T, C)</param>
    public Tensor Backward(Tensor dy)
    {
        _dx1 = Reuse.Like(_dx1, dy.Shape);
        dy.Span.CopyTo(_dx1.Span);                                                // the residual path
        Norm2.Backward(Mlp.Backward(dy), _dx1);                                   // + through mlp(ln_2(x1))
        var dh1 = Attention.Backward(_dx1);                                       // (B, T, C) into ln_1's output
        _dx = Reuse.Like(_dx, dy.Shape);
        _dx1.Span.CopyTo(_dx.Span);                                               // the residual path
        Norm1.Backward(dh1, _dx);                                                 // + through attn(ln_1(x))
        return _dx;
    }

    public void ZeroGrad() { Norm1.ZeroGrad(); Attention.ZeroGrad(); Norm2.ZeroGrad(); Mlp.ZeroGrad(); }
}
