namespace AttentionLab.Models;

/// <summary>
/// Sizes of a character-level BERT (<see cref="BertModel"/>); saved as its config.json. The defaults train on
/// tiny Shakespeare in well under two minutes on two cores.
/// </summary>
public sealed record BertConfig
{
    /// <summary>The characters of the corpus, in id order (ids 0 and 1 are [PAD] and [MASK]).</summary>
    public string Characters { get; init; } = "";
    /// <summary>Longest sequence (positions).</summary>
    public int MaxLength { get; init; } = 64;
    public int Channels { get; init; } = 96;
    public int Heads { get; init; } = 4;
    public int Layers { get; init; } = 2;
    public int Seed { get; init; } = 1;
    /// <summary>True turns the encoder into a GPT: the same blocks under a causal mask (used for the comparison).</summary>
    public bool IsCausal { get; init; }

    /// <summary>The characters as text elements (one per id, surrogate pairs kept together).</summary>
    public string[] CharacterList => Characters.EnumerateRunes().Select(r => r.ToString()).ToArray();

    public int VocabSize => Datasets.MaskedLanguageBatch.Specials + CharacterList.Length;

    public void Validate()
    {
        if (string.IsNullOrEmpty(Characters)) throw new ArgumentException("the character vocabulary is empty");
        if (MaxLength < 1 || MaxLength > 4096) throw new ArgumentException($"max_length must be in [1, 4096], got {MaxLength}");
        if (Channels < 1 || Channels > 4096) throw new ArgumentException($"channels must be in [1, 4096], got {Channels}");
        if (Heads < 1 || Channels % Heads != 0) throw new ArgumentException($"heads ({Heads}) must divide channels ({Channels})");
        if (Layers < 1 || Layers > 64) throw new ArgumentException($"layers must be in [1, 64], got {Layers}");
    }
}
