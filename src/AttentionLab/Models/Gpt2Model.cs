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
/// Parameters and gradients are two arenas with Hugging Face names (<see cref="Gpt2Parameters"/>); activations are
/// one arena per (B, T), allocated on the first forward of that size and reused after. Attention goes through an
/// <see cref="IAttentionKernel"/>. Not thread-safe: one forward/backward at a time.
/// </summary>
public sealed partial class Gpt2Model
{
    private Gpt2Activations? _acts;
    private readonly Gpt2Parameters? _gradients;
    private bool _hasTargets;
    private bool _logitsConsumed;
    private KvCache? _cachedRun;          // the cache of the last ForwardCached (null after a full Forward)
    private int _cachedStart;             // its length before that call: the first new position
    private readonly float[]? _sinusoids;  // (T, C) fixed position table (scaled to the embeddings) when Config.Positions is Sinusoidal

    /// <param name="config">sizes, attention kernel and causality</param>
    /// <param name="attention">the attention kernel for every block (e.g. <c>AttentionKernels.Parse("flash")</c>);
    /// null means the one <see cref="Gpt2Config.Attention"/> names</param>
    /// <param name="training">false builds an inference model (generation, inspection, the Explorer): no gradient
    /// arena, no saved attention state, no backward scratch</param>
    public Gpt2Model(Gpt2Config config, IAttentionKernel? attention = null, bool training = true)
        : this(config, attention, training, parameters: null) { }

