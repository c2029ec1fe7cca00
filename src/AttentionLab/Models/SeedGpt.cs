using AttentionLab.Attention;
using AttentionLab.Hooks;
using AttentionLab.Layers;
using AttentionLab.Ops;
using AttentionLab.Tensors;

namespace AttentionLab.Models;

/// <summary>
/// The GPTModel of the seed materials — the smallest thing that is still a GPT:
/// <code>
/// x = token_embedding(ids) + position_embedding(arange(T))   (B, T, C)   EmbeddingLayer, learned positions
/// x = attention(x)                                            (B, T, C)   one causal AttentionLayer, no residual
/// logits = output_head(x)                                     (B, T, V)   OutputHead: no final norm, untied, no bias
/// loss = cross_entropy(logits, targets)                       mean over all B·T positions
/// </code>
/// No layer norm, no MLP, no residual: those come with GPT-2. The model is the one stack's layers over one parameter
/// arena (<see cref="SeedGptLayout"/>: query, key and value fused into one (C, 3C) matrix); the names a learner uses
/// are PyTorch's state_dict names (<c>token_embedding.weight</c>, <c>attention.query.weight</c>, …,
/// <c>output_head.weight</c>, matrices (out, in)), read and written with <see cref="Parameter"/>,
/// <see cref="SetParameter"/> and <see cref="Gradient"/>. Attention is read through hooks
/// (<see cref="ForwardOptions.Hooks"/>: <c>blocks.0.attn.hook_pattern</c>, <c>blocks.0.attn.hook_z</c>), never
/// kept on the model. Gradients accumulate like PyTorch's <c>.grad</c>; clear them with <see cref="ZeroGrad"/>.
/// Not thread-safe: one forward/backward at a time.
/// </summary>
public sealed class SeedGpt
{
    private readonly DecoderConfig _shape;        // the activation arena's sizes: one block, SeedGpt's V, T_max, C, H
    private readonly LayerRun _run = new();
    private readonly EmbeddingLayer _embedding;
    private readonly AttentionLayer _attention;
    private readonly OutputHead _head;
    private DecoderActivations? _acts;
    private IAttentionKernel _lastKernel;
    private AttentionOptions _lastOptions = AttentionOptions.Causal;
    private bool _lossReady;                   // Loss ran after the last Forward: Backward may run
    private bool _lastEdited;                  // the last forward's hooks may have edited activations: no backward

    public SeedGptConfig Config { get; }

    /// <summary>Where each parameter lives in <see cref="Parameters"/> and <see cref="Gradients"/>.</summary>
    public SeedGptLayout Layout { get; }

    /// <summary>The weights, one arena (fused qkv and the output projection stored (in, out)).</summary>
    public ParameterArena Parameters { get; }

    /// <summary>dLoss/dParameters, same layout; <see cref="Backward"/> adds to them.</summary>
    public ParameterArena Gradients { get; }

    /// <summary>The attention kernel of every call unless its <see cref="ForwardOptions.Attention"/> says otherwise;
    /// swap it freely between calls (e.g. "naive" vs "fast").</summary>
    public IAttentionKernel Attention { get; init; }

    /// <summary>Scale and masks of the attention: causal, scale 1/√D.</summary>
    public AttentionOptions AttentionOptions { get; init; } = AttentionOptions.Causal;

    /// <summary>D = C / H, the channels of each head.</summary>
    public int HeadDim => Config.DModel / Config.Heads;

    /// <summary>(V, C) token_embedding.weight, a view of the arena.</summary>
    public Span<float> TokenEmbedding => Parameters[Layout.TokenEmbedding];

    /// <summary>(T_max, C) position_embedding.weight, a view of the arena.</summary>
    public Span<float> PositionEmbedding => Parameters[Layout.PositionEmbedding];

