using AttentionLab.Attention;
using AttentionLab.Datasets;
using AttentionLab.Inspection;
using AttentionLab.IO;
using AttentionLab.Ops;
using AttentionLab.Tensors;
using AttentionLab.Training;

namespace AttentionLab.Models;

/// <summary>
/// The encoder-decoder Transformer of "Attention Is All You Need" (Vaswani et al. 2017), small and pre-LayerNorm:
/// <code>
/// x = src_embed(source)                       (B, Ts, C)  token + learned position
/// x = encoder blocks(x)                       (B, Ts, C)  bidirectional self-attention, padding masked
/// memory = encoder.ln_f(x)                    (B, Ts, C)
/// y = tgt_embed(&lt;s&gt; t₁ … tₙ)                  (B, Tt, C)
/// y = decoder blocks(y, memory)               (B, Tt, C)  causal self-attention, then cross-attention to memory
/// logits = lm_head(decoder.ln_f(y))           (B, Tt, V)
/// loss = cross_entropy(logits, t₁ … tₙ &lt;/s&gt;)  padding ignored
/// </code>
/// Training is teacher-forced; <see cref="Generate"/> decodes greedily, one character at a time, through the same
/// forward pass. Parameters live in their layers; <see cref="Parameters"/> lists them by state_dict name.
/// </summary>
public sealed class Seq2SeqModel
{
    public const string ModelType = "seq2seq";

    public Seq2SeqConfig Config { get; }
    public Seq2SeqVocabulary Vocabulary { get; }
    public TokenEmbedding SourceEmbedding { get; }
    public TransformerEncoderBlock[] Encoder { get; }
    public LayerNormLayer EncoderNorm { get; }
    public TokenEmbedding TargetEmbedding { get; }
    public TransformerDecoderBlock[] Decoder { get; }
    public LayerNormLayer DecoderNorm { get; }
    public Linear Head { get; }
    public ParameterSet Parameters { get; }

    private Seq2SeqBatch? _batch;
    private Tensor? _decoded, _logits, _dLogits, _dHidden, _dy, _dMemory, _dx;
    private float[] _logSumExp = [];
    private int _counted;

    public Seq2SeqModel(Seq2SeqConfig config, IAttentionKernel? kernel = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        Vocabulary = new Seq2SeqVocabulary(config.Alphabet);
        kernel ??= AttentionKernels.Default;
        var random = new Random(config.Seed);
        int C = config.Channels, V = config.VocabSize;
        SourceEmbedding = new TokenEmbedding(V, config.MaxSourceLength, C, random);
        Encoder = Enumerable.Range(0, config.EncoderLayers).Select(_ => new TransformerEncoderBlock(C, config.Heads, kernel, random)).ToArray();
        EncoderNorm = new LayerNormLayer(C);
        TargetEmbedding = new TokenEmbedding(V, config.MaxTargetLength + 1, C, random);
        Decoder = Enumerable.Range(0, config.DecoderLayers).Select(_ => new TransformerDecoderBlock(C, config.Heads, kernel, random)).ToArray();
        DecoderNorm = new LayerNormLayer(C);
        Head = new Linear(C, V, bias: true, random);
        Parameters = new ParameterSet(NamedParameters());
    }

    /// <summary>The attention kernel of every attention layer.</summary>
    public IAttentionKernel Kernel
    {
        get => Encoder[0].Attention.Kernel;
        set
        {
            foreach (var b in Encoder) b.Attention.Kernel = value;
            foreach (var b in Decoder) { b.SelfAttention.Kernel = value; b.CrossAttention.Kernel = value; }
        }
    }

    private IEnumerable<(string, Tensor, Tensor)> NamedParameters()
    {
        foreach (var p in SourceEmbedding.NamedParameters("encoder.embed.")) yield return p;
        for (int l = 0; l < Encoder.Length; l++) foreach (var p in Encoder[l].NamedParameters($"encoder.h.{l}.")) yield return p;
        foreach (var p in EncoderNorm.NamedParameters("encoder.ln_f.")) yield return p;
        foreach (var p in TargetEmbedding.NamedParameters("decoder.embed.")) yield return p;
        for (int l = 0; l < Decoder.Length; l++) foreach (var p in Decoder[l].NamedParameters($"decoder.h.{l}.")) yield return p;
        foreach (var p in DecoderNorm.NamedParameters("decoder.ln_f.")) yield return p;
        foreach (var p in Head.NamedParameters("lm_head.")) yield return p;
    }

