using System.Text;

namespace AttentionLab.Text;

/// <summary>
/// Character-level tokenizer, as in nanoGPT's shakespeare_char: the vocabulary is the sorted set of
/// distinct characters (Unicode scalar values, so an emoji is one token, not two surrogates) of the
/// training corpus, and id = index in that sorted list. The vocabulary must be saved with the model,
/// because a different corpus gives different ids.
/// </summary>
public sealed class CharTokenizer : ITokenizer
{
    private readonly Rune[] _vocabulary;
    private readonly Dictionary<Rune, int> _ids;

    /// <param name="vocabulary">Distinct characters; id i is vocabulary[i].</param>
    public CharTokenizer(IEnumerable<Rune> vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        _vocabulary = vocabulary.ToArray();
        if (_vocabulary.Length == 0) throw new ArgumentException("a char tokenizer needs at least one character");
        _ids = new Dictionary<Rune, int>(_vocabulary.Length);
        for (int i = 0; i < _vocabulary.Length; i++)
            if (!_ids.TryAdd(_vocabulary[i], i))
                throw new ArgumentException($"character {Describe(_vocabulary[i])} appears twice in the vocabulary");
    }

    /// <summary>The vocabulary of a corpus: its distinct characters in ordinal (code point) order.</summary>
    public static CharTokenizer FromCorpus(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var set = new SortedSet<Rune>();
        foreach (var r in text.EnumerateRunes()) set.Add(r);
        if (set.Count == 0) throw new ArgumentException("cannot build a char vocabulary from empty text");
        return new CharTokenizer(set);
    }

    public string Name => "char";
    public int VocabSize => _vocabulary.Length;

    /// <summary>The characters, id order.</summary>
    public IReadOnlyList<Rune> Vocabulary => _vocabulary;

    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length);
        foreach (var r in text.EnumerateRunes())
        {
            if (!_ids.TryGetValue(r, out int id))
                throw new ArgumentException($"character {Describe(r)} is not in this model's {VocabSize}-character vocabulary");
            ids.Add(id);
        }
        return ids.ToArray();
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        var sb = new StringBuilder(ids.Length);
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)_vocabulary.Length)
                throw new ArgumentException($"token id {id} is outside the vocabulary [0, {_vocabulary.Length})");
            sb.Append(_vocabulary[id].ToString());
        }
        return sb.ToString();
    }

    public string TokenText(int id) => Decode([id]);

    /// <summary><c>'x' (U+0078)</c>; control characters shown by code point only.</summary>
    internal static string Describe(Rune r) =>
        Rune.IsControl(r) || Rune.IsWhiteSpace(r) ? $"U+{r.Value:X4}" : $"'{r}' (U+{r.Value:X4})";
}
