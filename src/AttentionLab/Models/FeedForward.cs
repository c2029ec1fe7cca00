using AttentionLab.Ops;
using AttentionLab.Tensors;

namespace AttentionLab.Models;

/// <summary>
/// The position-wise feed-forward network of a Transformer block (Vaswani et al. 2017, §3.3), GPT-2's MLP:
/// <code>
/// h = fc(x)       (N, 4C)   Linear(C, 4C)
/// g = gelu(h)     (N, 4C)   tanh approximation
/// y = proj(g)     (N, C)    Linear(4C, C)
/// </code>
/// Every position (row) is transformed on its own; N = B·T.
/// </summary>
public sealed class FeedForward
{
    public int Channels { get; }
    public int Hidden { get; }
    public Linear Fc { get; }
    public Linear Proj { get; }

    private Tensor? _x, _h, _g, _y, _dg, _dx;

    /// <param name="channels">C</param>
    /// <param name="hidden">the inner width, 4C in GPT-2 and ViT</param>
    public FeedForward(int channels, int hidden, Random random)
    {
        Channels = channels;
        Hidden = hidden;
        Fc = new Linear(channels, hidden, bias: true, random);
        Proj = new Linear(hidden, channels, bias: true, random);
    }

    public IEnumerable<(string Name, Tensor Value, Tensor Grad)> NamedParameters(string prefix) =>
        Fc.NamedParameters(prefix + "fc.").Concat(Proj.NamedParameters(prefix + "proj."));

    /// <param name="x">(…, C)</param>
    /// <returns>(…, C); the layer's own buffer, valid until the next forward call</returns>
    public Tensor Forward(Tensor x)
    {
        int rows = x.Length / Channels;
        _h = Reuse.Get(_h, rows, Hidden);
        _g = Reuse.Get(_g, rows, Hidden);
        _y = Reuse.Like(_y, x.Shape);
        Fc.Forward(x.Data, _h.Data, rows);                                        // (N, 4C)
        Gelu.Forward(_h.Data, _g.Data);                                           // (N, 4C)
        Proj.Forward(_g.Data, _y.Data, rows);                                     // (N, C)
        _x = x;
        return _y;
    }

    /// <summary>Adds the parameter gradients; returns dL/dx (the layer's own buffer).</summary>
    /// <param name="dy">(…, C)</param>
    public Tensor Backward(Tensor dy)
    {
        if (_x is null) throw new InvalidOperationException("Backward needs a Forward call first");
        int rows = _x.Length / Channels;
        _dg = Reuse.Get(_dg, rows, Hidden);
        _dx = Reuse.Like(_dx, _x.Shape);
        Proj.Backward(_g!.Data, dy.Data, _dg.Data, rows);                         // dg (N, 4C)
        Gelu.Backward(_h!.Data, _dg.Data, _dg.Data);                              // dh (N, 4C), in place
        Fc.Backward(_x.Data, _dg.Data, _dx.Data, rows);                           // dx (N, C)
        return _dx;
    }

    public void ZeroGrad() { Fc.ZeroGrad(); Proj.ZeroGrad(); }
}