    /// <param name="kernel">attention kernel; null = <see cref="AttentionKernels.Default"/></param>
    /// <param name="seed">initialisation seed: embeddings N(0, 1) and Linear U(±1/√in), the distributions PyTorch uses</param>
    public SeedGpt(SeedGptConfig config, IAttentionKernel? kernel = null, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.VocabSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.MaxLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.DModel);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.Heads);
        if (config.DModel % config.Heads != 0)
            throw new ArgumentException($"channels ({config.DModel}) must be divisible by heads ({config.Heads})");
        Config = config;
        int v = config.VocabSize, c = config.DModel, h = config.Heads, d = c / h;
        _shape = new DecoderConfig { VocabSize = v, ContextLength = config.MaxLength, Layers = 1, Channels = c, Heads = h };
        Layout = new SeedGptLayout(config);
        Parameters = new ParameterArena(Layout);
        Gradients = new ParameterArena(Layout);
        Attention = kernel ?? AttentionKernels.Default;
        _lastKernel = Attention;

        var l = Layout;
        _embedding = new EmbeddingLayer(l.TokenEmbedding, l.PositionEmbedding, PositionEncoding.Learned, sinusoids: null, c);
        _attention = new AttentionLayer(new LinearLayer(l.AttentionWeight, l.AttentionBias, c, 3 * c),
            new LinearLayer(l.ProjectionWeight, l.ProjectionBias, c, c), h, d);
        _head = new OutputHead(finalNorm: null, l.OutputWeight, bias: null, v, c);
        Initialize(seed);
    }

    /// <summary>
    /// PyTorch's defaults, drawn in the order the seed's module tree creates them from one <see cref="Random"/>(seed):
    /// the two embeddings N(0, 1) (block-parallel streams seeded from it), then query, key, value and out as
    /// <c>nn.Linear(C, C)</c> U(±1/√C), weight (out, in) then bias, then output_head U(±1/√C) (a seeded stream).
    /// </summary>
    private void Initialize(int seed)
    {
        var random = new Random(seed);
        int c = Config.DModel;
        ParameterInit.Normal(Segment(Layout.TokenEmbedding), (ulong)random.NextInt64());
        ParameterInit.Normal(Segment(Layout.PositionEmbedding), (ulong)random.NextInt64());
        float bound = 1f / MathF.Sqrt(c);
        var weight = new float[c * c];                                                  // (out, in)
        var bias = new float[c];
        foreach (var name in (string[])["query", "key", "value", "out"])
        {
            Ops.SequentialInit.Uniform(random, weight, bound);
            Ops.SequentialInit.Uniform(random, bias, bound);
            SetParameter($"attention.{name}.weight", weight);
            SetParameter($"attention.{name}.bias", bias);
        }
        ParameterInit.Uniform(Segment(Layout.OutputWeight), bound, (ulong)random.NextInt64());
    }

    private ArraySegment<float> Segment(ParameterView view) => new(Parameters.Data, view.Offset, view.Length);

    /// <summary>The number of parameters of this model (see <see cref="SeedGptConfig.ParameterCount"/>).</summary>
    public long ParameterCount => Layout.Count;

    /// <summary>The parameter count of a config without building the model (102,728,704 for the defaults).</summary>
    public static long CountParameters(SeedGptConfig config) => config.ParameterCount;

    /// <summary>The PyTorch state_dict names, in state_dict order.</summary>
    public IReadOnlyList<string> ParameterNames => Layout.StateDict.Names;

    /// <summary>A copy of the parameter with this state_dict name, in PyTorch's layout (Linear weights (out, in)).</summary>
    public Tensor Parameter(string name) => Layout.StateDict.Read(name, Parameters.Data);

    /// <summary>A copy of dLoss/d(the parameter with this state_dict name), in PyTorch's layout.</summary>
    public Tensor Gradient(string name) => Layout.StateDict.Read(name, Gradients.Data);

    /// <summary>Overwrites the parameter with this state_dict name from values in PyTorch's layout.</summary>
    public void SetParameter(string name, ReadOnlySpan<float> values) => Layout.StateDict.Write(name, values, Parameters.Data);


    public void ZeroGrad() => Gradients.Clear();

    /// <summary>(B, T, C) x = token_embedding(ids) + position_embedding(arange(T)) of the last <see cref="Forward"/>, a copy.</summary>
    public Tensor? LastEmbedded => _acts is { } a ? Copy(a[a.Encoded], a.Batch, a.Length, Config.DModel) : null;

    /// <summary>(B, T, C) the attention's output (after W_O) of the last <see cref="Forward"/>, a copy.</summary>
    public Tensor? LastAttended => _acts is { } a ? Copy(a[a.Blocks[0].Residual3], a.Batch, a.Length, Config.DModel) : null;

    private static Tensor Copy(ReadOnlySpan<float> values, params int[] shape)
    {
        var t = new Tensor(shape);
        values.CopyTo(t.Data);
        return t;
    }

    /// <param name="inputIds">(B, T) token ids, row-major</param>
    /// <param name="options">this call's kernel, masks and hooks (e.g. <c>blocks.0.attn.hook_pattern</c>)</param>
    /// <returns>logits (B, T, V)</returns>
    public Tensor Forward(int[] inputIds, int batch, int length, ForwardOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        int v = Config.VocabSize;
        if (batch <= 0 || length <= 0 || inputIds.Length != batch * length)
            throw new ArgumentException($"inputIds has {inputIds.Length} ids; (B, T) = ({batch}, {length}) needs {batch * length}");
        if (length > Config.MaxLength)
            throw new ArgumentException($"sequence length {length} exceeds max_length {Config.MaxLength}");
        foreach (var id in inputIds)
            if ((uint)id >= (uint)v) throw new ArgumentException($"token id {id} is outside the vocabulary (0..{v - 1})");

        var kernel = options?.Attention ?? Attention;
        var attentionOptions = options?.AttentionOptions ?? AttentionOptions;
        var hooks = HookRun.Resolve(options?.Hooks, _shape);
        long saved = kernel.SavedLength(new AttentionShape(batch, Config.Heads, length, length, HeadDim));
        if (_acts is null || _acts.Batch != batch || _acts.Length != length || _acts.SavedPerBlock != saved)
            _acts = new DecoderActivations(_shape, batch, length, saved, training: true, _acts?.Data);
        var a = _acts;
        inputIds.CopyTo(a.Tokens, 0);
        (_lastKernel, _lastOptions, _lastEdited, _lossReady) = (kernel, attentionOptions, hooks?.AnyEdits == true, false);

        var run = Prepare(a);
        var block = a.Blocks[0];
        _embedding.Forward(run, a.Tokens, 0, a.Encoded, hooks);                              // (B, T, C)
        var call = new AttentionCall(kernel, attentionOptions, Cache: null, CachedStart: 0, hooks);
        _attention.Forward(run, 0, block, a.Encoded, residual: null, block.Residual3, call);  // (B, T, C), no residual
        _head.Forward(run, block.Residual3, hasTargets: false, hooks);                       // (B, T, V)
        return Copy(a[a.Logits], batch, length, v);
    }

    /// <summary>
    /// Mean cross-entropy over all B·T positions, <c>mean(logsumexp(logits) − logits[target])</c>, of the last
    /// <see cref="Forward"/>: the output head runs again with the targets (same weights, same input, so the same
    /// logits) and keeps dL/dlogits = (softmax(logits) − onehot(target)) / (B·T) for <see cref="Backward"/>.
    /// </summary>
    /// <param name="logits">(B, T, V) from <see cref="Forward"/></param>
    /// <param name="targetIds">(B, T)</param>
    public float Loss(Tensor logits, int[] targetIds)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targetIds);
        var a = _acts ?? throw new InvalidOperationException("Loss needs a Forward first");
        int v = Config.VocabSize, n = a.Batch * a.Length;
        if (logits.Length != n * v || targetIds.Length != n)
            throw new ArgumentException($"Loss needs the logits (B, T, V) of the last Forward and targets (B, T) = ({a.Batch}, {a.Length})");
        foreach (var target in targetIds)
            if ((uint)target >= (uint)v) throw new ArgumentException($"target id {target} is outside the vocabulary (0..{v - 1})");
        targetIds.CopyTo(a.Targets, 0);
        float loss = _head.Forward(Prepare(a), a.Blocks[0].Residual3, hasTargets: true, hooks: null);
        _lossReady = true;
        return loss;
    }

    /// <summary>Adds the gradient of the last <see cref="Loss"/> to every parameter's gradient.</summary>
    public void Backward()
    {
        if (!_lossReady || _acts is null) throw new InvalidOperationException("Backward needs Forward and Loss first");
        if (_lastEdited) throw new InvalidOperationException("the last forward ran with hooks that edit activations; run Forward without them before Backward");
        var a = _acts;
        var run = Prepare(a);
        var block = a.Blocks[0];
        _head.Backward(run, block.Residual3, accumulate: true);                               // dLogits → d(attended) in DResidual
        _attention.Backward(run, block, a.Encoded, a.DResidual, a.DNorm, _lastKernel, _lastOptions, accumulate: true); // → dx in DNorm
        _embedding.Backward(run, a.Tokens, a.DNorm);                                         // both tables get dx; a repeated token collects it each time
        _lossReady = false;                                                                  // the logits slot now holds dLogits
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
