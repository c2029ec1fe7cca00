using System.Diagnostics;
using AttentionLab.Attention;
using AttentionLab.Kernels;
using AttentionLab.Ops;

namespace AttentionLab.Models;

/// <summary>
/// GPT-2 (Radford et al. 2019) with hand-written forward and backward passes, as llm.c's train_gpt2.c:
/// <code>
/// x = wte[tokens] + wpe[0..T)                           (B, T, C)
/// for each block:
///     x = x + c_proj(attention(c_attn(ln_1(x))))        causal, H heads of D = C/H
///     x = x + mlp.c_proj(gelu(mlp.c_fc(ln_2(x))))       4C hidden
/// logits = ln_f(x) · wteᵀ                               (B, T, V), the head tied to the embedding
/// loss = cross_entropy(logits, targets)                 mean over B·T
/// </code>
/// The model is the one set of layers (namespace AttentionLab.Layers: <c>EmbeddingLayer</c>, <c>TransformerBlock</c>
/// of <c>NormLayer</c>, <c>AttentionLayer</c>, <c>MlpLayer</c>, then <c>OutputHead</c>), each a forward/backward pair
/// over the arenas, built from the config's choices. Parameters and gradients are two arenas with Hugging Face names
/// (<see cref="ParameterArena"/>); activations are one arena per (B, T), allocated on the first forward of that size
/// and reused after. Attention goes through an <see cref="IAttentionKernel"/>. Inspection and interventions are
/// arguments of a call (<see cref="ForwardOptions"/>: kernel, masks, hooks; <see cref="RunWithCache"/>,
/// <see cref="RunWithHooks"/>), never state on the model. Not thread-safe: one forward/backward at a time.
/// </summary>
public sealed partial class DecoderModel
{
    private DecoderActivations? _acts;
    private readonly ParameterArena? _gradients;
    private bool _hasTargets;
    private bool _logitsConsumed;
    private KvCache? _cachedRun;          // the cache of the last ForwardCached (null after a full Forward)
    private int _cachedStart;             // its length before that call: the first new position
    private IAttentionKernel _lastKernel; // the kernel and masks the last forward ran with (its backward uses the same)
    private AttentionOptions _lastOptions;
    private bool _lastEdited;             // the last forward had hooks that may edit activations: no backward
    private readonly Layers.LayerRun _run = new();
    private readonly Layers.EmbeddingLayer _embedding;
    private readonly Layers.TransformerBlock[] _blocks;
    private readonly Layers.OutputHead _head;

    /// <param name="config">sizes, attention kernel and causality</param>
    /// <param name="attention">the attention kernel for every block (e.g. <c>AttentionKernels.Parse("flash")</c>);
    /// null means the one <see cref="DecoderConfig.Attention"/> names</param>
    /// <param name="training">false builds an inference model (generation, inspection, the Explorer): no gradient
    /// arena, no saved attention state, no backward scratch</param>
    public DecoderModel(DecoderConfig config, IAttentionKernel? attention = null, bool training = true)
        : this(config, attention, training, parameters: null) { }

    /// <param name="weights16">the 16-bit streamed matrices of an inference model (<see cref="WeightStore"/>), or null</param>
    private DecoderModel(DecoderConfig config, IAttentionKernel? attention, bool training, ParameterArena? parameters, WeightStore? weights16 = null)
    {
        if (training && weights16 is not null) throw new ArgumentException("training runs in float32: 16-bit weights are for inference");
        Weights16 = weights16;
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        Attention = attention ?? AttentionKernels.Parse(config.Attention);
        AttentionOptions = DefaultOptions(config, Attention);
        _lastKernel = Attention;
        _lastOptions = AttentionOptions;
        IsTraining = training;
        Layout = (DecoderLayout?)parameters?.Layout ?? new DecoderLayout(config);
        if (training) _gradients = new ParameterArena(Layout);
        (_embedding, _blocks, _head) = BuildLayers(config, Layout);
        if (parameters is not null) { Parameters = parameters; return; }
        Parameters = new ParameterArena(Layout);
        SetNormsToIdentity();
    }

