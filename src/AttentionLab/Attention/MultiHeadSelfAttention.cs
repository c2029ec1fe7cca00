using AttentionLab.Hooks;
using AttentionLab.Layers;
using AttentionLab.Models;
using AttentionLab.Tensors;

namespace AttentionLab.Attention;

/// <summary>
/// Multi-head self-attention on given matrices — the one stack's <c>AttentionLayer</c> (the layer every GPT-2 block
/// and the exercises' <see cref="SeedGpt"/> run) on its own, with no residual, over its own parameter arena:
/// <code>
/// qkv = x·W_attn + b_attn                  (B·T, 3C)     query, key and value fused (PyTorch: three Linear(C, C))
/// q, k, v = split(qkv)                     (B, H, T, D)  each; D = C / H
/// o = softmax(q·kᵀ·scale + mask)·v         (B, H, T, D)  through an IAttentionKernel
/// z = merge(o)                             (B, T, C)     the heads side by side (hook_z)
/// y = z·W_O + b_O                          (B, T, C)     attention.out
/// </code>
/// The parameters are named as PyTorch's state_dict (<c>query.weight</c> … <c>out.bias</c>, weights (out, in)) and
/// converted on <see cref="Parameter"/>, <see cref="SetParameter"/> and <see cref="Gradient"/>
/// (<see cref="SelfAttentionLayout"/>). q, k, v, the pattern and z are read through hooks
/// (<see cref="ForwardOptions.Hooks"/>, <c>blocks.0.attn.hook_pattern</c> …). Gradients accumulate like PyTorch's
/// <c>.grad</c>; clear them with <see cref="ZeroGrad"/>. Not thread-safe: one forward/backward at a time.
/// </summary>
public sealed class MultiHeadSelfAttention
{
    private readonly DecoderConfig _shape;         // the activation arena's sizes: one block of C channels, H heads
    private readonly LayerRun _run = new();
    private readonly AttentionLayer _attention;
    private DecoderActivations? _acts;
    private IAttentionKernel _lastKernel;
    private AttentionOptions _lastOptions;
    private bool _canBackward;

    public int Channels { get; }
    public int Heads { get; }
    public int HeadDim => Channels / Heads;

    /// <summary>Where each parameter lives in <see cref="Parameters"/> and <see cref="Gradients"/>.</summary>
    public SelfAttentionLayout Layout { get; }

    /// <summary>The weights: fused (C, 3C) qkv and (C, C) output projection, stored (in, out).</summary>
    public ParameterArena Parameters { get; }

    /// <summary>dLoss/dParameters, same layout.</summary>
    public ParameterArena Gradients { get; }

    /// <summary>The attention algorithm of every call unless its options say otherwise.</summary>
    public IAttentionKernel Kernel { get; set; }

    /// <summary>Scale and masks (causal, window, padding, explicit masks) of every call unless its options say otherwise.</summary>
    public AttentionOptions Options { get; set; }

    /// <param name="channels">C, the model width</param>
    /// <param name="heads">H; must divide C</param>
    /// <param name="options">masks and scale; null = unmasked, scale 1/√D</param>
    /// <param name="kernel">null = <see cref="AttentionKernels.Default"/></param>
    /// <param name="random">initialisation as PyTorch's nn.Linear: query, key, value, out, each W (out, in) then b,
    /// U(±1/√C); null = seed 0</param>
    public MultiHeadSelfAttention(int channels, int heads, AttentionOptions? options = null, IAttentionKernel? kernel = null, Random? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heads);
        if (channels % heads != 0) throw new ArgumentException($"channels ({channels}) must be divisible by heads ({heads})");
        Channels = channels;
        Heads = heads;
        _shape = new DecoderConfig { VocabSize = 1, ContextLength = 1, Layers = 1, Channels = channels, Heads = heads };
        Layout = new SelfAttentionLayout(channels);
        Parameters = new ParameterArena(Layout);
        Gradients = new ParameterArena(Layout);
        Options = options ?? AttentionOptions.Default;
        Kernel = kernel ?? AttentionKernels.Default;
        (_lastKernel, _lastOptions) = (Kernel, Options);
        _attention = new AttentionLayer(new LinearLayer(Layout.AttentionWeight, Layout.AttentionBias, channels, 3 * channels),
            new LinearLayer(Layout.ProjectionWeight, Layout.ProjectionBias, channels, channels), heads, channels / heads);

