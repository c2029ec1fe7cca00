using AttentionLab.Attention;
using AttentionLab.Datasets;
using AttentionLab.Hooks;
using AttentionLab.Inspection;
using AttentionLab.IO;
using AttentionLab.Ops;
using AttentionLab.Tensors;

namespace AttentionLab.Models;

/// <summary>
/// A BERT-style bidirectional encoder (Devlin et al. 2019), character level, pre-LayerNorm, trained as a masked
/// language model:
/// <code>
/// x = embed(input)                  (B, T, C)  token + learned position
/// x = encoder blocks(x)             (B, T, C)  every position attends to every real position (a full square),
///                                              [PAD] keys masked for every query
/// logits = mlm_head(ln_f(x))        (B, T, V)  its own (V, C) matrix and a bias (untied)
/// loss = cross_entropy(logits, targets)        only at the ~15% chosen positions (−1 elsewhere is ignored)
/// </code>
/// That is the one stack's decoder (<see cref="DecoderModel"/>) with BERT's choices: <see cref="DecoderConfig.IsCausal"/>
/// false, an untied head with a bias, unscored targets −1, and the [PAD] keys hidden per call
/// (<see cref="AttentionOptions.KeyPaddingMask"/>). What is BERT's own lives here: the vocabulary ([PAD], [MASK], the
/// characters), filling [MASK]s (<see cref="Inspect"/>), masked accuracy, and the folder format (PyTorch state-dict
/// names and (out, in) Linear weights, converted to and from the arena by <see cref="StateDict"/>).
/// GPT differs in one choice: its blocks use a causal mask (a lower triangle) and predict the next token. With
/// <see cref="BertConfig.IsCausal"/> this class is that GPT, for the side-by-side comparison.
/// </summary>
public sealed class BertModel
{
    public const string ModelType = "bert";

    public BertConfig Config { get; }

    /// <summary>The one stack's model this BERT runs on (BERT's choices in its <see cref="DecoderModel.Config"/>).</summary>
    public DecoderModel Transformer { get; }

    /// <summary>The weights: one arena laid out by <see cref="DecoderModel.Layout"/>.</summary>
    public ParameterArena Parameters => Transformer.Parameters;

    /// <summary>dLoss/dParameters of the last <see cref="Backward"/>, same layout.</summary>
    public ParameterArena Gradients => Transformer.Gradients;

    public long ParameterCount => Transformer.ParameterCount;

    /// <summary>The saved names (<c>embed.token.weight</c>, <c>h.{l}.attn.query.weight</c> (out, in), …, <c>mlm_head.bias</c>)
    /// and where each lives in the arena.</summary>
    public StateDictMap StateDict { get; }

    private readonly string[] _characters;
    private Tensor? _logits;

    public BertModel(BertConfig config, IAttentionKernel? kernel = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        _characters = config.CharacterList;
        Transformer = new DecoderModel(TransformerConfig(config), kernel ?? AttentionKernels.Default);
        StateDict = BuildStateDict(Transformer.Layout, config.Channels);
        Initialize(config.Seed);
    }

    /// <summary>BERT as choices of the one stack: vocabulary = specials + characters, positions = MaxLength, a
    /// bidirectional (unless <see cref="BertConfig.IsCausal"/>) pre-LN stack of GPT-2's blocks, an untied MLM head
    /// with a bias.</summary>
    public static DecoderConfig TransformerConfig(BertConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new DecoderConfig
        {
            VocabSize = config.VocabSize, ContextLength = config.MaxLength, Layers = config.Layers, Channels = config.Channels,
            Heads = config.Heads, LayerNormEpsilon = LayerNorm.DefaultEpsilon, Attention = AttentionKernels.DefaultName,
            IsCausal = config.IsCausal, Positions = PositionEncoding.Learned, Norm = NormKind.LayerNorm, Activation = MlpActivation.GeluTanh,
            TiedOutput = false, OutputBias = true,
        };
    }

    /// <summary>The folder's names in its order: embed, each block h.{l}., ln_f, mlm_head.</summary>
    private static StateDictMap BuildStateDict(DecoderLayout layout, int c)
    {
        int v = layout.Config.VocabSize, t = layout.Config.ContextLength;
        var entries = new List<StateDictEntry>
        {
            new("embed.token.weight", [v, c], layout.TokenEmbedding),
            new("embed.position.weight", [t, c], layout.PositionEmbedding!),
        };
        for (int l = 0; l < layout.Blocks.Count; l++) entries.AddRange(StateDictMap.EncoderBlock($"h.{l}.", layout.Blocks[l], c));
        entries.Add(new("ln_f.weight", [c], layout.FinalNormWeight));
        entries.Add(new("ln_f.bias", [c], layout.FinalNormBias!));
        entries.Add(new("mlm_head.weight", [v, c], layout.OutputWeight));          // nn.Linear(C, V): (out, in) = the head's (V, C)
        entries.Add(new("mlm_head.bias", [v], layout.OutputBias!));
        return new StateDictMap(entries);
    }

