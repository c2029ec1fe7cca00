using AttentionLab.Training;

namespace AttentionLab.Datasets;

/// <summary>
/// Character ids for a sequence-to-sequence model: <see cref="Pad"/> = 0, <see cref="Bos"/> = 1 (the decoder's first
/// input), <see cref="Eos"/> = 2 (the decoder's last output), then one id per character of the alphabet.
/// </summary>
public sealed class Seq2SeqVocabulary
{
    public const int Pad = 0, Bos = 1, Eos = 2, Specials = 3;
    private readonly Dictionary<char, int> _ids = [];

    public Seq2SeqVocabulary(string alphabet)
    {
        ArgumentNullException.ThrowIfNull(alphabet);
        Alphabet = alphabet;
        for (int i = 0; i < alphabet.Length; i++)
            if (!_ids.TryAdd(alphabet[i], Specials + i)) throw new ArgumentException($"character '{alphabet[i]}' appears twice in the alphabet");
    }

    public string Alphabet { get; }
    public int Size => Specials + Alphabet.Length;

    public int[] Encode(string text)
    {
        var ids = new int[text.Length];
        for (int i = 0; i < text.Length; i++)
            ids[i] = _ids.TryGetValue(text[i], out int id) ? id
                : throw new ArgumentException($"character '{text[i]}' is not in the model's alphabet \"{Alphabet}\"");
        return ids;
    }

    /// <summary>The text of a token (specials as &lt;pad&gt;, &lt;s&gt;, &lt;/s&gt;).</summary>
    public string Token(int id) => id switch
    {
        Pad => "<pad>", Bos => "<s>", Eos => "</s>",
        _ => Alphabet[id - Specials].ToString(),
    };
}

/// <summary>
/// One padded batch of (source, target) pairs, as an encoder-decoder trains on it (teacher forcing):
/// <code>
/// source         (B, Ts)  character ids, &lt;pad&gt; after each source's end
/// sourceMask     (B, Ts)  true = a real character (attention never looks at padding)
/// decoderInput   (B, Tt)  &lt;s&gt; t₁ t₂ … tₙ &lt;pad&gt;…
/// targets        (B, Tt)  t₁ t₂ … tₙ &lt;/s&gt; −1…   (−1 = padding, no loss)
/// </code>
/// Ts is the longest source of the batch, Tt the longest target + 1.
/// </summary>
public sealed class Seq2SeqBatch
{
    public required int Batch { get; init; }
    public required int SourceLength { get; init; }
    public required int TargetLength { get; init; }
    public required int[] Source { get; init; }
    public required bool[] SourceMask { get; init; }
    public required int[] DecoderInput { get; init; }
    public required int[] Targets { get; init; }

    /// <summary>Target positions that count in the loss.</summary>
    public int TargetCount => Targets.Count(t => t >= 0);

    public static Seq2SeqBatch From(IReadOnlyList<(string Source, string Target)> examples, Seq2SeqVocabulary vocabulary)
    {
        int B = examples.Count;
        if (B == 0) throw new ArgumentException("a batch needs at least one example");
        var sources = examples.Select(e => vocabulary.Encode(e.Source)).ToArray();
        var targets = examples.Select(e => vocabulary.Encode(e.Target)).ToArray();
        int Ts = Math.Max(1, sources.Max(s => s.Length)), Tt = targets.Max(t => t.Length) + 1;
        var batch = new Seq2SeqBatch
        {
            Batch = B, SourceLength = Ts, TargetLength = Tt,
            Source = new int[B * Ts], SourceMask = new bool[B * Ts],
            DecoderInput = new int[B * Tt], Targets = new int[B * Tt],
        };
        Array.Fill(batch.Targets, -1);
        for (int b = 0; b < B; b++)
        {
            for (int i = 0; i < sources[b].Length; i++) { batch.Source[b * Ts + i] = sources[b][i]; batch.SourceMask[b * Ts + i] = true; }
            batch.DecoderInput[b * Tt] = Seq2SeqVocabulary.Bos;
            for (int i = 0; i < targets[b].Length; i++)
            {
                batch.DecoderInput[b * Tt + i + 1] = targets[b][i];
                batch.Targets[b * Tt + i] = targets[b][i];
            }
            batch.Targets[b * Tt + targets[b].Length] = Seq2SeqVocabulary.Eos;
        }
        return batch;
    }
}

/// <summary>Random training batches of a <see cref="Seq2SeqTask"/>, never containing a held-out source.</summary>
public sealed class Seq2SeqBatches(Seq2SeqTask task, Seq2SeqVocabulary vocabulary, int batchSize, ulong seed, IEnumerable<string> heldOutSources)
{
    private readonly HashSet<string> _heldOut = new(heldOutSources, StringComparer.Ordinal);
    private SplitMix64 _random = new(seed);

    public Seq2SeqBatch Next()
    {
        var examples = new List<(string, string)>(batchSize);
        while (examples.Count < batchSize)
        {
            var e = task.Sample(ref _random);
            if (!_heldOut.Contains(e.Source)) examples.Add(e);
        }
        return Seq2SeqBatch.From(examples, vocabulary);
    }
}