    /// <summary>The encoder: source ids to memory.</summary>
    /// <param name="source">(B, Ts) ids</param>
    /// <param name="sourceMask">(B, Ts) true = a real character</param>
    /// <returns>(B, Ts, C) memory; the model's own buffer, valid until the next Encode</returns>
    public Tensor Encode(int[] source, bool[] sourceMask, int batch, int sourceLength)
    {
        var options = new AttentionOptions { KeyPaddingMask = sourceMask };
        var x = SourceEmbedding.Forward(source, batch, sourceLength);             // (B, Ts, C)
        foreach (var block in Encoder)
        {
            block.Options = options;
            x = block.Forward(x);                                                 // (B, Ts, C)
        }
        return EncoderNorm.Forward(x);                                            // (B, Ts, C)
    }

    /// <summary>The decoder: logits of the next target character at every decoder position.</summary>
    /// <param name="memory">(B, Ts, C) from <see cref="Encode"/></param>
    /// <param name="sourceMask">(B, Ts)</param>
    /// <param name="decoderInput">(B, Tt) ids starting with &lt;s&gt;</param>
    /// <returns>(B, Tt, V); the model's own buffer</returns>
    public Tensor Decode(Tensor memory, bool[] sourceMask, int[] decoderInput, int batch, int targetLength)
    {
        var y = TargetEmbedding.Forward(decoderInput, batch, targetLength);       // (B, Tt, C)
        foreach (var block in Decoder) y = block.Forward(y, memory, sourceMask);  // (B, Tt, C)
        _decoded = DecoderNorm.Forward(y);                                        // (B, Tt, C)
        _logits = Reuse.Get(_logits, batch, targetLength, Config.VocabSize);
        Head.Forward(_decoded.Data, _logits.Data, batch * targetLength);          // (B, Tt, V)
        return _logits;
    }

    /// <summary>Teacher-forced forward pass and the mean cross-entropy over the batch's real target positions.</summary>
    public float Forward(Seq2SeqBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var memory = Encode(batch.Source, batch.SourceMask, batch.Batch, batch.SourceLength);
        var logits = Decode(memory, batch.SourceMask, batch.DecoderInput, batch.Batch, batch.TargetLength);
        if (_logSumExp.Length != batch.Targets.Length) _logSumExp = new float[batch.Targets.Length];
        (float loss, _counted) = CrossEntropyIgnoreIndex.Forward(logits.Data, batch.Targets, Config.VocabSize, _logSumExp);
        _batch = batch;
        return loss;
    }

