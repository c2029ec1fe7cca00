using AttentionLab.Attention;
using AttentionLab.Models;
using ILGPU;
using ILGPU.Runtime;

namespace AttentionLab.Cuda;

/// <summary>
/// GPT-2 with parameters, gradients and activations on the device for the whole training step: the same blocks,
/// formulas and parameter arena (<see cref="DecoderLayout"/> offsets, Hugging Face names) as <see cref="DecoderModel"/>,
/// each layer a device kernel from <see cref="GpuOps"/>. The host uploads the step's token ids and reads back the
/// mean loss (one float); weights cross only when asked (<see cref="UploadParameters"/>, <see cref="DownloadParameters"/>:
/// loading and checkpoints). Generation runs <see cref="ForwardCached"/> against a <see cref="DeviceKvCache"/>: only the
/// new token ids go over and one row of logits comes back. Head gates stay on the CPU model.
/// </summary>
public sealed partial class CudaDecoderModel : IDisposable
{
    private readonly GpuOps _ops;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _parameters;
    private MemoryBuffer1D<float, Stride1D.Dense>? _gradients;         // allocated by the first training use
    private MemoryBuffer1D<float, Stride1D.Dense>? _activationBuffer;
    private MemoryBuffer1D<int, Stride1D.Dense>? _tokens, _targets;
    private DeviceActivations? _acts;
    private readonly float[] _lossHost = new float[1];
    private float[]? _logitsHost;
    private bool _hasTargets, _logitsConsumed;

