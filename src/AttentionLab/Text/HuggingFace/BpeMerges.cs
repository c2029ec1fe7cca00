namespace AttentionLab.Text.HuggingFace;

/// <summary>
/// The BPE merge loop as Hugging Face's models/bpe/word.rs runs it, written plainly: among the adjacent pairs of
/// symbols that the merge list holds, merge the one of lowest rank (the leftmost on ties), and repeat until no pair
/// is in the list. <see cref="Apply"/> is that loop, quadratic in the word's length, which is a few symbols for a
/// pre-tokenized word; the reference the library tokenizer (<see cref="HfTokenizer"/> on Microsoft.ML.Tokenizers'
/// BpeTokenizer) and <see cref="ApplyQueued"/> are tested against. <see cref="ApplyQueued"/> is word.rs's own
/// form, a priority queue of the ranked pairs, O(n log n): what a SentencePiece-style tokenizer needs, whose "word" is
/// a whole stretch of text (a training corpus of a megabyte is one word for Llama 2's tokenizer).
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

    /// <summary>The same merges as <see cref="Apply"/>, in the same order, with a priority queue of (rank, position)
    /// over a linked list of the symbols (word.rs's <c>merge_all</c>): pop the lowest-ranked pair (the leftmost on
    /// ties, since positions keep their left-to-right order), skip it if either symbol has changed since it was
    /// queued, merge it, queue the two new neighbouring pairs.</summary>
    public void ApplyQueued(List<string> symbols)
    {
        int n = symbols.Count;
        if (n < 2) return;
        var text = symbols.ToArray();                       // text[i]: the symbol starting at original position i
        var next = new int[n];                              // -1: none
        var prev = new int[n];
        var alive = new bool[n];
        for (int i = 0; i < n; i++) { next[i] = i + 1 < n ? i + 1 : -1; prev[i] = i - 1; alive[i] = true; }
        var queue = new PriorityQueue<(int Left, int Right, string L, string R), (int Rank, int Position)>();
        void Enqueue(int left, int right)
        {
            if (left >= 0 && right >= 0 && _ranks.TryGetValue((text[left], text[right]), out int rank))
                queue.Enqueue((left, right, text[left], text[right]), (rank, left));
        }
        for (int i = 0; i + 1 < n; i++) Enqueue(i, i + 1);
        while (queue.TryDequeue(out var pair, out _))
        {
            var (left, right, l, r) = pair;
            // stale: a symbol merged with another neighbour since (it is longer now, so its text differs)
            if (!alive[left] || !alive[right] || next[left] != right || !ReferenceEquals(text[left], l) || !ReferenceEquals(text[right], r)) continue;
            text[left] = l + r;
            alive[right] = false;
            next[left] = next[right];
            if (next[right] >= 0) prev[next[right]] = left;
            Enqueue(prev[left], left);
            Enqueue(left, next[left]);
        }
        symbols.Clear();
        for (int i = 0; i >= 0; i = next[i]) symbols.Add(text[i]);
    }
}