    /// <summary>
    /// Causal or bidirectional from the config; with Mistral's sliding window W, the window mask (the query and the
    /// W − 1 keys before it) that every exact kernel applies — unless the kernel is <c>window:W</c> itself, which
    /// brings the same mask (a window kernel of another width is refused: which one should win is unclear).
    /// </summary>
    private static AttentionOptions DefaultOptions(DecoderConfig config, IAttentionKernel kernel)
    {
        var options = new AttentionOptions { IsCausal = config.IsCausal };
        if (config.SlidingWindow is not int w) return options;
        if (kernel is WindowAttention window)
        {
            if (window.Window != w || window.GlobalTokens != 0 || window.TwoSided)
                throw new ArgumentException($"this model's sliding window is {w} keys; attention kernel '{kernel.Name}' would change it (use window:{w} or an exact kernel)");
            return options;
        }
        return options with { Window = new SlidingWindow(w - 1) };
    }

    /// <summary>The model as layers over the arena: the config's choices pick each layer's kind.</summary>
    private static (Layers.EmbeddingLayer, Layers.TransformerBlock[], Layers.OutputHead) BuildLayers(DecoderConfig config, DecoderLayout layout)
    {
        int c = config.Channels, h = config.Heads, d = config.HeadDim;
        float eps = config.LayerNormEpsilon;
        var sinusoids = config.Positions == PositionEncoding.Sinusoidal
            ? SinusoidalPositions.Table(config.ContextLength, c, SinusoidalPositions.Gpt2Scale) : null;
        var embedding = new Layers.EmbeddingLayer(layout.TokenEmbedding, layout.PositionEmbedding, config.Positions, sinusoids, c);
        var rotary = config.Positions == PositionEncoding.Rotary ? new RotaryEmbedding(d, config.RopeTheta, config.RopeScaling) : null;
        var blocks = new Layers.TransformerBlock[config.Layers];
        for (int l = 0; l < blocks.Length; l++)
            blocks[l] = config.IsGpt2Architecture
                ? Layers.TransformerBlock.Create(l, layout.Blocks[l], config.Norm, eps, config.Activation, h, d, config.NormPlacement)
                : Layers.TransformerBlock.Create(l, layout.Blocks[l], config, rotary);
        var head = new Layers.OutputHead(new Layers.NormLayer(config.Norm, layout.FinalNormWeight, layout.FinalNormBias, c, eps),
            layout.OutputWeight, layout.OutputBias, config.VocabSize, c);
        return (embedding, blocks, head);
    }

    /// <summary>
    /// An inference model over the same weights (shared, not copied): generation and inspection while this model
    /// trains, without disturbing its activations. Its kernel is this model's, and so are its attention options unless
    /// <paramref name="options"/> gives others (e.g. a model trained without the causal mask, evaluated with it).
    /// </summary>
    public DecoderModel InferenceView(AttentionOptions? options = null) =>
        new(Config, Attention, training: false, Parameters, Weights16) { AttentionOptions = options ?? AttentionOptions, Device = Device };

    /// <summary>An inference model of <paramref name="config"/> whose streamed matrices (<see cref="WeightStore.StreamedViews"/>)
    /// will be the 16-bit ones in <paramref name="weights16"/>; the caller fills the store and the float32 vectors.</summary>
    internal static DecoderModel ForInference(DecoderConfig config, IAttentionKernel? attention, WeightStore weights16) =>
        new(config, attention, training: false, parameters: null, weights16);

