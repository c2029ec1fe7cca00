using AttentionLab.Attention;
using AttentionLab.Datasets;
using AttentionLab.Inspection;
using AttentionLab.IO;
using AttentionLab.Ops;
using AttentionLab.Tensors;
using AttentionLab.Training;

namespace AttentionLab.Models;

/// <summary>
/// A BERT-style bidirectional encoder (Devlin et al. 2019), character level, pre-LayerNorm, trained as a masked
/// language model:
/// <code>
/// x = embed(input)                  (B, T, C)  token + learned position
/// x = encoder blocks(x)             (B, T, C)  every position attends to every real position (a full square),
///                                              [PAD] keys masked for every query
/// logits = mlm_head(ln_f(x))        (B, T, V)
/// loss = cross_entropy(logits, targets)        only at the ~15% chosen positions (−1 elsewhere is ignored)
/// </code>
/// GPT differs in one line: its blocks use a causal mask (a lower triangle) and predict the next token. With
/// <see cref="BertConfig.IsCausal"/> this class is that GPT, for the side-by-side comparison.
/// </summary>
public sealed class BertModel
{
    public const string ModelType = "bert";

    public BertConfig Config { get; }
    public TokenEmbedding Embedding { get; }
    public TransformerEncoderBlock[] Blocks { get; }
    public LayerNormLayer FinalNorm { get; }
    public Linear Head { get; }
    public ParameterSet Parameters { get; }
    private readonly string[] _characters;

    private MaskedLanguageBatch? _batch;
    private Tensor? _hidden, _logits, _dLogits, _dHidden, _dx;
    private float[] _logSumExp = [];
    private int _counted;

    public BertModel(BertConfig config, IAttentionKernel? kernel = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        _characters = config.CharacterList;
        kernel ??= AttentionKernels.Default;
        var random = new Random(config.Seed);
        int C = config.Channels, V = config.VocabSize;
        Embedding = new TokenEmbedding(V, config.MaxLength, C, random);
        Blocks = Enumerable.Range(0, config.Layers).Select(_ => new TransformerEncoderBlock(C, config.Heads, kernel, random)).ToArray();
        FinalNorm = new LayerNormLayer(C);
        Head = new Linear(C, V, bias: true, random);
        Parameters = new ParameterSet(NamedParameters());
    }

    private IEnumerable<(string, Tensor, Tensor)> NamedParameters()
    {
        foreach (var p in Embedding.NamedParameters("embed.")) yield return p;
        for (int l = 0; l < Blocks.Length; l++) foreach (var p in Blocks[l].NamedParameters($"h.{l}.")) yield return p;
        foreach (var p in FinalNorm.NamedParameters("ln_f.")) yield return p;
        foreach (var p in Head.NamedParameters("mlm_head.")) yield return p;
    }

    /// <summary>The text of an id: [PAD], [MASK] or a character.</summary>
    public string Token(int id) => id switch
    {
        MaskedLanguageBatch.Pad => "[PAD]", MaskedLanguageBatch.Mask => "[MASK]",
        _ => _characters[id - MaskedLanguageBatch.Specials],
    };

    /// <summary>Logits at every position.</summary>
    /// <param name="input">(B, T) ids</param>
    /// <param name="padding">(B, T) true = real token</param>
    /// <returns>(B, T, V); the model's own buffer</returns>
    public Tensor Logits(int[] input, bool[] padding, int batch, int length)
    {
        var options = new AttentionOptions { KeyPaddingMask = padding, IsCausal = Config.IsCausal };
        var x = Embedding.Forward(input, batch, length);                          // (B, T, C)
        foreach (var block in Blocks)
        {
            block.Options = options;
            x = block.Forward(x);                                                 // (B, T, C)
        }
        _hidden = FinalNorm.Forward(x);                                           // (B, T, C)
        _logits = Reuse.Get(_logits, batch, length, Config.VocabSize);
        Head.Forward(_hidden.Data, _logits.Data, batch * length);                 // (B, T, V)
        return _logits;
    }

    /// <summary>Forward pass and the mean cross-entropy over the batch's target positions.</summary>
    public float Forward(MaskedLanguageBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var logits = Logits(batch.Input, batch.Padding, batch.Batch, batch.Length);
        if (_logSumExp.Length != batch.Targets.Length) _logSumExp = new float[batch.Targets.Length];
        (float loss, _counted) = CrossEntropyIgnoreIndex.Forward(logits.Data, batch.Targets, Config.VocabSize, _logSumExp);
        _batch = batch;
        return loss;
    }

    /// <summary>Adds dLoss/dParameters of the last <see cref="Forward(MaskedLanguageBatch)"/>.</summary>
    public void Backward()
    {
        var batch = _batch ?? throw new InvalidOperationException("Backward needs a Forward call first");
        int B = batch.Batch, T = batch.Length, C = Config.Channels, V = Config.VocabSize;
        _dLogits = Reuse.Get(_dLogits, B, T, V);
        CrossEntropyIgnoreIndex.Backward(_logits!.Data, _logSumExp, batch.Targets, V, _counted, _dLogits.Data);
        _dHidden = Reuse.Get(_dHidden, B, T, C);
        Head.Backward(_hidden!.Data, _dLogits.Data, _dHidden.Data, B * T);
        _dx = Reuse.Zeros(_dx, B, T, C);
        FinalNorm.Backward(_dHidden, _dx);
        var dx = _dx;
        for (int l = Blocks.Length - 1; l >= 0; l--) dx = Blocks[l].Backward(dx);
        Embedding.Backward(dx);
    }

