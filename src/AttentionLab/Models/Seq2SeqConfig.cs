namespace AttentionLab.Models;

/// <summary>
/// Sizes of an encoder-decoder Transformer (<see cref="Seq2SeqModel"/>); saved as its config.json.
/// The defaults train the reverse and dates tasks to ≥ 95% exact match in about a minute on two cores.
/// </summary>
public sealed record Seq2SeqConfig
{
    /// <summary>The task it was trained on ("reverse", "dates"); decides nothing in the model, kept for the reader.</summary>
    public string Task { get; init; } = "reverse";
    /// <summary>The characters of sources and targets; ids are 3 specials then these.</summary>
    public string Alphabet { get; init; } = "abcdefghijklmnopqrstuvwxyz";
    /// <summary>Longest source in characters (encoder positions).</summary>
    public int MaxSourceLength { get; init; } = 10;
    /// <summary>Longest target in characters; the decoder has one more position (for &lt;s&gt; / &lt;/s&gt;).</summary>
    public int MaxTargetLength { get; init; } = 10;
    /// <summary>C, the model width.</summary>
    public int Channels { get; init; } = 64;
    /// <summary>H; divides C. 4 heads of 16 dimensions.</summary>
    public int Heads { get; init; } = 4;
    public int EncoderLayers { get; init; } = 2;
    public int DecoderLayers { get; init; } = 2;
    /// <summary>Initialisation seed.</summary>
    public int Seed { get; init; } = 1;

    public int VocabSize => Datasets.Seq2SeqVocabulary.Specials + Alphabet.Length;

    /// <exception cref="ArgumentException">a size out of range</exception>
    public void Validate()
    {
        if (string.IsNullOrEmpty(Alphabet)) throw new ArgumentException("the alphabet is empty");
        if (MaxSourceLength < 1 || MaxSourceLength > 4096) throw new ArgumentException($"max_source_length must be in [1, 4096], got {MaxSourceLength}");
        if (MaxTargetLength < 1 || MaxTargetLength > 4096) throw new ArgumentException($"max_target_length must be in [1, 4096], got {MaxTargetLength}");
        if (Channels < 1 || Channels > 4096) throw new ArgumentException($"channels must be in [1, 4096], got {Channels}");
        if (Heads < 1 || Channels % Heads != 0) throw new ArgumentException($"heads ({Heads}) must divide channels ({Channels})");
        if (EncoderLayers < 1 || EncoderLayers > 64 || DecoderLayers < 1 || DecoderLayers > 64)
            throw new ArgumentException($"encoder and decoder layers must be in [1, 64], got {EncoderLayers} and {DecoderLayers}");
    }
}