    /// <param name="attention">"naive" or "flash" (null: the config's kernel, which must have a GPU version)</param>
    public CudaDecoderModel(GpuContext gpu, DecoderConfig config, string? attention = null)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        if (!config.IsGpt2Architecture)
            throw new ArgumentException("the CUDA backend runs GPT-2's own architecture only (LayerNorm, GELU, learned or fixed positions, H = Hkv, biases); run this model on the CPU");
        if (config.Positions != PositionEncoding.Learned)
            throw new ArgumentException($"the GPU model has GPT-2's learned position table only; this model's positions are {config.Positions}");
        if (config.NormPlacement != NormPlacement.Pre)
            throw new ArgumentException("the GPU model has GPT-2's pre-norm blocks only; run this post-norm model on the CPU");
        if (!config.TiedOutput || config.OutputBias)
            throw new ArgumentException("the GPU model has GPT-2's head only (tied to wte, no bias); this model's head is untied or has a bias");
        Gpu = gpu;
        _ops = gpu.Ops;
        Config = config;
        Layout = new DecoderLayout(config);
        Attention = GpuAttention.Create(_ops, attention ?? config.Attention);
        AttentionOptions = new AttentionOptions { IsCausal = config.IsCausal };
        _parameters = gpu.Accelerator.Allocate1D<float>(Layout.Count);
        _parameters.MemSetToZero();
    }

    public GpuContext Gpu { get; }
    public DecoderConfig Config { get; }
    public DecoderLayout Layout { get; }
    public GpuAttention Attention { get; }
    public AttentionOptions AttentionOptions { get; set; }

    /// <summary>The parameter arena on the device (layout order).</summary>
    public ArrayView<float> Parameters => _parameters.View;

    /// <summary>dLoss/dParameters on the device, same layout.</summary>
    public ArrayView<float> Gradients => GradientBuffer.View;

    private MemoryBuffer1D<float, Stride1D.Dense> GradientBuffer
    {
        get
        {
            if (_gradients is null)
            {
                _gradients = Gpu.Accelerator.Allocate1D<float>(Layout.Count);
                _gradients.MemSetToZero();
            }
            return _gradients;
        }
    }

    /// <summary>Floats in the activation arena (memory reports).</summary>
    public long ActivationFloats => _acts?.Count ?? 0;

    /// <summary>Copies host weights (e.g. a CPU model's, initialized or loaded) onto the device.</summary>
    public void UploadParameters(ParameterArena parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Data.Length != Layout.Count) throw new ArgumentException($"the parameters have {parameters.Data.Length} floats; this model has {Layout.Count}");
        GpuOps.Upload(parameters.Data, _parameters.View);
    }

    /// <summary>Copies the device weights into a host arena of the same layout (checkpoints, generation).</summary>
    public void DownloadParameters(ParameterArena parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        GpuOps.Download(_parameters.View, parameters.Data);
    }

    /// <summary>Copies the device gradients to the host (tests).</summary>
    public void DownloadGradients(ParameterArena gradients)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        GpuOps.Download(Gradients, gradients.Data);
    }

    public void ZeroGrad() => _ops.Zero(Gradients);

    private ArrayView<float> P(ParameterView v) => _parameters.View.SubView(v.Offset, v.Length);
    private ArrayView<float> G(ParameterView v) => Gradients.SubView(v.Offset, v.Length);
    private ArrayView<float> A(Slot s) => _activationBuffer!.View.SubView(s.Start, s.Count);

    /// <summary>
    /// Runs the model on <paramref name="tokens"/> (B, T) and, with targets, returns the mean cross-entropy (the one
    /// float read back); without, NaN. The same forward as <see cref="DecoderModel.Forward"/>.
    /// </summary>
    public float Forward(ReadOnlySpan<int> tokens, int batch, int length, ReadOnlySpan<int> targets = default)
    {
        var cfg = Config;
        if (batch <= 0 || length <= 0 || length > cfg.ContextLength)
            throw new ArgumentOutOfRangeException(nameof(length), $"need B ≥ 1 and 1 ≤ T ≤ {cfg.ContextLength}, got B {batch}, T {length}");
        int n = batch * length;
        if (tokens.Length != n || (!targets.IsEmpty && targets.Length != n)) throw new ArgumentException($"tokens and targets need B·T = {n} ids");
        foreach (int t in tokens) if ((uint)t >= (uint)cfg.VocabSize) throw new ArgumentOutOfRangeException(nameof(tokens), $"token {t} is outside [0, {cfg.VocabSize})");
        foreach (int t in targets) if ((uint)t >= (uint)cfg.VocabSize) throw new ArgumentOutOfRangeException(nameof(targets), $"target {t} is outside [0, {cfg.VocabSize})");
        return Run(tokens, batch, length, targets, cache: null);
    }

    /// <summary>A KV cache on this model's device, sized for one sequence of the whole context.</summary>
    public DeviceKvCache CreateCache() => new(Gpu, Config.Layers, Config.Heads, Config.HeadDim, Config.ContextLength);

    /// <summary>
    /// Runs the n new tokens of one sequence at positions cache.Length … cache.Length + n − 1 against the cached keys
    /// and values, appending theirs to the cache; returns the (V) logits after the last new token (the one row read
    /// back). The same blocks as <see cref="Forward"/> and as <see cref="DecoderModel.ForwardCached"/>. Inference only.
    /// </summary>
    /// <param name="tokens">(n) new token ids</param>
    /// <param name="cache">the sequence so far, from <see cref="CreateCache"/></param>
    public ReadOnlySpan<float> ForwardCached(ReadOnlySpan<int> tokens, DeviceKvCache cache)
    {
        ArgumentNullException.ThrowIfNull(cache);
        var cfg = Config;
        if (cache.Layers != cfg.Layers || cache.Heads != cfg.Heads || cache.HeadDim != cfg.HeadDim || cache.Capacity != cfg.ContextLength)
            throw new ArgumentException("the KV cache was made for a model of another size");
        if (tokens.IsEmpty) throw new ArgumentException("ForwardCached needs at least one new token");
        if (!AttentionOptions.IsCausal) throw new InvalidOperationException("a KV cache needs causal attention: a bidirectional model must recompute every position");
        if (cache.Length + tokens.Length > cfg.ContextLength)
            throw new ArgumentOutOfRangeException(nameof(tokens), $"{cache.Length} cached + {tokens.Length} new positions exceed the context length {cfg.ContextLength}");
        foreach (int t in tokens) if ((uint)t >= (uint)cfg.VocabSize) throw new ArgumentOutOfRangeException(nameof(tokens), $"token {t} is outside [0, {cfg.VocabSize})");
        Run(tokens, 1, tokens.Length, default, cache);
        int v = cfg.VocabSize;
        _logitsHost ??= new float[v];
        GpuOps.Download(A(_acts!.Logits).SubView((long)(tokens.Length - 1) * v, v), _logitsHost);
        return _logitsHost;
    }

    /// <summary>The one forward path on the device: embeddings, blocks, head, loss. With a cache, the positions start
    /// at cache.Length and attention reads the cached keys and values.</summary>
    private float Run(ReadOnlySpan<int> tokens, int batch, int length, ReadOnlySpan<int> targets, DeviceKvCache? cache)
    {
        var cfg = Config;
        int n = batch * length;
        var shape = new AttentionShape(batch, cfg.Heads, length, length, cfg.HeadDim);
        long saved = cache is null ? Attention.SavedLength(shape) : 0;
        if (_acts is null || _acts.Batch != batch || _acts.Length != length || _acts.SavedPerBlock != saved)
        {
            _acts = new DeviceActivations(cfg, batch, length, saved);
            if (_activationBuffer is null || _activationBuffer.Length < _acts.Floats)
            {
                _activationBuffer?.Dispose();
                _activationBuffer = Gpu.Accelerator.Allocate1D<float>(_acts.Floats);
            }
            _tokens?.Dispose(); _targets?.Dispose();
            _tokens = Gpu.Accelerator.Allocate1D<int>(n);
            _targets = Gpu.Accelerator.Allocate1D<int>(n);
        }
        var a = _acts;
        GpuOps.Upload(tokens, _tokens!.View);
        _hasTargets = !targets.IsEmpty;
        if (_hasTargets) GpuOps.Upload(targets, _targets!.View);
        _logitsConsumed = false;
        int c = cfg.Channels, v = cfg.VocabSize;

        // x = wte[tokens] + wpe[start .. start + T): start is the cached length (0 without a cache)
        int start = cache?.Length ?? 0;
        _ops.EmbeddingForward(P(Layout.TokenEmbedding), P(Layout.PositionEmbedding!), _tokens.View, length, c, start, A(a.Encoded));
        var residual = a.Encoded;
        for (int l = 0; l < cfg.Layers; l++)
        {
            BlockForward(a, l, residual, shape, cache);
            residual = a.Blocks[l].Residual3;
        }
        if (cache is not null) cache.Length += length;
        _ops.LayerNormForward(A(residual), P(Layout.FinalNormWeight), P(Layout.FinalNormBias!), n, c, cfg.LayerNormEpsilon,
            A(a.FinalNorm), A(a.FinalNormMean), A(a.FinalNormRstd));
        // logits = ln_f · wteᵀ, the head tied to the embedding
        _ops.MatMul(A(a.FinalNorm), P(Layout.TokenEmbedding), A(a.Logits), n, v, c, transposeB: true);
        if (!_hasTargets) return float.NaN;
        _ops.CrossEntropyForward(A(a.Logits), _targets!.View, v, A(a.Losses), A(a.LogSumExp));
        _ops.Mean(A(a.Losses), A(a.MeanLoss));
        GpuOps.Download(A(a.MeanLoss), _lossHost);
        return _lossHost[0];
    }

    /// <summary>x = x + c_proj(attention(c_attn(ln_1(x)))); x = x + mlp.c_proj(gelu(mlp.c_fc(ln_2(x)))).</summary>
    private void BlockForward(DeviceActivations a, int l, Slot residual, AttentionShape shape, DeviceKvCache? cache)
    {
        var cfg = Config;
        int batch = a.Batch, length = a.Length, n = batch * length, c = cfg.Channels, h = cfg.Heads, d = cfg.HeadDim;
        float eps = cfg.LayerNormEpsilon;
        var w = Layout.Blocks[l];
        var s = a.Blocks[l];
        _ops.LayerNormForward(A(residual), P(w.Norm1Weight), P(w.Norm1Bias!), n, c, eps, A(s.Norm1), A(s.Norm1Mean), A(s.Norm1Rstd));
        // qkv = ln_1 · W_attn + b_attn: the bias pre-fills the output and the GEMM accumulates onto it
        _ops.BiasAdd(default, P(w.AttentionBias!), A(s.Qkv), 3 * c);
        _ops.MatMul(A(s.Norm1), P(w.AttentionWeight), A(s.Qkv), n, 3 * c, c, accumulate: true);
        _ops.SplitQkv(A(s.Qkv), batch, length, h, d, A(s.Q), A(s.K), A(s.V));                  // (B, H, T, D) each
        if (cache is null)
            Attention.Forward(A(s.Q), A(s.K), A(s.V), shape, AttentionOptions, A(s.AttentionOutput), A(s.AttentionSaved));
        else
        {
            // append this block's new keys and values, then the new queries attend to every cached position
            int start = cache.Length, tk = start + length;
            _ops.AppendToCache(A(s.K), length, start, cache.Capacity, d, cache.Keys(l));
            _ops.AppendToCache(A(s.V), length, start, cache.Capacity, d, cache.Values(l));
            Attention.ForwardCached(A(s.Q), cache.Keys(l), cache.Values(l), h, length, tk, cache.Capacity, d, AttentionOptions, A(s.AttentionOutput));
        }
        _ops.MergeHeads(A(s.AttentionOutput), batch, length, h, d, A(s.AttentionMerged));       // (B, T, C)
        // residual2 = residual + b_proj + merged · W_proj
        _ops.BiasAdd(A(residual), P(w.AttentionProjectionBias!), A(s.Residual2), c);
        _ops.MatMul(A(s.AttentionMerged), P(w.AttentionProjectionWeight), A(s.Residual2), n, c, c, accumulate: true);
        _ops.LayerNormForward(A(s.Residual2), P(w.Norm2Weight), P(w.Norm2Bias!), n, c, eps, A(s.Norm2), A(s.Norm2Mean), A(s.Norm2Rstd));
        _ops.BiasAdd(default, P(w.MlpBias!), A(s.Fc), 4 * c);
        _ops.MatMul(A(s.Norm2), P(w.MlpWeight), A(s.Fc), n, 4 * c, c, accumulate: true);
        _ops.GeluForward(A(s.Fc), A(s.FcGelu));
        _ops.BiasAdd(A(s.Residual2), P(w.MlpProjectionBias!), A(s.Residual3), c);
        _ops.MatMul(A(s.FcGelu), P(w.MlpProjectionWeight), A(s.Residual3), n, c, 4 * c, accumulate: true);
    }

    public void Dispose()
    {
        Attention.Dispose();
        _parameters.Dispose(); _gradients?.Dispose();
        _activationBuffer?.Dispose(); _tokens?.Dispose(); _targets?.Dispose();
    }
}