    private Gpt2Model(Gpt2Config config, IAttentionKernel? attention, bool training, Gpt2Parameters? parameters)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        Attention = attention ?? AttentionKernels.Parse(config.Attention);
        AttentionOptions = new AttentionOptions { IsCausal = config.IsCausal };
        IsTraining = training;
        if (config.Positions == PositionEncoding.Sinusoidal) _sinusoids = SinusoidalPositions.Table(config.ContextLength, config.Channels, SinusoidalPositions.Gpt2Scale);
        Layout = parameters?.Layout ?? new Gpt2Layout(config);
        if (training) _gradients = new Gpt2Parameters(Layout);
        if (parameters is not null) { Parameters = parameters; return; }
        Parameters = new Gpt2Parameters(Layout);
        SetNormsToIdentity();
    }

    /// <summary>
    /// An inference model over the same weights (shared, not copied): generation and inspection while this model
    /// trains, without disturbing its activations. Its kernel and attention options start as this model's.
    /// </summary>
    public Gpt2Model InferenceView() =>
        new(Config, Attention, training: false, Parameters) { AttentionOptions = AttentionOptions, Device = Device };

    public Gpt2Config Config { get; }

    /// <summary>True when the model has gradients and keeps what backward needs; false for inference.</summary>
    public bool IsTraining { get; }

    /// <summary>Where each named parameter lives; shared by <see cref="Parameters"/> and <see cref="Gradients"/>.</summary>
    public Gpt2Layout Layout { get; }

    /// <summary>The weights (Hugging Face names and layout: Conv1D matrices are (in, out)).</summary>
    public Gpt2Parameters Parameters { get; }

    /// <summary>dLoss/dParameters, same layout; <see cref="Backward"/> adds to them, <see cref="ZeroGrad"/> clears them.</summary>
    /// <exception cref="InvalidOperationException">an inference model has none</exception>
    public Gpt2Parameters Gradients => _gradients ?? throw new InvalidOperationException("this model was built for inference: it has no gradients");

    /// <summary>Where the matrix products run (<see cref="ComputeDevice.Cpu"/> unless told otherwise).</summary>
    public ComputeDevice Device { get; set; } = ComputeDevice.Cpu;

    /// <summary>The attention kernel every block calls. Settable to compare kernels on one model (any exact kernel
    /// gives the same results to float rounding).</summary>
    public IAttentionKernel Attention { get; set; }

    /// <summary>Scale and masks of every block's attention: causal or bidirectional from the config; settable for
    /// experiments (e.g. <c>Scale = 1</c> to drop 1/√D).</summary>
    public AttentionOptions AttentionOptions { get; set; }

    /// <summary>(L·H) multipliers on each head's output before the heads are merged; null = every head as trained.
    /// 0 zeroes ("ablates") a head; the backward pass honours the gates.</summary>
    public float[]? HeadGates
    {
        get => _headGates;
        set
        {
            if (value is not null && value.Length != Config.Layers * Config.Heads)
                throw new ArgumentException($"head gates must have L·H = {Config.Layers * Config.Heads} entries, got {value.Length}");
            _headGates = value;
        }
    }
    private float[]? _headGates;

    /// <summary>Row-wise ops with less work than this (elements) stay on one core. Tests set 0 on their own model to
    /// run every split path at tiny sizes; results agree to rounding either way.</summary>
    internal long ParallelMinimumWork { get; set; } = ParallelRows.DefaultMinimumWork;

    /// <summary>Optional per-phase timer (profiling); null means no clock is read.</summary>
    public Gpt2PhaseTimes? Timer { get; set; }

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
        var p = Parameters;
        p.Clear();
        var random = new Random(seed);
        float residualStd = 0.02f / MathF.Sqrt(2 * Config.Layers);
        FillNormal(random, p[Layout.TokenEmbedding], 0.02f);
        FillNormal(random, p[Layout.PositionEmbedding], 0.02f);
        if (Config.Positions != PositionEncoding.Learned) p[Layout.PositionEmbedding].Clear(); // unused: zero (drawn anyway, so every other weight is the same)
        foreach (var b in Layout.Blocks)
        {
            FillNormal(random, p[b.AttentionWeight], 0.02f);
            FillNormal(random, p[b.AttentionProjectionWeight], residualStd);
            FillNormal(random, p[b.MlpWeight], 0.02f);
            FillNormal(random, p[b.MlpProjectionWeight], residualStd);
        }
        SetNormsToIdentity();
    }

    /// <summary>Sets every gradient to zero (call before each <see cref="Backward"/> unless accumulating).</summary>
    public void ZeroGrad()
    {
        long start = Stopwatch.GetTimestamp();
        var g = Gradients.Data;
        const int block = 1 << 16;
        int blocks = (int)(((long)g.Length + block - 1) / block); // the last block may be partial
        ParallelRows.For(Math.Max(1, blocks), g.Length, ParallelMinimumWork, (s, n) =>
        {
            long from = (long)s * block, to = Math.Min(g.Length, (long)(s + n) * block);
            Array.Clear(g, (int)from, (int)(to - from));
        });
        Timer?.Add(Gpt2Phase.ZeroGrad, Stopwatch.GetTimestamp() - start);
    }

    /// <summary>A KV cache sized for this model (one sequence, the whole context).</summary>
    public KvCache CreateCache() => new(Config.Layers, Config.Heads, Config.HeadDim, Config.ContextLength);

    /// <summary>
    /// Runs the model on <paramref name="tokens"/> (B, T). With targets (B, T) also computes the per-position losses
    /// and returns their mean; without, returns NaN. Afterwards <see cref="Logits"/>, <see cref="Losses"/> and
    /// <see cref="AttentionWeights"/> hold this forward's values.
    /// </summary>
    /// <param name="tokens">(B, T) token ids in [0, V)</param>
    /// <param name="batch">B</param>
    /// <param name="length">T, at most the context length</param>
    /// <param name="targets">(B, T) next-token ids, or empty</param>
    public float Forward(ReadOnlySpan<int> tokens, int batch, int length, ReadOnlySpan<int> targets = default)
    {
        var cfg = Config;
        if (batch <= 0 || length <= 0) throw new ArgumentOutOfRangeException(nameof(batch), $"batch and length must be positive, got {batch} and {length}");
        if (length > cfg.ContextLength) throw new ArgumentOutOfRangeException(nameof(length), $"length {length} exceeds the context length {cfg.ContextLength}");
        int n = batch * length;
        if (tokens.Length != n) throw new ArgumentException($"tokens has {tokens.Length} elements, (B, T) = ({batch}, {length}) needs {n}");
        if (!targets.IsEmpty && targets.Length != n) throw new ArgumentException($"targets has {targets.Length} elements, needs {n}");
        CheckIds(tokens, nameof(tokens));
        CheckIds(targets, nameof(targets));
        return Run(tokens, batch, length, targets, cache: null);
    }

    /// <summary>
    /// Runs the n new tokens of one sequence at positions cache.Length … cache.Length + n − 1 against the cached keys
    /// and values of the earlier positions, appending theirs to the cache: the same blocks as <see cref="Forward"/>,
    /// with each new query attending to every cached key (causal, aligned bottom-right). Afterwards
    /// <see cref="Logits"/> is (n, V) and <see cref="AttentionWeights"/> (1, H, n, cache.Length). Inference only.
    /// </summary>
    /// <param name="tokens">(n) new token ids</param>
    /// <param name="cache">the sequence so far; must come from <see cref="CreateCache"/> of a model of this size</param>
    public ReadOnlySpan<float> ForwardCached(ReadOnlySpan<int> tokens, KvCache cache)
    {
        ArgumentNullException.ThrowIfNull(cache);
        var cfg = Config;
        if (cache.Layers != cfg.Layers || cache.Heads != cfg.Heads || cache.HeadSize != cfg.HeadDim || cache.Capacity != cfg.ContextLength)
            throw new ArgumentException("the KV cache was made for a model of another size");
        if (tokens.IsEmpty) throw new ArgumentException("ForwardCached needs at least one new token");
        if (!AttentionOptions.IsCausal) throw new InvalidOperationException("a KV cache needs causal attention: a bidirectional model must recompute every position");
        if (cache.Length + tokens.Length > cfg.ContextLength)
            throw new ArgumentOutOfRangeException(nameof(tokens), $"{cache.Length} cached + {tokens.Length} new positions exceed the context length {cfg.ContextLength}");
        CheckIds(tokens, nameof(tokens));
        Run(tokens, 1, tokens.Length, default, cache);
        return Logits.Slice((tokens.Length - 1) * cfg.VocabSize, cfg.VocabSize);
    }

    private void CheckIds(ReadOnlySpan<int> ids, string name)
    {
        foreach (int t in ids)
            if ((uint)t >= (uint)Config.VocabSize) throw new ArgumentOutOfRangeException(name, $"token {t} is outside [0, {Config.VocabSize})");
    }

    /// <summary>The one forward path: embeddings, blocks, head, loss. With a cache, the positions start at
    /// cache.Length and attention reads the cached keys and values.</summary>
    private float Run(ReadOnlySpan<int> tokens, int batch, int length, ReadOnlySpan<int> targets, KvCache? cache)
    {
        var cfg = Config;
        int n = batch * length;
        bool keepForBackward = IsTraining && cache is null;
        var shape = new AttentionShape(batch, cfg.Heads, length, length, cfg.HeadDim);
        long saved = keepForBackward ? Attention.SavedLength(shape) : 0;
        if (_acts is null || _acts.Batch != batch || _acts.Length != length || _acts.SavedPerBlock != saved)
            _acts = new Gpt2Activations(cfg, batch, length, saved, keepForBackward, _acts?.Data);
        var a = _acts;
        tokens.CopyTo(a.Tokens);
        _hasTargets = !targets.IsEmpty;
        if (_hasTargets) targets.CopyTo(a.Targets);
        _logitsConsumed = false;
        _cachedRun = cache;
        _cachedStart = cache?.Length ?? 0;

        var p = Parameters;
        int c = cfg.Channels, v = cfg.VocabSize;
        var timer = Timer;
        long t0 = timer is null ? 0 : Stopwatch.GetTimestamp();

        // token + position embedding: x[b, t] = wte[token] + wpe[start + t] (or the fixed sinusoid, or nothing)
        var encoded = a[a.Encoded];
        Embedding.Forward(p[Layout.TokenEmbedding], a.Tokens, c, encoded);
        ReadOnlySpan<float> positions = cfg.Positions switch
        {
            PositionEncoding.Learned => p[Layout.PositionEmbedding].Slice(_cachedStart * c, length * c),
            PositionEncoding.Sinusoidal => _sinusoids.AsSpan(_cachedStart * c, length * c),
            _ => default,
        };
        for (int b = 0; b < batch && !positions.IsEmpty; b++)
        {
            var row = encoded.Slice(b * length * c, length * c);
            System.Numerics.Tensors.TensorPrimitives.Add(row, positions, row);
        }
        if (timer is not null) t0 = timer.Lap(Gpt2Phase.Embedding, t0);

        Slot residual = a.Encoded;
        for (int l = 0; l < cfg.Layers; l++)
        {
            t0 = BlockForward(a, l, residual, cache, t0);
            residual = a.Blocks[l].Residual3;
        }
        if (cache is not null) cache.Length += length;

        NormForward(a, residual, p[Layout.FinalNormWeight], p[Layout.FinalNormBias], a.FinalNorm, a.FinalNormMean, a.FinalNormRstd, n);
        if (timer is not null) t0 = timer.Lap(Gpt2Phase.LayerNorm, t0);

        // logits = ln_f · wteᵀ (the output head is the token embedding, transposed)
        Device.MatMul(a[a.FinalNorm], p[Layout.TokenEmbedding], a[a.Logits], n, v, c, transposeB: true);
        if (timer is not null) t0 = timer.Lap(Gpt2Phase.LmHead, t0);
        if (!_hasTargets) return float.NaN;

        var data = a.Data;
        var logitsSlot = a.Logits; var lossesSlot = a.Losses; var lseSlot = a.LogSumExp;
        var targetsArray = a.Targets;
        ParallelRows.For(n, (long)n * v, ParallelMinimumWork, (start, count) =>
        {
            CrossEntropy.Forward(data.AsSpan(logitsSlot.Offset + start * v, count * v), targetsArray.AsSpan(start, count), v,
                data.AsSpan(lossesSlot.Offset + start, count), data.AsSpan(lseSlot.Offset + start, count));
        });
        double total = 0;
        foreach (float x in a[a.Losses]) total += x;
        if (timer is not null) timer.Lap(Gpt2Phase.Loss, t0);
        return (float)(total / n);
    }

    /// <summary>
    /// One transformer block, the same code for training, inference and cached decoding:
    /// x = x + c_proj(attention(c_attn(ln_1(x)))); x = x + mlp.c_proj(gelu(mlp.c_fc(ln_2(x)))).
    /// </summary>
    private long BlockForward(Gpt2Activations a, int l, Slot residual, KvCache? cache, long t0)
    {
        var cfg = Config;
        var p = Parameters;
        var timer = Timer;
        int batch = a.Batch, length = a.Length, n = batch * length;
        int c = cfg.Channels, h = cfg.Heads, d = cfg.HeadDim;
        var w = Layout.Blocks[l];
        var s = a.Blocks[l];
        NormForward(a, residual, p[w.Norm1Weight], p[w.Norm1Bias], s.Norm1, s.Norm1Mean, s.Norm1Rstd, n);
        if (timer is not null) t0 = timer.Lap(Gpt2Phase.LayerNorm, t0);

        // qkv = ln_1 · W_attn + b_attn: the bias pre-fills the output and the GEMM accumulates onto it
        Bias.Fill(p[w.AttentionBias], a[s.Qkv]);
        Device.MatMul(a[s.Norm1], p[w.AttentionWeight], a[s.Qkv], n, 3 * c, c, accumulate: true);
        if (timer is not null) t0 = timer.Lap(Gpt2Phase.Matmul, t0);

        SplitHeads(a[s.Qkv], batch, length, h, d, a[s.Q], a[s.K], a[s.V]);                 // (B, H, T, D) each
        if (cache is not null)
            CachedAttention(a, l, cache);
        else if (ObserveAttention is { } observer)
            ObservedAttention(a, l, new AttentionShape(batch, h, length, length, d), observer);
        else
            Attention.Forward(a[s.Q], a[s.K], a[s.V], new AttentionShape(batch, h, length, length, d), AttentionOptions,
                a[s.AttentionOutput], a[s.AttentionSaved]);
        MergeHeads(a[s.AttentionOutput], batch, length, h, d, a[s.AttentionMerged]);        // (B, T, C)
        GateMerged(a[s.AttentionMerged], l, n);
        if (timer is not null) t0 = timer.Lap(Gpt2Phase.Attention, t0);

        // residual2 = residual + b_proj + merged · W_proj
        Bias.AddTo(a[residual], p[w.AttentionProjectionBias], a[s.Residual2]);
        if (timer is not null) t0 = timer.Lap(Gpt2Phase.Residual, t0);
        Device.MatMul(a[s.AttentionMerged], p[w.AttentionProjectionWeight], a[s.Residual2], n, c, c, accumulate: true);
        if (timer is not null) t0 = timer.Lap(Gpt2Phase.Matmul, t0);

        NormForward(a, s.Residual2, p[w.Norm2Weight], p[w.Norm2Bias], s.Norm2, s.Norm2Mean, s.Norm2Rstd, n);
        if (timer is not null) t0 = timer.Lap(Gpt2Phase.LayerNorm, t0);

        Bias.Fill(p[w.MlpBias], a[s.Fc]);
        Device.MatMul(a[s.Norm2], p[w.MlpWeight], a[s.Fc], n, 4 * c, c, accumulate: true);
        if (timer is not null) t0 = timer.Lap(Gpt2Phase.Matmul, t0);

        GeluForward(a, s.Fc, s.FcGelu, n, 4 * c);
        if (timer is not null) t0 = timer.Lap(Gpt2Phase.Gelu, t0);

        Bias.AddTo(a[s.Residual2], p[w.MlpProjectionBias], a[s.Residual3]);
        if (timer is not null) t0 = timer.Lap(Gpt2Phase.Residual, t0);
        Device.MatMul(a[s.FcGelu], p[w.MlpProjectionWeight], a[s.Residual3], n, c, 4 * c, accumulate: true);
        if (timer is not null) t0 = timer.Lap(Gpt2Phase.Matmul, t0);
        return t0;
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

    private Gpt2Activations RequireForward() =>
        _acts ?? throw new InvalidOperationException("run Forward first");

    private void SetNormsToIdentity()
    {
        var p = Parameters;
        foreach (var b in Layout.Blocks)
        {
            p[b.Norm1Weight].Fill(1f);
            p[b.Norm2Weight].Fill(1f);
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
