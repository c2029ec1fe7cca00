using AttentionLab.Attention;
using AttentionLab.Datasets;
using AttentionLab.Hooks;
using AttentionLab.Inspection;
using AttentionLab.IO;
using AttentionLab.Kernels;
using AttentionLab.Layers;

namespace AttentionLab.Models;

/// <summary>
/// The encoder-decoder Transformer of "Attention Is All You Need" (Vaswani et al. 2017), small and pre-LayerNorm:
/// <code>
/// x = src_embed(source)                       (B, Ts, C)  token + learned position
/// x = encoder blocks(x)                       (B, Ts, C)  bidirectional self-attention, padding masked
/// memory = encoder.ln_f(x)                    (B, Ts, C)
/// y = tgt_embed(&lt;s&gt; t₁ … tₙ)                  (B, Tt, C)
/// y = decoder blocks(y, memory)               (B, Tt, C)  causal self-attention, then cross-attention to memory
/// logits = lm_head(decoder.ln_f(y))           (B, Tt, V)  untied, with a bias
/// loss = cross_entropy(logits, t₁ … tₙ &lt;/s&gt;)  padding (−1) ignored
/// </code>
/// Built from the one set of layers: the encoder is <see cref="TransformerBlock"/>s (non-causal, the source padding
/// as a key mask), the decoder <see cref="DecoderBlock"/>s (<see cref="CrossAttentionLayer"/> between self-attention
/// and MLP), the head <see cref="OutputHead"/>. Parameters and gradients are two arenas of one
/// <see cref="Seq2SeqLayout"/>; the encoder and the decoder each have an activation arena per (B, T). Training is
/// teacher-forced; <see cref="Generate"/> decodes greedily through the same forward pass. Hooks are arguments of a
/// call (<see cref="ForwardOptions.Hooks"/>), named <c>encoder.blocks.{l}.…</c> and <c>decoder.blocks.{l}.…</c>
/// (<see cref="HookNames.For(Seq2SeqConfig)"/>); <see cref="Inspect"/> reads its maps through them.
/// Not thread-safe: one forward/backward at a time.
/// </summary>
public sealed class Seq2SeqModel
{
    public const string ModelType = "seq2seq";
    /// <summary>The encoder's hook names start with this.</summary>
    public const string EncoderHookPrefix = "encoder.";
    /// <summary>The decoder's hook names start with this.</summary>
    public const string DecoderHookPrefix = "decoder.";

    public Seq2SeqConfig Config { get; }
    public Seq2SeqVocabulary Vocabulary { get; }
    /// <summary>Where each named parameter lives; shared by <see cref="Parameters"/> and <see cref="Gradients"/>.</summary>
    public Seq2SeqLayout Layout { get; }
    /// <summary>The weights, one arena.</summary>
    public ParameterArena Parameters { get; }
    /// <summary>dLoss/dParameters, same layout; <see cref="Backward"/> adds to them.</summary>
    public ParameterArena Gradients { get; }
    /// <summary>The attention kernel of every attention layer unless a call's <see cref="ForwardOptions.Attention"/> says otherwise.</summary>
    public IAttentionKernel Kernel { get; set; }
    /// <summary>Where the matrix products run.</summary>
    public ComputeDevice Device { get; set; } = ComputeDevice.Cpu;
    public long ParameterCount => Layout.Count;

    private readonly IReadOnlyList<StateTensor> _stateDict;
    private readonly EmbeddingLayer _sourceEmbedding, _targetEmbedding;
    private readonly TransformerBlock[] _encoder;
    private readonly NormLayer _encoderNorm;
    private readonly DecoderBlock[] _decoder;
    private readonly OutputHead _head;
    private readonly DecoderConfig _encoderSize, _decoderSize;     // what the two activation arenas are sized by
    private readonly LayerRun _encoderRun = new(), _decoderRun = new();
    private DecoderActivations? _encoderActs, _decoderActs;
    // the last forward: what its backward runs with
    private IAttentionKernel _lastKernel;
    private AttentionOptions _sourceMask = AttentionOptions.Default;
    private bool _hasTargets, _lastEdited, _backwardDone;