        random ??= new Random(0);
        float bound = 1f / MathF.Sqrt(channels);
        var weight = new float[channels * channels];                                    // (out, in)
        var bias = new float[channels];
        foreach (var name in (string[])["query", "key", "value", "out"])
        {
            Ops.SequentialInit.Uniform(random, weight, bound);
            Ops.SequentialInit.Uniform(random, bias, bound);
            SetParameter(name + ".weight", weight);
            SetParameter(name + ".bias", bias);
        }
    }

    /// <summary>"query.weight", "query.bias", …, "out.bias" — the PyTorch state_dict names.</summary>
    public IReadOnlyList<string> ParameterNames => Layout.StateDict.Names;

    /// <summary>A copy of the parameter with this state_dict name, in PyTorch's layout (weights (out, in)).</summary>
    public Tensor Parameter(string name) => Layout.StateDict.Read(name, Parameters.Data);

    /// <summary>A copy of the gradient of the parameter with this state_dict name, in PyTorch's layout.</summary>
    public Tensor Gradient(string name) => Layout.StateDict.Read(name, Gradients.Data);

    /// <summary>Overwrites the parameter with this state_dict name from values in PyTorch's layout.</summary>
    public void SetParameter(string name, ReadOnlySpan<float> values) => Layout.StateDict.Write(name, values, Parameters.Data);

    public void ZeroGrad() => Gradients.Clear();


    /// <param name="x">(B, T, C)</param>
    /// <param name="options">this call's kernel, masks and hooks (names of block 0: <c>blocks.0.attn.hook_pattern</c> …)</param>
    /// <returns>y (B, T, C)</returns>
    public Tensor Forward(Tensor x, ForwardOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 3 || x.Dim(2) != Channels)
            throw new ArgumentException($"x must be (B, T, C = {Channels}), got {Tensor.ShapeString(x.Shape)}");
        int batch = x.Dim(0), length = x.Dim(1), c = Channels;
        if (batch <= 0 || length <= 0) throw new ArgumentException($"x must have at least one row, got {Tensor.ShapeString(x.Shape)}");
        var kernel = options?.Attention ?? Kernel;
        var attentionOptions = options?.AttentionOptions ?? Options;
        var hooks = HookRun.Resolve(options?.Hooks, _shape);
        long saved = kernel.SavedLength(new AttentionShape(batch, Heads, length, length, HeadDim));
        if (_acts is null || _acts.Batch != batch || _acts.Length != length || _acts.SavedPerBlock != saved)
            _acts = new DecoderActivations(_shape, batch, length, saved, training: true, _acts?.Data);
        var a = _acts;
        (_lastKernel, _lastOptions, _canBackward) = (kernel, attentionOptions, hooks?.AnyEdits != true);
        var run = Prepare(a);
        var block = a.Blocks[0];
        x.Data.AsSpan(0, batch * length * c).CopyTo(run[a.Encoded]);                          // (B, T, C)
        _attention.Forward(run, 0, block, a.Encoded, residual: null, block.Residual3,
            new AttentionCall(kernel, attentionOptions, Cache: null, CachedStart: 0, hooks));
        var y = new Tensor(batch, length, c);                                                  // (B, T, C)
        run[block.Residual3].CopyTo(y.Data);
        return y;
    }

    /// <summary>Backward of the last forward: adds every parameter gradient and returns dL/dx.</summary>
    /// <param name="dOutput">(B, T, C) dL/dy</param>
    /// <returns>dx (B, T, C)</returns>
    public Tensor Backward(Tensor dOutput)
    {
        ArgumentNullException.ThrowIfNull(dOutput);
        var a = _acts ?? throw new InvalidOperationException("Backward needs a Forward call first");
        if (!_canBackward) throw new InvalidOperationException("the last forward ran with hooks that edit activations; run Forward without them before Backward");
        int batch = a.Batch, length = a.Length, c = Channels;
        if (!dOutput.Shape.SequenceEqual([batch, length, c]))
            throw new ArgumentException($"dOutput must be {Tensor.ShapeString([batch, length, c])}, got {Tensor.ShapeString(dOutput.Shape)}");
        var run = Prepare(a);
        dOutput.Data.AsSpan(0, batch * length * c).CopyTo(run[a.DResidual]);
        _attention.Backward(run, a.Blocks[0], a.Encoded, a.DResidual, a.DNorm, _lastKernel, _lastOptions, accumulate: true);
        var dx = new Tensor(batch, length, c);
        run[a.DNorm].CopyTo(dx.Data);
        return dx;
    }

    private LayerRun Prepare(DecoderActivations a)
    {
        var run = _run;
        run.Parameters = Parameters.Data;
        run.Gradients = Gradients.Data;
        run.Activations = a;
        return run;
    }
}