    /// <summary>
    /// An inference model with this model's weights in <paramref name="format"/>: the streamed matrices (block linears,
    /// token table, an untied head) rounded to BF16/F16 (to nearest, ties to even), quantized to Q8_0 blocks
    /// (<see cref="Q8Matrix.Quantize"/>) or widened back to float32; the vectors (biases, norms) and the position table
    /// stay float32. Kernel, attention options and device carry over.
    /// </summary>
    /// <exception cref="OverflowException">a weight beyond F16's range (±65504)</exception>
    /// <exception cref="ArgumentException">Q8_0 for a model whose matrices' rows are not a multiple of 32 weights</exception>
    public DecoderModel WithWeightFormat(WeightFormat format)
    {
        var streamed = WeightStore.StreamedViews(Layout).ToHashSet();
        WeightStore? store = null;
        if (format != WeightFormat.F32)
        {
            store = new WeightStore(format);
            foreach (var view in streamed)
                store.Add(view, Weights16?.Find(view) is { } h && h.Format == format ? h
                    : WeightMatrices.FromSingle(WeightValues(view), format, view.Shape[0], view.Shape[1]));
        }
        var result = new DecoderModel(Config, Attention, training: false, parameters: null, store) { AttentionOptions = AttentionOptions, Device = Device };
        foreach (var view in Layout.All)
            if (store is null || !streamed.Contains(view)) WeightValues(view).CopyTo(result.Parameters[view]);
        return result;
    }

    /// <summary>The float32 values of one parameter: from the arena, or widened from the 16-bit store.</summary>
    public float[] WeightValues(ParameterView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        return Weights16?.Find(view) is { } half ? half.ToSingle() : Parameters[view].ToArray();
    }

    /// <summary>The narrow matrices of a model built with BF16/F16/Q8_0 weights (<see cref="WithWeightFormat"/>, or a
    /// 16-bit folder); null for float32. Their ranges of <see cref="Parameters"/> are never written (zero, not resident).</summary>
    public WeightStore? Weights16 { get; }

    /// <summary>How the streamed matrices are stored: F32, BF16, F16 or Q8_0.</summary>
    public WeightFormat WeightFormat => Weights16?.Format ?? WeightFormat.F32;

    /// <summary>Bytes of weights one forward step reads: every parameter once at its stored width (the streamed
    /// matrices at 2 bytes in a 16-bit model, 1.125 in Q8_0), except that the position table is read one row per position.</summary>
    public long WeightBytesPerToken()
    {
        long bytes = 0;
        foreach (var view in Layout.All)
        {
            if (view == Layout.PositionEmbedding) { bytes += 4L * Config.Channels; continue; }
            var narrow = Weights16?.Find(view);
            if (view == Layout.TokenEmbedding && !Config.TiedOutput) { bytes += narrow is null ? 4L * Config.Channels : narrow.Bytes / narrow.Rows; continue; }
            bytes += narrow?.Bytes ?? 4L * view.Length;
        }
        return bytes;
    }

    public DecoderConfig Config { get; }

    /// <summary>True when the model has gradients and keeps what backward needs; false for inference.</summary>
    public bool IsTraining { get; }

    /// <summary>Where each named parameter lives; shared by <see cref="Parameters"/> and <see cref="Gradients"/>.</summary>
    public DecoderLayout Layout { get; }

    /// <summary>The weights (Hugging Face names and layout: Conv1D matrices are (in, out)).</summary>
    public ParameterArena Parameters { get; }

    /// <summary>dLoss/dParameters, same layout; <see cref="Backward"/> adds to them, <see cref="ZeroGrad"/> clears them.</summary>
    /// <exception cref="InvalidOperationException">an inference model has none</exception>
    public ParameterArena Gradients => _gradients ?? throw new InvalidOperationException("this model was built for inference: it has no gradients");

