using AttentionLab.Attention;
using AttentionLab.Datasets;
using AttentionLab.Models;

namespace AttentionLab.Training;

/// <summary>
/// One <c>attnlab bert</c> run: a character-level BERT trained with masked-LM on the first 90% of a corpus, scored
/// on fixed held-out batches from the last 10%, against the unigram baseline (always guess the training text's most
/// frequent character).
/// </summary>
public sealed class BertTrainingRun
{
    public const int MinLength = 16;

    public Corpus Corpus { get; }
    public BertModel Model { get; }
    public Trainer Trainer { get; }
    public IReadOnlyList<MaskedLanguageBatch> HeldOut { get; }
    public int BatchSize { get; }
    /// <summary>The most frequent character of the training split.</summary>
    public string UnigramGuess { get; }
    /// <summary>Accuracy of always guessing <see cref="UnigramGuess"/> on the held-out masked positions.</summary>
    public double UnigramAccuracy { get; }

    public BertTrainingRun(Corpus corpus, BertConfig config, TrainingOptions options, int batchSize = 32, int heldOutBatches = 20,
        ulong seed = 1, IAttentionKernel? kernel = null)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        if (corpus.Tokenizer is not Text.CharTokenizer chars) throw new ArgumentException("BERT here is character level: give a corpus with the char tokenizer");
        Corpus = corpus;
        BatchSize = batchSize;
        Model = new BertModel(config with { Characters = string.Concat(chars.Vocabulary.Select(r => r.ToString())) }, kernel);
        int n = chars.VocabSize, T = Model.Config.MaxLength;
        corpus.EnsureFits(T);
        HeldOut = HeldOutBatches(corpus, T, batchSize, heldOutBatches, seed);
        (UnigramGuess, UnigramAccuracy) = UnigramBaseline(corpus, HeldOut);
        int minLength = Math.Min(MinLength, T);

        var train = new MaskedLanguageBatches(corpus.Train, n, batchSize, minLength, T, seed);
        Trainer = new Trainer(Model.Parameters.Data, Model.Gradients.Data, Model.Transformer.Layout.DecayedRanges, () =>
        {
            float loss = Model.Forward(train.Next());
            Model.Backward();
            return loss;
        }, batchSize, options);
    }

    /// <summary>Fixed masked-LM batches from the validation split (the same for a given seed, so a reloaded model is
    /// scored on the same positions).</summary>
    public static IReadOnlyList<MaskedLanguageBatch> HeldOutBatches(Corpus corpus, int maxLength, int batchSize, int count, ulong seed)
    {
        var validation = new MaskedLanguageBatches(corpus.Validation, corpus.Tokenizer.VocabSize, batchSize, Math.Min(MinLength, maxLength), maxLength,
            seed ^ 0x5EED_0F_5A11DA7EUL);
        return Enumerable.Range(0, count).Select(_ => validation.Next()).ToList();
    }

    /// <summary>The training split's most frequent character and how often it is the answer at the held-out targets.</summary>
    public static (string Guess, double Accuracy) UnigramBaseline(Corpus corpus, IReadOnlyList<MaskedLanguageBatch> heldOut)
    {
        var counts = new int[corpus.Tokenizer.VocabSize];
        foreach (int t in corpus.Train.Span) counts[t]++;
        int best = Array.IndexOf(counts, counts.Max());
        int hits = 0, total = 0;
        foreach (var b in heldOut)
            foreach (int t in b.Targets)
                if (t >= 0) { total++; if (t == best + MaskedLanguageBatch.Specials) hits++; }
        return (corpus.Tokenizer.TokenText(best), total == 0 ? 0 : (double)hits / total);
    }

    /// <summary>Masked-token accuracy on the held-out batches.</summary>
    public double Evaluate() => Model.Accuracy(HeldOut);
}