    public Seq2SeqModel(Seq2SeqConfig config, IAttentionKernel? kernel = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        Vocabulary = new Seq2SeqVocabulary(config.Alphabet);
        Kernel = kernel ?? AttentionKernels.Default;
        _lastKernel = Kernel;
        Layout = new Seq2SeqLayout(config);
        Parameters = new ParameterArena(Layout);
        Gradients = new ParameterArena(Layout);
        _stateDict = Seq2SeqStateDict.For(Layout);
        Seq2SeqStateDict.Initialize(_stateDict, Parameters.Data, config.Seed);
        int c = config.Channels, h = config.Heads;
        _sourceEmbedding = new EmbeddingLayer(Layout.SourceTokens, Layout.SourcePositions, PositionEncoding.Learned, null, c);
        _encoder = Layout.Encoder.Select((w, l) => TransformerBlock.Create(l, w, NormKind.LayerNorm, Ops.LayerNorm.DefaultEpsilon, MlpActivation.GeluTanh, h, c / h)).ToArray();
        _encoderNorm = Norm(Layout.EncoderNormWeight, Layout.EncoderNormBias, c);
        _targetEmbedding = new EmbeddingLayer(Layout.TargetTokens, Layout.TargetPositions, PositionEncoding.Learned, null, c);
        _decoder = Enumerable.Range(0, config.DecoderLayers).Select(l => BuildDecoderBlock(Layout, l)).ToArray();
        _head = new OutputHead(Norm(Layout.DecoderNormWeight, Layout.DecoderNormBias, c), Layout.HeadWeight, Layout.HeadBias, config.VocabSize, c);
        _encoderSize = new DecoderConfig { VocabSize = 1, ContextLength = config.MaxSourceLength, Layers = config.EncoderLayers, Channels = c, Heads = h };
        _decoderSize = new DecoderConfig { VocabSize = config.VocabSize, ContextLength = config.MaxTargetLength + 1, Layers = config.DecoderLayers, Channels = c, Heads = h };
    }

    private static NormLayer Norm(ParameterView weight, ParameterView bias, int c) => new(NormKind.LayerNorm, weight, bias, c, Ops.LayerNorm.DefaultEpsilon);

    private static AttentionLayer SelfAttention(DecoderBlockLayout w, int c, int h) => new(new LinearLayer(w.AttentionWeight, w.AttentionBias!, c, 3 * c),
        new LinearLayer(w.AttentionProjectionWeight, w.AttentionProjectionBias!, c, c), h, c / h);

    private static MlpLayer Mlp(DecoderBlockLayout w, int c) => new(new LinearLayer(w.MlpWeight, w.MlpBias!, c, 4 * c),
        new LinearLayer(w.MlpProjectionWeight, w.MlpProjectionBias!, 4 * c, c), MlpActivation.GeluTanh);

    /// <summary>Decoder block <paramref name="l"/> as layers over the arena's views (also what the PyTorch fixture test runs).</summary>
    internal static DecoderBlock BuildDecoderBlock(Seq2SeqLayout layout, int l)
    {
        int c = layout.Config.Channels, h = layout.Config.Heads;
        var w = layout.Decoder[l];
        var x = layout.Cross[l];
        var cross = new CrossAttentionLayer(new LinearLayer(x.QueryWeight, x.QueryBias, c, c), x.KeyValueWeight, x.KeyValueBias,
            new LinearLayer(x.ProjectionWeight, x.ProjectionBias, c, c), h, c / h);
        return new DecoderBlock(l, Norm(w.Norm1Weight, w.Norm1Bias!, c), SelfAttention(w, c, h), Norm(x.NormWeight, x.NormBias, c), cross,
            Norm(w.Norm2Weight, w.Norm2Bias!, c), Mlp(w, c));
    }

    /// <summary>The saved state-dict tensors and their places in the arena, in file order.</summary>
    internal IReadOnlyList<StateTensor> StateTensors => _stateDict;

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGrad() => Gradients.Clear();