    /// <summary>Adds dLoss/dParameters of the last <see cref="Forward(Seq2SeqBatch)"/>.</summary>
    public void Backward()
    {
        var batch = _batch ?? throw new InvalidOperationException("Backward needs a Forward call first");
        int B = batch.Batch, Ts = batch.SourceLength, Tt = batch.TargetLength, C = Config.Channels, V = Config.VocabSize;
        _dLogits = Reuse.Get(_dLogits, B, Tt, V);
        CrossEntropyIgnoreIndex.Backward(_logits!.Data, _logSumExp, batch.Targets, V, _counted, _dLogits.Data);
        _dHidden = Reuse.Get(_dHidden, B, Tt, C);
        Head.Backward(_decoded!.Data, _dLogits.Data, _dHidden.Data, B * Tt);      // (B, Tt, C)
        _dy = Reuse.Zeros(_dy, B, Tt, C);
        DecoderNorm.Backward(_dHidden, _dy);
        _dMemory = Reuse.Zeros(_dMemory, B, Ts, C);                               // Σ over decoder layers
        var dy = _dy;
        for (int l = Decoder.Length - 1; l >= 0; l--) dy = Decoder[l].Backward(dy, _dMemory);
        TargetEmbedding.Backward(dy);
        _dx = Reuse.Zeros(_dx, B, Ts, C);
        EncoderNorm.Backward(_dMemory, _dx);
        var dx = _dx;
        for (int l = Encoder.Length - 1; l >= 0; l--) dx = Encoder[l].Backward(dx);
        SourceEmbedding.Backward(dx);
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
        var memory = Encode(batch.Source, batch.SourceMask, B, batch.SourceLength);
        int maxSteps = Config.MaxTargetLength + 1;
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
            var logits = Decode(memory, batch.SourceMask, input, B, t);           // (B, t, V)
            int V = Config.VocabSize;
            for (int b = 0; b < B; b++)
            {
                if (done[b]) continue;
                var row = logits.Data.AsSpan(((b * t) + t - 1) * V, V);
                int next = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row[Seq2SeqVocabulary.Eos..]) + Seq2SeqVocabulary.Eos;
                if (next == Seq2SeqVocabulary.Eos || t == maxSteps) done[b] = true;
                else outputs[b].Add(next);
            }
        }
        return outputs.Select(o => string.Concat(o.Select(Vocabulary.Token))).ToArray();
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
        var memory = Encode(batch.Source, batch.SourceMask, 1, batch.SourceLength);
        int V = Config.VocabSize;
        while (output.Count < Config.MaxTargetLength)
        {
            int[] input = [Seq2SeqVocabulary.Bos, .. output];
            var logits = Decode(memory, batch.SourceMask, input, 1, input.Length);     // (1, t, V)
            var row = logits.Data.AsSpan((input.Length - 1) * V, V);
            int next = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row[Seq2SeqVocabulary.Eos..]) + Seq2SeqVocabulary.Eos;
            if (next == Seq2SeqVocabulary.Eos) break;
            output.Add(next);
        }
        return string.Concat(output.Select(Vocabulary.Token));
    }

    /// <summary>
    /// Decodes <paramref name="source"/> greedily (after <paramref name="prefix"/>, when given), then runs the
    /// teacher-forced forward pass on that answer and returns every attention map: encoder self (Ts × Ts), decoder
    /// self (Tt × Tt, causal) and cross (Tt × Ts).
    /// </summary>
    public ModelAttention Inspect(string source, string? prefix = null)
    {
        var output = prefix is null ? Generate([source])[0] : Continue(source, prefix);
        var batch = Seq2SeqBatch.From([(source, output)], Vocabulary);
        Forward(batch);
        var sourceLabels = source.Select(c => c.ToString()).ToArray();
        var decoderLabels = batch.DecoderInput.Select(Vocabulary.Token).ToArray();
        var maps = new List<AttentionMap>();
        for (int l = 0; l < Encoder.Length; l++)
            maps.Add(AttentionMap.FromBatch(AttentionKinds.EncoderSelf, l, Encoder[l].Attention.LastWeights!, 0, sourceLabels, sourceLabels));
        for (int l = 0; l < Decoder.Length; l++)
        {
            maps.Add(AttentionMap.FromBatch(AttentionKinds.DecoderSelf, l, Decoder[l].SelfAttention.LastWeights!, 0, decoderLabels, decoderLabels));
            maps.Add(AttentionMap.FromBatch(AttentionKinds.Cross, l, Decoder[l].CrossAttention.LastWeights!, 0, decoderLabels, sourceLabels));
        }
        var extra = new System.Text.Json.Nodes.JsonObject { ["task"] = Config.Task };
        if (prefix is not null) extra["prefix"] = prefix;
        return new ModelAttention(ModelType, source, output, maps, extra);
    }

    /// <summary>Writes config.json and model.safetensors to <paramref name="directory"/>.</summary>
    public void Save(string directory) => ModelFolder.Save(directory, ModelType, ModelFolder.Serialize(Config), Parameters);

    /// <summary>A model saved by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">not a seq2seq model folder, or damaged</exception>
    public static Seq2SeqModel Load(string directory, IAttentionKernel? kernel = null)
        => ModelFolder.Load(directory, ModelType, (Seq2SeqConfig config) => new Seq2SeqModel(config, kernel), m => m.Parameters);
}
