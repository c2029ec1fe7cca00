using AttentionLab.Ops;
using AttentionLab.Tensors;

namespace AttentionLab.Attention;

/// <summary>
/// Multi-head attention written the way the seed materials write it (and as PyTorch names the parameters):
/// <code>
/// q = query(x), k = key(context), v = value(context)             (B, T, C)  four Linear(C, C) with bias
/// q = q.view(B, Tq, H, D).transpose(1, 2)                        (B, H, Tq, D), likewise k, v with Tk
/// o = softmax(q·kᵀ·scale + mask)·v                               (B, H, Tq, D)  through an IAttentionKernel
/// o = o.transpose(1, 2).contiguous().view(B, Tq, C)              (B, Tq, C)     heads concatenated
/// y = out(o)                                                     (B, Tq, C)
/// </code>
/// Self-attention uses context = x; cross-attention takes queries from x (B, Tq, C) and keys and values from
/// another sequence (B, Tk, C). <see cref="Forward(Tensor)"/> caches what <see cref="Backward(Tensor)"/> needs.
/// Parameter gradients accumulate like PyTorch's <c>.grad</c>; clear them with <see cref="ZeroGrad"/>.
/// </summary>
public sealed class MultiHeadAttention
{
    public int Channels { get; }
    public int Heads { get; }
    public int HeadDim => Channels / Heads;

    public Linear Query { get; }
    public Linear Key { get; }
    public Linear Value { get; }
    public Linear Out { get; }

    /// <summary>The attention algorithm; swap it freely between calls (e.g. "reference" vs "fast").</summary>
    public IAttentionKernel Kernel { get; set; }

    /// <summary>Scale and masks (causal, window, padding, explicit masks) for every call.</summary>
    public AttentionOptions Options { get; set; }

    /// <summary>(B, H, Tq, Tk) attention probabilities of the last forward call (for inspection and plots),
    /// materialized by the kernel on first request.</summary>
    public Tensor? LastWeights
    {
        get
        {
            if (_q is null || _k is null || _v is null) return null;
            if (_weights is null)
            {
                var shape = new AttentionShape(_q.Dim(0), Heads, _q.Dim(2), _k.Dim(2), HeadDim);
                _weights = new Tensor(shape.Batch, shape.Heads, shape.QueryLength, shape.KeyLength);
                Kernel.Weights(_q.Data, _k.Data, _v.Data, shape, Options, _weights.Data);
            }
            return _weights;
        }
    }

    /// <summary>(B, Tq, C) the heads' outputs side by side (the concat, before <see cref="Out"/>) of the last forward call.</summary>
    public Tensor? LastConcat => _merged;

    // cached by Forward for Backward
    private Tensor? _x, _context, _q, _k, _v, _o, _weights, _merged;
    private float[] _saved = [];
    private bool _isSelf;