    /// <summary>Teacher-forced forward pass and the mean cross-entropy over the batch's real target positions.</summary>
    /// <param name="options">this call's kernel and hooks (its masks are the batch's: source padding, causal decoder)</param>
    public float Forward(Seq2SeqBatch batch, ForwardOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.SourceLength > Config.MaxSourceLength || batch.TargetLength > Config.MaxTargetLength + 1)
            throw new ArgumentException($"the batch has sources of {batch.SourceLength} and targets of {batch.TargetLength} positions; the model has {Config.MaxSourceLength} and {Config.MaxTargetLength + 1}");
        var kernel = options?.Attention ?? Kernel;
        var (encoderHooks, decoderHooks) = ResolveHooks(options?.Hooks);
        _lastEdited = encoderHooks?.AnyEdits == true || decoderHooks?.AnyEdits == true;
        bool keep = !_lastEdited;
        Encode(batch.Source, batch.SourceMask, batch.Batch, batch.SourceLength, kernel, encoderHooks, keep);
        float loss = Decode(batch.DecoderInput, batch.Targets, batch.TargetLength, kernel, decoderHooks, keep);
        _lastKernel = kernel;
        _hasTargets = true;
        _backwardDone = false;
        return loss;
    }

    /// <summary>
    /// TransformerLens's <c>run_with_cache</c>: the teacher-forced forward keeping a copy of every activation whose
    /// canonical name passes <paramref name="names"/> (e.g. <c>decoder.blocks.0.cross_attn.hook_pattern</c>).
    /// </summary>
    public (float Loss, ActivationCache Cache) RunWithCache(Seq2SeqBatch batch, Func<string, bool> names, ForwardOptions? options = null)
    {
        var (recorder, cache) = ActivationCache.Recorder(names);
        var hooks = options?.Hooks is { } more ? more.Then(recorder) : recorder;
        float loss = Forward(batch, (options ?? ForwardOptions.None) with { Hooks = hooks });
        return (loss, cache);
    }

    private (HookRun? Encoder, HookRun? Decoder) ResolveHooks(HookSet? hooks) =>
        (HookRun.Resolve(hooks, Config.EncoderLayers, EncoderHookPrefix, cross: false),
         HookRun.Resolve(hooks, Config.DecoderLayers, DecoderHookPrefix, cross: true));

    /// <summary>The encoder: source ids to memory, the encoder arena's FinalNorm slot.</summary>
    /// <param name="source">(B, Ts) ids</param>
    /// <param name="sourceMask">(B, Ts) true = a real character</param>
    private void Encode(int[] source, bool[] sourceMask, int batch, int length, IAttentionKernel kernel, HookRun? hooks, bool keep)
    {
        int c = Config.Channels, n = batch * length;
        long saved = keep ? kernel.SavedLength(new AttentionShape(batch, Config.Heads, length, length, c / Config.Heads)) : 0;
        var a = _encoderActs;
        if (a is null || a.Batch != batch || a.Length != length || a.SavedPerBlock != saved || a.IsTraining != keep)
            _encoderActs = a = new DecoderActivations(_encoderSize, batch, length, saved, keep, a?.Data);
        var run = Prepare(_encoderRun, a);
        source.AsSpan(0, n).CopyTo(a.Tokens);
        _sourceMask = new AttentionOptions { KeyPaddingMask = sourceMask };
        _sourceEmbedding.Forward(run, a.Tokens.AsSpan(0, n), 0, a.Encoded, hooks);
        var call = new AttentionCall(kernel, _sourceMask, null, 0, hooks);
        Slot residual = a.Encoded;
        foreach (var block in _encoder)
        {
            block.Forward(run, residual, call);
            residual = a.Blocks[block.Index].Residual3;
        }
        _encoderNorm.Forward(run, residual, a.FinalNorm, a.FinalNormMean, a.FinalNormRstd);               // memory (B, Ts, C)
        hooks?.Call(HookPoint.LnFinalNormalized, 0, run.Memory(a.FinalNorm), batch, length, c);
    }

    /// <summary>The decoder over the last <see cref="Encode"/>'s memory: logits (B, Tt, V) in the decoder arena, and
    /// with targets their mean loss (NaN without).</summary>
    /// <param name="decoderInput">(B, Tt) ids starting with &lt;s&gt;</param>
    /// <param name="targets">(B, Tt) next ids, −1 where not scored; null: no loss</param>
    private float Decode(int[] decoderInput, int[]? targets, int length, IAttentionKernel kernel, HookRun? hooks, bool keep)
    {
        var e = _encoderActs!;
        int batch = e.Batch, ts = e.Length, n = batch * length, h = Config.Heads, d = Config.Channels / h;
        keep &= targets is not null;
        long saved = keep ? kernel.SavedLength(new AttentionShape(batch, h, length, length, d)) : 0;
        long crossSaved = keep ? kernel.SavedLength(new AttentionShape(batch, h, length, ts, d)) : 0;
        var a = _decoderActs;
        if (a is null || a.Batch != batch || a.Length != length || a.MemoryLength != ts || a.SavedPerBlock != saved || a.IsTraining != keep
            || a.CrossBlocks![0].AttentionSaved.Length != crossSaved)
            _decoderActs = a = new DecoderActivations(_decoderSize, batch, length, saved, keep, a?.Data, ts, crossSaved);
        var run = Prepare(_decoderRun, a);
        e[e.FinalNorm].CopyTo(a[a.Memory]);
        decoderInput.AsSpan(0, n).CopyTo(a.Tokens);
        if (targets is not null) targets.AsSpan(0, n).CopyTo(a.Targets);
        _targetEmbedding.Forward(run, a.Tokens.AsSpan(0, n), 0, a.Encoded, hooks);
        var self = new AttentionCall(kernel, AttentionOptions.Causal, null, 0, hooks);
        var cross = new AttentionCall(kernel, _sourceMask, null, 0, hooks);
        Slot residual = a.Encoded;
        foreach (var block in _decoder)
        {
            block.Forward(run, residual, self, cross);
            residual = a.Blocks[block.Index].Residual3;
        }
        return _head.Forward(run, residual, targets is not null, hooks);
    }

    /// <summary>The layers' view of one arena: the parameters, gradients, device.</summary>
    private LayerRun Prepare(LayerRun run, DecoderActivations a)
    {
        run.Parameters = Parameters.Data;
        run.Gradients = Gradients.Data;
        run.Activations = a;
        run.Device = Device;
        return run;
    }

    /// <summary>Adds dLoss/dParameters of the last <see cref="Forward(Seq2SeqBatch, ForwardOptions?)"/> to <see cref="Gradients"/>.</summary>
    public void Backward()
    {
        if (!_hasTargets || _decoderActs is null || _encoderActs is null) throw new InvalidOperationException("Backward needs a Forward call first");
        if (_lastEdited) throw new InvalidOperationException("the last Forward ran hooks that edit activations; it has no backward pass");
        if (_backwardDone) throw new InvalidOperationException("Backward was already called for this Forward");
        var a = _decoderActs;
        var e = _encoderActs;
        if (!a.IsTraining || !e.IsTraining) throw new InvalidOperationException("Backward needs a Forward call first");
        _backwardDone = true;
        var kernel = _lastKernel;
        var run = Prepare(_decoderRun, a);
        a[a.DMemory].Clear();                                                             // Σ over the decoder blocks
        _head.Backward(run, a.Blocks[^1].Residual3, accumulate: true);
        for (int l = _decoder.Length - 1; l >= 0; l--)
            _decoder[l].Backward(run, l == 0 ? a.Encoded : a.Blocks[l - 1].Residual3, kernel, AttentionOptions.Causal, _sourceMask);
        _targetEmbedding.Backward(run, a.Tokens.AsSpan(0, a.Batch * a.Length), a.DResidual);

        var encoder = Prepare(_encoderRun, e);
        a[a.DMemory].CopyTo(e[e.DNorm]);                                                  // dLoss/dMemory into the encoder's arena
        e[e.DResidual].Clear();
        _encoderNorm.Backward(encoder, e.DNorm, e.Blocks[^1].Residual3, e.FinalNormMean, e.FinalNormRstd, e.DResidual);
        for (int l = _encoder.Length - 1; l >= 0; l--)
            _encoder[l].Backward(encoder, l == 0 ? e.Encoded : e.Blocks[l - 1].Residual3, (kernel, _sourceMask), accumulate: true);
        _sourceEmbedding.Backward(encoder, e.Tokens.AsSpan(0, e.Batch * e.Length), e.DResidual);
    }

    /// <summary>
    /// Greedy decoding of every source in one batch: start from &lt;s&gt;, append the most likely character, stop at
    /// &lt;/s&gt; or after <see cref="Seq2SeqConfig.MaxTargetLength"/> characters. Each step runs the decoder over the
    /// whole prefix (no key/value cache: the targets are a dozen characters).
    /// </summary>
    public string[] Generate(IReadOnlyList<string> sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        int B = sources.Count;
        if (B == 0) return [];
        foreach (var s in sources)
            if (s.Length > Config.MaxSourceLength) throw new ArgumentException($"source \"{s}\" has {s.Length} characters; the model reads at most {Config.MaxSourceLength}");
        var batch = Seq2SeqBatch.From(sources.Select(s => (s, "")).ToList(), Vocabulary);
        Encode(batch.Source, batch.SourceMask, B, batch.SourceLength, Kernel, null, keep: false);
        _hasTargets = false;
        int maxSteps = Config.MaxTargetLength + 1, V = Config.VocabSize;
        var outputs = new List<int>[B];
        var done = new bool[B];
        for (int b = 0; b < B; b++) outputs[b] = [];
        for (int t = 1; t <= maxSteps && done.Contains(false); t++)
        {
            var input = new int[B * t];
            for (int b = 0; b < B; b++)
            {
                input[b * t] = Seq2SeqVocabulary.Bos;
                for (int i = 0; i < t - 1; i++) input[b * t + 1 + i] = i < outputs[b].Count ? outputs[b][i] : Seq2SeqVocabulary.Pad;
            }
            var logits = DecodeLogits(input, t);                                          // (B, t, V)
            for (int b = 0; b < B; b++)
            {
                if (done[b]) continue;
                var row = logits.Slice(((b * t) + t - 1) * V, V);
                int next = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row[Seq2SeqVocabulary.Eos..]) + Seq2SeqVocabulary.Eos;
                if (next == Seq2SeqVocabulary.Eos || t == maxSteps) done[b] = true;
                else outputs[b].Add(next);
            }
        }
        return outputs.Select(o => string.Concat(o.Select(Vocabulary.Token))).ToArray();
    }

    /// <summary>The decoder's logits (B, t, V) for these inputs over the last encoded memory; no loss, nothing kept.</summary>
    private ReadOnlySpan<float> DecodeLogits(int[] input, int length)
    {
        Decode(input, null, length, Kernel, null, keep: false);
        var a = _decoderActs!;
        return a[a.Logits];
    }

    /// <summary>Exact-match accuracy of greedy decoding on <paramref name="examples"/>, in batches of 256.</summary>
    public double ExactMatch(IReadOnlyList<(string Source, string Target)> examples)
    {
        if (examples.Count == 0) return 0;
        int correct = 0;
        for (int start = 0; start < examples.Count; start += 256)
        {
            var chunk = examples.Skip(start).Take(256).ToList();
            var outputs = Generate(chunk.Select(e => e.Source).ToList());
            for (int i = 0; i < chunk.Count; i++) if (outputs[i] == chunk[i].Target) correct++;
        }
        return (double)correct / examples.Count;
    }

    /// <summary>
    /// Greedy decoding of one source after a given start of the target: the answer is <paramref name="prefix"/>
    /// followed by the most likely characters, until &lt;/s&gt; or <see cref="Seq2SeqConfig.MaxTargetLength"/>.
    /// </summary>
    /// <exception cref="ArgumentException">a source or prefix too long, or with characters outside the alphabet</exception>
    public string Continue(string source, string prefix)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(prefix);
        if (source.Length > Config.MaxSourceLength) throw new ArgumentException($"source \"{source}\" has {source.Length} characters; the model reads at most {Config.MaxSourceLength}");
        if (prefix.Length > Config.MaxTargetLength) throw new ArgumentException($"the target prefix has {prefix.Length} characters; the model writes at most {Config.MaxTargetLength}");
        var output = new List<int>(Vocabulary.Encode(prefix));
        var batch = Seq2SeqBatch.From([(source, "")], Vocabulary);
        Encode(batch.Source, batch.SourceMask, 1, batch.SourceLength, Kernel, null, keep: false);
        _hasTargets = false;
        int V = Config.VocabSize;
        while (output.Count < Config.MaxTargetLength)
        {
            int[] input = [Seq2SeqVocabulary.Bos, .. output];
            var logits = DecodeLogits(input, input.Length);                              // (1, t, V)
            var row = logits.Slice((input.Length - 1) * V, V);
            int next = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row[Seq2SeqVocabulary.Eos..]) + Seq2SeqVocabulary.Eos;
            if (next == Seq2SeqVocabulary.Eos) break;
            output.Add(next);
        }
        return string.Concat(output.Select(Vocabulary.Token));
    }

    /// <summary>
    /// Decodes <paramref name="source"/> greedily (after <paramref name="prefix"/>, when given), then runs the
    /// teacher-forced forward pass on that answer with the attention patterns hooked and returns every map: encoder
    /// self (Ts × Ts), decoder self (Tt × Tt, causal) and cross (Tt × Ts).
    /// </summary>
    public ModelAttention Inspect(string source, string? prefix = null)
    {
        var output = prefix is null ? Generate([source])[0] : Continue(source, prefix);
        var batch = Seq2SeqBatch.From([(source, output)], Vocabulary);
        var (_, cache) = RunWithCache(batch, name => name.EndsWith(".hook_pattern", StringComparison.Ordinal));
        var sourceLabels = source.Select(c => c.ToString()).ToArray();
        var decoderLabels = batch.DecoderInput.Select(Vocabulary.Token).ToArray();
        var maps = new List<AttentionMap>();
        for (int l = 0; l < Config.EncoderLayers; l++)
            maps.Add(AttentionMap.FromBatch(AttentionKinds.EncoderSelf, l, cache[HookNames.Name(EncoderHookPrefix, HookPoint.Pattern, l)], 0, sourceLabels, sourceLabels));
        for (int l = 0; l < Config.DecoderLayers; l++)
        {
            maps.Add(AttentionMap.FromBatch(AttentionKinds.DecoderSelf, l, cache[HookNames.Name(DecoderHookPrefix, HookPoint.Pattern, l)], 0, decoderLabels, decoderLabels));
            maps.Add(AttentionMap.FromBatch(AttentionKinds.Cross, l, cache[HookNames.Name(DecoderHookPrefix, HookPoint.CrossPattern, l)], 0, decoderLabels, sourceLabels));
        }
        var extra = new System.Text.Json.Nodes.JsonObject { ["task"] = Config.Task };
        if (prefix is not null) extra["prefix"] = prefix;
        return new ModelAttention(ModelType, source, output, maps, extra);
    }

    /// <summary>The saved tensors: the PyTorch-style state dict (<c>encoder.h.0.attn.query.weight</c> (out, in), …) in file order.</summary>
    public IEnumerable<(string Name, int[] Shape, float[] Values)> StateDict()
    {
        foreach (var t in _stateDict)
        {
            var values = new float[t.Length];
            t.Export(Parameters.Data, values);
            yield return (t.Name, t.Shape, values);
        }
    }

    /// <summary>Writes config.json and model.safetensors to <paramref name="directory"/> (the state dict's format).</summary>
    public void Save(string directory) =>
        ModelFolder.SaveTensors(directory, ModelType, ModelFolder.Serialize(Config), StateDict().Select(t => (t.Name, t.Shape, (ReadOnlyMemory<float>)t.Values)));

    /// <summary>A model saved by <see cref="Save"/> (or by the module-per-layer code before it: the same format).</summary>
    /// <exception cref="InvalidDataException">not a seq2seq model folder, or damaged</exception>
    public static Seq2SeqModel Load(string directory, IAttentionKernel? kernel = null)
    {
        var config = ModelFolder.Deserialize<Seq2SeqConfig>(ModelFolder.ReadConfig(directory, ModelType), directory);
        Seq2SeqModel model;
        try { model = new Seq2SeqModel(config, kernel); }
        catch (ArgumentException e) { throw new InvalidDataException($"{directory}/{ModelFolder.ConfigFile}: {e.Message}", e); }
        var tensors = ModelFolder.ReadWeights(directory, model._stateDict.Select(t => (t.Name, t.Shape)).ToArray());
        foreach (var t in model._stateDict) t.Import(tensors[t.Name], model.Parameters.Data);
        return model;
    }
}