    /// <summary>(correct, counted) argmax predictions at the target positions of <paramref name="batch"/>.</summary>
    public (int Correct, int Count) Score(MaskedLanguageBatch batch)
    {
        var logits = Logits(batch.Input, batch.Padding, batch.Batch, batch.Length);
        int V = Config.VocabSize, correct = 0, count = 0;
        for (int i = 0; i < batch.Targets.Length; i++)
        {
            if (batch.Targets[i] < 0) continue;
            count++;
            if (System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits.Data.AsSpan(i * V, V)) == batch.Targets[i]) correct++;
        }
        return (correct, count);
    }

    /// <summary>Masked-token accuracy over several batches.</summary>
    public double Accuracy(IEnumerable<MaskedLanguageBatch> batches)
    {
        int correct = 0, count = 0;
        foreach (var b in batches) { var (c, n) = Score(b); correct += c; count += n; }
        return count == 0 ? 0 : (double)correct / count;
    }

    /// <summary>Character ids (0-based, as <see cref="Text.CharTokenizer"/> gives them) of a text in this model's vocabulary.</summary>
    public int[] Encode(string text)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < _characters.Length; i++) index[_characters[i]] = i;
        return text.EnumerateRunes().Select(r => index.TryGetValue(r.ToString(), out int id) ? id
            : throw new ArgumentException($"character '{r}' is not in the model's {_characters.Length}-character vocabulary")).ToArray();
    }

    /// <summary>
    /// Fills the blanks of <paramref name="text"/> (each <paramref name="blank"/> character, and each "[MASK]", becomes
    /// [MASK]) and returns every layer's attention (a full square for BERT, a triangle when causal) with the filled-in
    /// text; extra "predictions" holds the five likeliest characters at each blank.
    /// </summary>
    public ModelAttention Inspect(string text, char blank = '_')
    {
        ArgumentNullException.ThrowIfNull(text);
        var units = Units(text, blank);
        if (units.Count == 0) throw new ArgumentException("the text is empty");
        if (units.Count > Config.MaxLength) throw new ArgumentException($"the text has {units.Count} characters; the model reads at most {Config.MaxLength}");
        var input = new int[units.Count];
        for (int t = 0; t < units.Count; t++)
            input[t] = units[t] is null ? MaskedLanguageBatch.Mask : Encode(units[t]!)[0] + MaskedLanguageBatch.Specials;
        var padding = Enumerable.Repeat(true, units.Count).ToArray();
        var logits = Logits(input, padding, 1, units.Count);                          // (1, T, V)
        int V = Config.VocabSize, K = V - MaskedLanguageBatch.Specials;
        var filled = new System.Text.StringBuilder();
        var labels = new string[units.Count];
        var predictions = new System.Text.Json.Nodes.JsonArray();
        var probabilities = new float[K];
        for (int t = 0; t < units.Count; t++)
        {
            if (input[t] == MaskedLanguageBatch.Mask)
            {
                // softmax over the characters only: [PAD] and [MASK] are never an answer
                System.Numerics.Tensors.TensorPrimitives.SoftMax(logits.Data.AsSpan(t * V + MaskedLanguageBatch.Specials, K), probabilities);
                var top = Enumerable.Range(0, K).OrderByDescending(k => probabilities[k]).ThenBy(k => k).Take(5).ToArray();
                filled.Append(_characters[top[0]]);
                labels[t] = "[MASK]";
                predictions.Add(new System.Text.Json.Nodes.JsonObject
                {
                    ["position"] = t,
                    ["top"] = new System.Text.Json.Nodes.JsonArray(top.Select(k => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
                    {
                        ["token"] = _characters[k], ["probability"] = Math.Round(probabilities[k], 5),
                    }).ToArray()),
                });
            }
            else { filled.Append(units[t]); labels[t] = units[t]!; }
        }
        var kind = Config.IsCausal ? AttentionKinds.DecoderSelf : AttentionKinds.EncoderSelf;
        var maps = Blocks.Select((b, l) => AttentionMap.FromBatch(kind, l, b.Attention.LastWeights!, 0, labels, labels)).ToList();
        return new ModelAttention(ModelType, text, filled.ToString(), maps,
            new System.Text.Json.Nodes.JsonObject { ["causal"] = Config.IsCausal, ["predictions"] = predictions });
    }

    /// <summary>The text as input positions: one character each (a text element), null for a blank or a "[MASK]".</summary>
    private static List<string?> Units(string text, char blank)
    {
        const string mask = "[MASK]";
        var units = new List<string?>();
        for (int i = 0; i < text.Length;)
        {
            if (string.CompareOrdinal(text, i, mask, 0, mask.Length) == 0) { units.Add(null); i += mask.Length; continue; }
            var rune = System.Text.Rune.GetRuneAt(text, i);
            units.Add(rune.Value == blank ? null : rune.ToString());
            i += rune.Utf16SequenceLength;
        }
        return units;
    }

    public void Save(string directory) => ModelFolder.Save(directory, ModelType, ModelFolder.Serialize(Config), Parameters);

    /// <exception cref="InvalidDataException">not a BERT model folder, or damaged</exception>
    public static BertModel Load(string directory, IAttentionKernel? kernel = null)
        => ModelFolder.Load(directory, ModelType, (BertConfig config) => new BertModel(config, kernel), m => m.Parameters);
}