    /// <param name="channels">C, the model width</param>
    /// <param name="heads">H; must divide C</param>
    /// <param name="options">masks and scale; null = unmasked, scale 1/√D</param>
    /// <param name="kernel">null = <see cref="AttentionKernels.Default"/></param>
    /// <param name="random">initialisation (PyTorch's nn.Linear default); null = seed 0</param>
    public MultiHeadAttention(int channels, int heads, AttentionOptions? options = null, IAttentionKernel? kernel = null, Random? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heads);
        if (channels % heads != 0) throw new ArgumentException($"channels ({channels}) must be divisible by heads ({heads})");
        Channels = channels;
        Heads = heads;
        random ??= new Random(0);
        Query = new Linear(channels, channels, bias: true, random);
        Key = new Linear(channels, channels, bias: true, random);
        Value = new Linear(channels, channels, bias: true, random);
        Out = new Linear(channels, channels, bias: true, random);
        Options = options ?? AttentionOptions.Default;
        Kernel = kernel ?? AttentionKernels.Default;
    }

    /// <summary>"query.weight", "query.bias", …, "out.bias" — the PyTorch state_dict names.</summary>
    public IEnumerable<(string Name, Tensor Value, Tensor Grad)> NamedParameters(string prefix = "") =>
        Query.NamedParameters(prefix + "query.")
            .Concat(Key.NamedParameters(prefix + "key."))
            .Concat(Value.NamedParameters(prefix + "value."))
            .Concat(Out.NamedParameters(prefix + "out."));

    /// <summary>The parameter with this name, e.g. "key.bias", to read or overwrite in place.</summary>
    public Tensor Parameter(string name) => Find(name).Value;

    /// <summary>The gradient of the parameter with this name.</summary>
    public Tensor Gradient(string name) => Find(name).Grad;

    public void ZeroGrad()
    {
        Query.ZeroGrad(); Key.ZeroGrad(); Value.ZeroGrad(); Out.ZeroGrad();
    }

    /// <summary>Self-attention.</summary>
    /// <param name="x">(B, T, C)</param>
    /// <returns>(B, T, C)</returns>
    public Tensor Forward(Tensor x) => Run(x, x, isSelf: true);

    /// <summary>Cross-attention: queries from <paramref name="x"/>, keys and values from <paramref name="context"/>.</summary>
    /// <param name="x">(B, Tq, C)</param>
    /// <param name="context">(B, Tk, C)</param>
    /// <returns>(B, Tq, C)</returns>
    public Tensor Forward(Tensor x, Tensor context) => Run(x, context, isSelf: false);

    /// <summary>Backward of self-attention: adds every parameter gradient and returns dL/dx.</summary>
    /// <param name="dOutput">(B, T, C)</param>
    /// <returns>dx (B, T, C)</returns>
    public Tensor Backward(Tensor dOutput)
    {
        var dx = Backward(dOutput, out var dContext);
        if (dContext is not null)
            throw new InvalidOperationException("the last forward was cross-attention; call Backward(dOutput, out dContext)");
        return dx;
    }

    /// <summary>Backward of the last forward call; <paramref name="dContext"/> is null after self-attention.</summary>
    /// <param name="dOutput">(B, Tq, C)</param>
    /// <param name="dContext">(B, Tk, C) for cross-attention</param>
    /// <returns>dx (B, Tq, C)</returns>
    public Tensor Backward(Tensor dOutput, out Tensor? dContext)
    {
        if (_x is null) throw new InvalidOperationException("Backward needs a Forward call first");
        var x = _x; var context = _context!;
        int B = x.Dim(0), Tq = x.Dim(1), Tk = context.Dim(1), C = Channels, H = Heads, D = HeadDim;
        RequireShape(dOutput, [B, Tq, C], "dOutput");
        var shape = new AttentionShape(B, H, Tq, Tk, D);

        var dMerged = new Tensor(B, Tq, C);
        Out.Backward(_merged!.Data, dOutput.Data, dMerged.Data, B * Tq);          // through y = out(o)
        var dO = SplitHeads(dMerged, H);                                            // (B, H, Tq, D)

        var dq = new Tensor(B, H, Tq, D);
        var dk = new Tensor(B, H, Tk, D);
        var dv = new Tensor(B, H, Tk, D);
        Kernel.Backward(_q!.Data, _k!.Data, _v!.Data, _o!.Data, _saved, dO.Data, shape, Options, dq.Data, dk.Data, dv.Data);

        var dx = new Tensor(B, Tq, C);
        Query.Backward(x.Data, MergeHeads(dq).Data, dx.Data, B * Tq);
        var dc = _isSelf ? dx : new Tensor(B, Tk, C);
        Key.Backward(context.Data, MergeHeads(dk).Data, dc.Data, B * Tk, accumulateDx: _isSelf);
        Value.Backward(context.Data, MergeHeads(dv).Data, dc.Data, B * Tk, accumulateDx: true);
        dContext = _isSelf ? null : dc;
        return dx;
    }

    private Tensor Run(Tensor x, Tensor context, bool isSelf)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(context);
        if (x.Rank != 3 || x.Dim(2) != Channels)
            throw new ArgumentException($"x must be (B, T, C = {Channels}), got {Tensor.ShapeString(x.Shape)}");
        int B = x.Dim(0), Tq = x.Dim(1), C = Channels, H = Heads, D = HeadDim;
        if (context.Rank != 3 || context.Dim(0) != B || context.Dim(2) != C)
            throw new ArgumentException($"context must be (B = {B}, Tk, C = {C}), got {Tensor.ShapeString(context.Shape)}");
        int Tk = context.Dim(1);

        var q = new Tensor(B, Tq, C);
        var k = new Tensor(B, Tk, C);
        var v = new Tensor(B, Tk, C);
        Query.Forward(x.Data, q.Data, B * Tq);
        Key.Forward(context.Data, k.Data, B * Tk);
        Value.Forward(context.Data, v.Data, B * Tk);

        _q = SplitHeads(q, H);                                                      // (B, H, Tq, D)
        _k = SplitHeads(k, H);                                                      // (B, H, Tk, D)
        _v = SplitHeads(v, H);                                                      // (B, H, Tk, D)
        var o = new Tensor(B, H, Tq, D);
        var shape = new AttentionShape(B, H, Tq, Tk, D);
        _saved = new float[Kernel.SavedLength(shape)];                              // the kernel's own state for backward
        _weights = null;                                                            // materialized only when asked for
        Kernel.Forward(_q.Data, _k.Data, _v.Data, shape, Options, o.Data, _saved);
        _o = o;

        _merged = MergeHeads(o);                                                    // (B, Tq, C)
        var y = new Tensor(B, Tq, C);
        Out.Forward(_merged.Data, y.Data, B * Tq);
        (_x, _context, _isSelf) = (x, context, isSelf);
        return y;
    }

    /// <summary><c>x.view(B, T, H, D).transpose(1, 2)</c>: (B, T, C) → (B, H, T, D), copying D-long rows.</summary>
    public static Tensor SplitHeads(Tensor x, int heads)
    {
        int B = x.Dim(0), T = x.Dim(1), C = x.Dim(2), H = heads, D = C / H;
        var result = new Tensor(B, H, T, D);
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                for (int h = 0; h < H; h++)
                    x.Data.AsSpan(((b * T + t) * H + h) * D, D).CopyTo(result.Data.AsSpan(((b * H + h) * T + t) * D, D));
        return result;
    }

    /// <summary><c>o.transpose(1, 2).contiguous().view(B, T, C)</c>: (B, H, T, D) → (B, T, C), the heads side by side.</summary>
    public static Tensor MergeHeads(Tensor o)
    {
        int B = o.Dim(0), H = o.Dim(1), T = o.Dim(2), D = o.Dim(3);
        var result = new Tensor(B, T, H * D);
        for (int b = 0; b < B; b++)
            for (int h = 0; h < H; h++)
                for (int t = 0; t < T; t++)
                    o.Data.AsSpan(((b * H + h) * T + t) * D, D).CopyTo(result.Data.AsSpan(((b * T + t) * H + h) * D, D));
        return result;
    }

    private (string Name, Tensor Value, Tensor Grad) Find(string name)
    {
        foreach (var p in NamedParameters())
            if (p.Name == name) return p;
        throw new ArgumentException($"no parameter '{name}'; known: {string.Join(", ", NamedParameters().Select(p => p.Name))}");
    }

    private static void RequireShape(Tensor t, int[] shape, string name)
    {
        if (!t.Shape.SequenceEqual(shape))
            throw new ArgumentException($"{name} must be {Tensor.ShapeString(shape)}, got {Tensor.ShapeString(t.Shape)}");
    }
}