    /// <summary>
    /// PyTorch's defaults, drawn from one <see cref="Random"/>(seed) in the state dict's order (the draws of the
    /// Tensor-module BERT, so a seed gives the same weights): embeddings N(0, 0.02²) (BERT's initializer range),
    /// nn.Linear weight and bias U(±1/√in), LayerNorm gain 1 and shift 0.
    /// </summary>
    private void Initialize(int seed)
    {
        var random = new Random(seed);
        var arena = Parameters.Data;
        foreach (var e in StateDict.Entries)
        {
            var values = new float[e.Length];
            if (e.Name.StartsWith("embed.", StringComparison.Ordinal)) SequentialInit.Normal(random, values, 0.02);
            else if (e.Name.Contains("ln_", StringComparison.Ordinal)) { if (e.Name.EndsWith(".weight", StringComparison.Ordinal)) Array.Fill(values, 1f); }
            else
            {
                // a bias has the bound of its layer: 1/√in of the weight saved just before it
                var weight = e.Name.EndsWith(".bias", StringComparison.Ordinal) ? StateDict[e.Name[..^"bias".Length] + "weight"] : e;
                SequentialInit.Uniform(random, values, 1f / MathF.Sqrt(weight.Shape[1]));
            }
            e.CopyTo(values, arena);
        }
    }

    /// <summary>This call's masks: the [PAD] keys hidden for every query (null: none), causal as the config says.</summary>
    private ForwardOptions Options(bool[]? padding) =>
        new() { AttentionOptions = new AttentionOptions { KeyPaddingMask = padding, IsCausal = Config.IsCausal } };

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
        var logits = RunLogits(input, padding, batch, length);                   // (B, T, V)
        _logits = Reuse.Get(_logits, batch, length, Config.VocabSize);
        logits.CopyTo(_logits.Data);
        return _logits;
    }

    /// <summary>The forward pass without targets; the logits are the transformer's, valid until its next pass.</summary>
    private ReadOnlySpan<float> RunLogits(int[] input, bool[] padding, int batch, int length)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(padding);
        if (padding.Length != batch * length) throw new ArgumentException($"padding has {padding.Length} elements; (B, T) = ({batch}, {length}) needs {batch * length}");
        Transformer.Forward(input, batch, length, default, Options(padding));
        return Transformer.Logits;
    }

    /// <summary>Forward pass and the mean cross-entropy over the batch's target positions.</summary>
    public float Forward(MaskedLanguageBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return Transformer.Forward(batch.Input, batch.Batch, batch.Length, batch.Targets, Options(batch.Padding));
    }

    /// <summary>Adds dLoss/dParameters of the last <see cref="Forward(MaskedLanguageBatch)"/> to <see cref="Gradients"/>.</summary>
    public void Backward() => Transformer.Backward(accumulate: true);

    /// <summary>(correct, counted) argmax predictions at the target positions of <paramref name="batch"/>.</summary>
    public (int Correct, int Count) Score(MaskedLanguageBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var logits = RunLogits(batch.Input, batch.Padding, batch.Batch, batch.Length);
        int V = Config.VocabSize, correct = 0, count = 0;
        for (int i = 0; i < batch.Targets.Length; i++)
        {
            if (batch.Targets[i] < 0) continue;
            count++;
            if (System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits.Slice(i * V, V)) == batch.Targets[i]) correct++;
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
        // one pass, reading every layer's attention pattern (B, H, T, T) through its hook
        var (hooks, cache) = ActivationCache.Recorder(name => name.EndsWith(".attn.hook_pattern", StringComparison.Ordinal));
        Transformer.Forward(input, 1, units.Count, default, Options(padding: null) with { Hooks = hooks });
        var logits = Transformer.Logits;                                              // (1, T, V)
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
                System.Numerics.Tensors.TensorPrimitives.SoftMax(logits.Slice(t * V + MaskedLanguageBatch.Specials, K), probabilities);
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
        var maps = Enumerable.Range(0, Config.Layers)
            .Select(l => AttentionMap.FromBatch(kind, l, cache[HookNames.Name(HookPoint.Pattern, l)], 0, labels, labels)).ToList();
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

    /// <summary>Writes config.json and model.safetensors with the state dict's names and PyTorch (out, in) weights.</summary>
    public void Save(string directory) =>
        ModelFolder.SaveTensors(directory, ModelType, ModelFolder.Serialize(Config), StateDict.Export(Parameters.Data));

    /// <summary>A folder saved by <see cref="Save"/> (or by the Tensor-module BERT: the same names and layout).</summary>
    /// <exception cref="InvalidDataException">not a BERT model folder, or damaged</exception>
    public static BertModel Load(string directory, IAttentionKernel? kernel = null)
    {
        var config = ModelFolder.Deserialize<BertConfig>(ModelFolder.ReadConfig(directory, ModelType), directory);
        BertModel model;
        try { model = new BertModel(config, kernel); }
        catch (ArgumentException e) { throw new InvalidDataException($"{directory}/{ModelFolder.ConfigFile}: {e.Message}", e); }
        model.StateDict.Import(ModelFolder.ReadWeights(directory, model.StateDict.Shapes), model.Parameters.Data);
        return model;
    }
}
