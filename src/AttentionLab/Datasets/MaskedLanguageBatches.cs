using AttentionLab.Training;

namespace AttentionLab.Datasets;

/// <summary>
/// One padded batch for masked-language-model training (Devlin et al. 2019, §3.1), in a BERT model's ids
/// (<see cref="MaskedLanguageBatch.Pad"/> = 0, <see cref="MaskedLanguageBatch.Mask"/> = 1, then the characters):
/// <code>
/// input     (B, T)  the text with ~15% of its characters chosen; a chosen one becomes [MASK] (80%), a random
///                   character (10%) or stays (10%); [PAD] after each sequence's end
/// padding   (B, T)  true = a real character (attention never looks at [PAD])
/// targets   (B, T)  the original character at chosen positions, −1 everywhere else (no loss)
/// </code>
/// T is the longest sequence of the batch: sequences of unequal lengths share one batch through the padding mask.
/// </summary>
public sealed class MaskedLanguageBatch
{
    public const int Pad = 0, Mask = 1, Specials = 2;

    public required int Batch { get; init; }
    public required int Length { get; init; }
    public required int[] Input { get; init; }
    public required bool[] Padding { get; init; }
    public required int[] Targets { get; init; }
    /// <summary>(B) each sequence's real length.</summary>
    public required int[] Lengths { get; init; }
}

/// <summary>
/// Random masked-LM batches cut from a token stream (character ids of the corpus, 0-based; the batch adds
/// <see cref="MaskedLanguageBatch.Specials"/>): B windows whose lengths are drawn uniformly from
/// [<paramref name="minLength"/>, <paramref name="maxLength"/>].
/// </summary>
public sealed class MaskedLanguageBatches(ReadOnlyMemory<int> tokens, int characters, int batchSize, int minLength, int maxLength, ulong seed,
    double maskProbability = 0.15)
{
    private SplitMix64 _random = new(seed);

    public MaskedLanguageBatch Next()
    {
        if (tokens.Length <= maxLength) throw new InvalidOperationException($"the text has {tokens.Length} tokens; windows of {maxLength} need more");
        var lengths = new int[batchSize];
        for (int b = 0; b < batchSize; b++) lengths[b] = minLength + _random.NextInt(maxLength - minLength + 1);
        int T = lengths.Max();
        var batch = new MaskedLanguageBatch
        {
            Batch = batchSize, Length = T, Lengths = lengths,
            Input = new int[batchSize * T], Padding = new bool[batchSize * T], Targets = new int[batchSize * T],
        };
        Array.Fill(batch.Targets, -1);
        var span = tokens.Span;
        for (int b = 0; b < batchSize; b++)
        {
            int start = _random.NextInt(tokens.Length - lengths[b]);
            int chosen = 0;
            for (int t = 0; t < lengths[b]; t++)
            {
                int i = b * T + t, id = span[start + t] + MaskedLanguageBatch.Specials;
                batch.Input[i] = id;
                batch.Padding[i] = true;
                // the last position is forced when nothing was chosen yet, so every sequence has a target
                if (_random.NextDouble() < maskProbability || (t == lengths[b] - 1 && chosen == 0))
                {
                    chosen++;
                    batch.Targets[i] = id;
                    double r = _random.NextDouble();
                    if (r < 0.8) batch.Input[i] = MaskedLanguageBatch.Mask;
                    else if (r < 0.9) batch.Input[i] = MaskedLanguageBatch.Specials + _random.NextInt(characters);
                }
            }
        }
        return batch;
    }
}
