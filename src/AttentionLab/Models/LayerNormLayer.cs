using AttentionLab.Ops;
using AttentionLab.Tensors;

namespace AttentionLab.Models;

/// <summary>
/// <c>nn.LayerNorm(C)</c> as a layer: owns the gain and bias (PyTorch's "weight" and "bias", initialised to 1 and 0)
/// and their gradients, and keeps what <see cref="Ops.LayerNorm.Backward"/> needs from the last forward call.
/// Every leading dimension of x is flattened into rows: x (B, T, C) is N = B·T rows of C.
/// </summary>
public sealed class LayerNormLayer
{
    public int Channels { get; }

    /// <summary>(C) the gain γ.</summary>
    public Tensor Weight { get; }
    /// <summary>(C) the shift β.</summary>
    public Tensor Bias { get; }
    public Tensor WeightGrad { get; }
    public Tensor BiasGrad { get; }

    private Tensor? _x, _y;
    private float[] _mean = [], _rstd = [];

    public LayerNormLayer(int channels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        Channels = channels;
        Weight = new Tensor(channels);
        Weight.Span.Fill(1f);
        Bias = new Tensor(channels);
        WeightGrad = new Tensor(channels);
        BiasGrad = new Tensor(channels);
    }

    public IEnumerable<(string Name, Tensor Value, Tensor Grad)> NamedParameters(string prefix)
    {
        yield return (prefix + "weight", Weight, WeightGrad);
        yield return (prefix + "bias", Bias, BiasGrad);
    }

    /// <param name="x">(…, C)</param>
    /// <returns>(…, C); the layer's own buffer, valid until the next forward call</returns>
    public Tensor Forward(Tensor x)
    {
        int rows = x.Length / Channels;
        if (x.Dim(-1) != Channels) throw new ArgumentException($"x must end in C = {Channels}, got {Tensor.ShapeString(x.Shape)}");
        _y = Reuse.Like(_y, x.Shape);
        if (_mean.Length != rows) { _mean = new float[rows]; _rstd = new float[rows]; }
        LayerNorm.Forward(x.Data, Weight.Data, Bias.Data, rows, Channels, LayerNorm.DefaultEpsilon, _y.Data, _mean, _rstd);
        _x = x;
        return _y;
    }

    /// <summary>Adds dL/dx to <paramref name="dx"/> and the parameter gradients to their buffers.</summary>
    /// <param name="dy">(…, C)</param>
    /// <param name="dx">(…, C), accumulated</param>
    public void Backward(Tensor dy, Tensor dx)
    {
        if (_x is null) throw new InvalidOperationException("Backward needs a Forward call first");
        LayerNorm.Backward(dy.Data, _x.Data, Weight.Data, _mean, _rstd, _mean.Length, Channels, dx.Data, WeightGrad.Data, BiasGrad.Data);
    }

    public void ZeroGrad() { WeightGrad.Span.Clear(); BiasGrad.Span.Clear(); }
}