    /// <summary>Where the matrix products run (<see cref="ComputeDevice.Cpu"/> unless told otherwise).</summary>
    public ComputeDevice Device
    {
        get => _device;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (Weights16 is not null && value != ComputeDevice.Cpu)
                throw new InvalidOperationException($"{WeightFormat.Name()} weights run on the CPU only; use --dtype f32 on {value.Name}");
            _device = value;
        }
    }
    private ComputeDevice _device = ComputeDevice.Cpu;

    /// <summary>The attention kernel every block calls unless a call's <see cref="ForwardOptions.Attention"/> says
    /// otherwise (any exact kernel gives the same results to float rounding). Fixed when the model is built: a call
    /// that wants another passes it in its options, nothing is set and restored on the model.</summary>
    public IAttentionKernel Attention { get; init; }

    /// <summary>Scale and masks of every block's attention unless a call's <see cref="ForwardOptions.AttentionOptions"/>
    /// says otherwise: causal or bidirectional from the config; an experiment may build a model with others (e.g.
    /// <c>Scale = 1</c>) or take an <see cref="InferenceView"/> with them.</summary>
    public AttentionOptions AttentionOptions { get; init; }

    /// <summary>Row-wise ops with less work than this (elements) stay on one core. Tests set 0 on their own model to
    /// run every split path at tiny sizes; results agree to rounding either way.</summary>
    internal long ParallelMinimumWork { get; set; } = ParallelRows.DefaultMinimumWork;

    /// <summary>Optional per-phase timer (profiling); null means no clock is read.</summary>
    public DecoderPhaseTimes? Timer { get; set; }

    public long ParameterCount => Layout.Count;

    /// <summary>Floats in the activation arena (tests and memory reports).</summary>
    public long ActivationFloats => _acts?.Data.LongLength ?? 0;

    /// <summary>Batch size of the last forward.</summary>
    public int Batch => _acts?.Batch ?? 0;

    /// <summary>Sequence length (new positions) of the last forward.</summary>
    public int Length => _acts?.Length ?? 0;

    /// <summary>
    /// GPT-2/nanoGPT initialization from a seed: every matrix and both embeddings N(0, 0.02); the two residual
    /// projections per block (attn.c_proj, mlp.c_proj) N(0, 0.02/√(2L)) so the residual stream's variance does not
    /// grow with depth; biases 0; LayerNorm weights 1.
    /// </summary>
    public void InitializeWeights(int seed)
    {
        if (Weights16 is not null) throw new InvalidOperationException("initialize a float32 model, then convert it with WithWeightFormat");
        var p = Parameters;
        p.Clear();
        var random = new Random(seed);
        float residualStd = 0.02f / MathF.Sqrt(2 * Config.Layers);
        FillNormal(random, p[Layout.TokenEmbedding], 0.02f);
        if (Layout.PositionEmbedding is { } wpe)
        {
            FillNormal(random, p[wpe], 0.02f);
            if (Config.Positions != PositionEncoding.Learned) p[wpe].Clear(); // unused: zero (drawn anyway, so every other weight is the same)
        }
        foreach (var b in Layout.Blocks)
        {
            FillNormal(random, p[b.AttentionWeight], 0.02f);
            FillNormal(random, p[b.AttentionProjectionWeight], residualStd);
            FillNormal(random, p[b.MlpWeight], 0.02f);
            FillNormal(random, p[b.MlpProjectionWeight], residualStd);
        }
        // an untied head (Llama's lm_head) drawn last, so every weight before it is what a tied model of the seed has
        if (!Config.TiedOutput && Config.Norm == NormKind.RmsNorm) FillNormal(random, p[Layout.OutputWeight], 0.02f);
        SetNormsToIdentity();
    }

    /// <summary>Sets every gradient to zero (call before each <see cref="Backward"/> unless accumulating).</summary>
    public void ZeroGrad()
    {
        using var _ = Timer.Phase(DecoderPhase.ZeroGrad);
        var g = Gradients.Data;
        const int block = 1 << 16;
        int blocks = (int)(((long)g.Length + block - 1) / block); // the last block may be partial
        ParallelRows.For(Math.Max(1, blocks), g.Length, ParallelMinimumWork, (s, n) =>
        {
            long from = (long)s * block, to = Math.Min(g.Length, (long)(s + n) * block);
            Array.Clear(g, (int)from, (int)(to - from));
        });
    }

    /// <summary>A KV cache sized for this model (one sequence, the whole context).</summary>
    public KvCache CreateCache() => new(Config.Layers, Config.KeyValueHeads, Config.HeadDim, Config.ContextLength);

    /// <summary>
    /// Runs the model on <paramref name="tokens"/> (B, T). With targets (B, T) also computes the per-position losses
    /// and returns their mean; without, returns NaN. Afterwards <see cref="Logits"/>, <see cref="Losses"/> and
    /// <see cref="AttentionWeights"/> hold this forward's values.
    /// </summary>
    /// <param name="tokens">(B, T) token ids in [0, V)</param>
    /// <param name="batch">B</param>
    /// <param name="length">T, at most the context length</param>
    /// <param name="targets">(B, T) next-token ids (−1: a position that is not scored, e.g. BERT's unmasked tokens), or empty</param>
    /// <param name="options">this call's kernel, masks and hooks; null = the model's kernel and masks, no hooks</param>
    public float Forward(ReadOnlySpan<int> tokens, int batch, int length, ReadOnlySpan<int> targets = default, ForwardOptions? options = null)
    {
        var cfg = Config;
        if (batch <= 0 || length <= 0) throw new ArgumentOutOfRangeException(nameof(batch), $"batch and length must be positive, got {batch} and {length}");
        if (length > cfg.ContextLength) throw new ArgumentOutOfRangeException(nameof(length), $"length {length} exceeds the context length {cfg.ContextLength}");
        int n = batch * length;
        if (tokens.Length != n) throw new ArgumentException($"tokens has {tokens.Length} elements, (B, T) = ({batch}, {length}) needs {n}");
        if (!targets.IsEmpty && targets.Length != n) throw new ArgumentException($"targets has {targets.Length} elements, needs {n}");
        CheckIds(tokens, nameof(tokens));
        CheckIds(targets, nameof(targets), unscored: -1);
        return Run(tokens, batch, length, targets, cache: null, options);
    }

    /// <summary>
    /// Runs the n new tokens of one sequence at positions cache.Length … cache.Length + n − 1 against the cached keys
    /// and values of the earlier positions, appending theirs to the cache: the same blocks as <see cref="Forward"/>,
    /// with each new query attending to every cached key (causal, aligned bottom-right). Afterwards
    /// <see cref="Logits"/> is (n, V) and <see cref="AttentionWeights"/> (1, H, n, cache.Length). Inference only.
    /// </summary>
    /// <param name="tokens">(n) new token ids</param>
    /// <param name="cache">the sequence so far; must come from <see cref="CreateCache"/> of a model of this size</param>
    /// <param name="options">this call's kernel, masks and hooks (hook shapes have T = n new positions, Tk = cached + n)</param>
    public ReadOnlySpan<float> ForwardCached(ReadOnlySpan<int> tokens, KvCache cache, ForwardOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(cache);
        var cfg = Config;
        if (cache.Layers != cfg.Layers || cache.Heads != cfg.KeyValueHeads || cache.HeadSize != cfg.HeadDim || cache.Capacity != cfg.ContextLength)
            throw new ArgumentException("the KV cache was made for a model of another size");
        if (tokens.IsEmpty) throw new ArgumentException("ForwardCached needs at least one new token");
        if (!(options?.AttentionOptions ?? AttentionOptions).IsCausal) throw new InvalidOperationException("a KV cache needs causal attention: a bidirectional model must recompute every position");
        if (cache.Length + tokens.Length > cfg.ContextLength)
            throw new ArgumentOutOfRangeException(nameof(tokens), $"{cache.Length} cached + {tokens.Length} new positions exceed the context length {cfg.ContextLength}");
        CheckIds(tokens, nameof(tokens));
        cache.Reserve(cache.Length + tokens.Length);
        Run(tokens, 1, tokens.Length, default, cache, options);
        return Logits.Slice((tokens.Length - 1) * cfg.VocabSize, cfg.VocabSize);
    }

    /// <summary>
    /// TransformerLens's <c>run_with_cache</c>: one sequence through the model, keeping a copy of every activation
    /// whose canonical name (<see cref="Hooks.HookNames"/>) passes <paramref name="names"/> — and nothing else. The
    /// logits are in <see cref="Logits"/> afterwards; the results equal a plain <see cref="Forward"/> bit for bit.
    /// </summary>
    /// <param name="tokens">(T) token ids</param>
    /// <param name="names">which activations to keep, e.g. <c>n =&gt; n == "blocks.0.attn.hook_pattern"</c></param>
    /// <param name="options">kernel, masks and further hooks of the call</param>
    /// <returns>the mean loss of each token predicting the next (NaN for one token), and the cache</returns>
    public (float Loss, Hooks.ActivationCache Cache) RunWithCache(ReadOnlySpan<int> tokens, Func<string, bool> names, ForwardOptions? options = null)
    {
        var (recorder, cache) = Hooks.ActivationCache.Recorder(names);
        var hooks = options?.Hooks is { } more ? Hooks.HookSetExtensions.Then(more, recorder) : recorder;
        float loss = SequenceLoss(tokens, (options ?? ForwardOptions.None) with { Hooks = hooks });
        return (loss, cache);
    }

    /// <summary>
    /// TransformerLens's <c>run_with_hooks</c>: one sequence through the model with <paramref name="hooks"/> reading
    /// or editing activations for this call only. Returns the mean loss of each token predicting the next (NaN for
    /// one token); the logits are in <see cref="Logits"/> afterwards.
    /// </summary>
    public float RunWithHooks(ReadOnlySpan<int> tokens, Hooks.HookSet hooks, ForwardOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(hooks);
        return SequenceLoss(tokens, (options ?? ForwardOptions.None) with { Hooks = hooks });
    }

    /// <summary>One sequence, each id predicting the next: the forward with targets tokens[1..] (the last position's
    /// placeholder target left out of the mean). NaN for a single token.</summary>
    internal float SequenceLoss(ReadOnlySpan<int> tokens, ForwardOptions options)
    {
        int t = tokens.Length;
        if (t == 0) throw new ArgumentException("need at least one token");
        if (t == 1)
        {
            Forward(tokens, 1, 1, default, options);
            return float.NaN;
        }
        var targets = new int[t];
        tokens[1..].CopyTo(targets);
        Forward(tokens, 1, t, targets, options);
        double total = 0;
        foreach (float x in Losses[..(t - 1)]) total += x;
        return (float)(total / (t - 1));
    }

    /// <param name="unscored">an id that is allowed besides [0, V) (−1: a target that is not scored), or null</param>
    private void CheckIds(ReadOnlySpan<int> ids, string name, int? unscored = null)
    {
        foreach (int t in ids)
            if ((uint)t >= (uint)Config.VocabSize && t != unscored)
                throw new ArgumentOutOfRangeException(name, $"token {t} is outside [0, {Config.VocabSize})");
    }

    /// <summary>The one forward path: embeddings, blocks, head, loss. With a cache, the positions start at
    /// cache.Length and attention reads the cached keys and values.</summary>
    /// <param name="fromLayer">−1: the whole pass; l ≥ 0: the embedding and blocks before l are skipped and
    /// <paramref name="entering"/> is block l's input (<see cref="ForwardFrom"/>)</param>
    private float Run(ReadOnlySpan<int> tokens, int batch, int length, ReadOnlySpan<int> targets, KvCache? cache, ForwardOptions? options,
        int fromLayer = -1, ReadOnlySpan<float> entering = default)
    {
        var cfg = Config;
        var kernel = options?.Attention ?? Attention;
        var attentionOptions = options?.AttentionOptions ?? AttentionOptions;
        var hooks = Hooks.HookRun.Resolve(options?.Hooks, cfg);
        bool keepForBackward = IsTraining && cache is null;
        var shape = new AttentionShape(batch, cfg.Heads, length, length, cfg.HeadDim);
        long saved = keepForBackward ? kernel.SavedLength(shape) : 0;
        if (_acts is null || _acts.Batch != batch || _acts.Length != length || _acts.SavedPerBlock != saved)
            _acts = new DecoderActivations(cfg, batch, length, saved, keepForBackward, _acts?.Data);
        var a = _acts;
        tokens.CopyTo(a.Tokens);
        _hasTargets = !targets.IsEmpty;
        if (_hasTargets) targets.CopyTo(a.Targets);
        _logitsConsumed = false;
        _cachedRun = cache;
        _cachedStart = cache?.Length ?? 0;
        _lastKernel = kernel;
        _lastOptions = attentionOptions;
        _lastEdited = hooks?.AnyEdits == true || fromLayer >= 0;

        var run = Prepare(a);
        Slot residual = fromLayer <= 0 ? a.Encoded : a.Blocks[fromLayer - 1].Residual3;
        if (fromLayer < 0) _embedding.Forward(run, a.Tokens.AsSpan(0, batch * length), _cachedStart, a.Encoded, hooks);
        else entering.CopyTo(run[residual]);
        var call = new Layers.AttentionCall(kernel, attentionOptions, cache, _cachedStart, hooks);
        foreach (var block in _blocks.AsSpan(Math.Max(0, fromLayer)))
        {
            block.Forward(run, residual, call);
            residual = a.Blocks[block.Index].Residual3;
        }
        if (cache is not null) cache.Length += length;
        return _head.Forward(run, residual, _hasTargets, hooks);
    }

    /// <summary>The layers' view of this pass: the arenas, the device, the timer.</summary>
    private Layers.LayerRun Prepare(DecoderActivations a)
    {
        var run = _run;
        run.Parameters = Parameters.Data;
        run.Gradients = _gradients?.Data;
        run.Weights16 = Weights16;
        run.Activations = a;
        run.Device = Device;
        run.Timer = Timer;
        run.ParallelMinimumWork = ParallelMinimumWork;
        return run;
    }

    /// <summary>(B, T, V) logits of the last forward; unavailable after <see cref="Backward"/> (reused for dLogits).</summary>
    public ReadOnlySpan<float> Logits
    {
        get
        {
            var a = RequireForward();
            if (_logitsConsumed) throw new InvalidOperationException("the logits were overwritten by Backward; run Forward again");
            return a[a.Logits];
        }
    }

    /// <summary>(B, T) per-position cross-entropy of the last forward with targets.</summary>
    public ReadOnlySpan<float> Losses
    {
        get
        {
            var a = RequireForward();
            if (!_hasTargets) throw new InvalidOperationException("the last Forward had no targets");
            return a[a.Losses];
        }
    }

    /// <summary>(B, T, C) output of block <paramref name="layer"/> (the residual stream after it) from the last forward.</summary>
    public ReadOnlySpan<float> BlockOutput(int layer)
    {
        var a = RequireForward();
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layer, Config.Layers);
        return a[a.Blocks[layer].Residual3];
    }

    private DecoderActivations RequireForward() =>
        _acts ?? throw new InvalidOperationException("run Forward first");

    private void SetNormsToIdentity()
    {
        var p = Parameters;
        foreach (var b in Layout.Blocks)
        {
            p[b.Norm1Weight].Fill(1f);
            p[b.Norm2Weight].Fill(1f);
            if (b.QueryNormWeight is { } qn) p[qn].Fill(1f);
            if (b.KeyNormWeight is { } kn) p[kn].Fill(1f);
        }
        p[Layout.FinalNormWeight].Fill(1f);
    }

    /// <summary>Box–Muller normal samples, deterministic for a seed.</summary>
    private static void FillNormal(Random random, Span<float> values, float std)
    {
        for (int i = 0; i < values.Length; i += 2)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            double r = Math.Sqrt(-2.0 * Math.Log(u1)) * std;
            values[i] = (float)(r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < values.Length) values[i + 1] = (float)(r * Math.Sin(2 * Math.PI * u2));
        }
    }
}
