namespace AttentionLab.Text.HuggingFace;

/// <summary>
/// The BPE merge loop as Hugging Face's models/bpe/word.rs runs it, written plainly: among the adjacent pairs of
/// symbols that the merge list holds, merge the one of lowest rank (the leftmost on ties), and repeat until no pair
/// is in the list. Quadratic in the word's length, which is a few symbols for a pre-tokenized word; the reference
/// the library tokenizer (<see cref="HfTokenizer"/> on Microsoft.ML.Tokenizers' BpeTokenizer) is tested against.
/// </summary>
public sealed class BpeMerges
{
    private readonly Dictionary<(string, string), int> _ranks;

    /// <param name="merges">The merge list in rank order: (left, right) pairs.</param>
    public BpeMerges(IReadOnlyList<(string Left, string Right)> merges)
    {
        _ranks = new Dictionary<(string, string), int>(merges.Count);
        for (int r = 0; r < merges.Count; r++) _ranks.TryAdd(merges[r], r);   // a repeated pair keeps its first rank
    }

    /// <summary>The number of distinct merges.</summary>
    public int Count => _ranks.Count;

    /// <summary>Merges <paramref name="symbols"/> in place until no adjacent pair has a rank.</summary>
    public void Apply(List<string> symbols)
    {
        while (symbols.Count > 1)
        {
            int best = -1, bestRank = int.MaxValue;
            for (int k = 0; k + 1 < symbols.Count; k++)
                if (_ranks.TryGetValue((symbols[k], symbols[k + 1]), out int r) && r < bestRank) { bestRank = r; best = k; }
            if (best < 0) return;
            symbols[best] += symbols[best + 1];
            symbols.RemoveAt(best + 1);
        }
    }
}
