using AttentionLab.Text;
using AttentionLab.Text.HuggingFace;

namespace AttentionLab.Tests.Text;

/// <summary><see cref="BpeMerges.ApplyQueued"/> (word.rs's priority queue) gives exactly the symbols of the plain
/// loop <see cref="BpeMerges.Apply"/>, on random merge lists over a tiny alphabet (so ties, overlaps such as "aaa" and
/// merges whose rank is lower than their parts' are common) and on a long SentencePiece-style stretch.</summary>
public class BpeMergesTests
{
    [Fact]
    public void TheQueueMergesExactlyAsThePlainLoop()
    {
        var random = new Random(20261207);
        for (int trial = 0; trial < 300; trial++)
        {
            // a merge list of random pairs over "abc" and the tokens made so far, in random rank order
            var tokens = new List<string> { "a", "b", "c" };
            var merges = new List<(string, string)>();
            for (int m = 0; m < 12; m++)
            {
                var pair = (tokens[random.Next(tokens.Count)], tokens[random.Next(tokens.Count)]);
                merges.Add(pair);
                tokens.Add(pair.Item1 + pair.Item2);
            }
            if (trial % 2 == 1) merges = [.. merges.OrderBy(_ => random.Next())];   // ranks that do not follow the parts
            var bpe = new BpeMerges(merges);
            var word = Enumerable.Range(0, random.Next(0, 40)).Select(_ => "abc"[random.Next(3)].ToString()).ToList();
            var plain = new List<string>(word);
            var queued = new List<string>(word);
            bpe.Apply(plain);
            bpe.ApplyQueued(queued);
            Assert.Equal(plain, queued);
        }
    }

    [Fact]
    public void ALongSentencePieceStretchTokenizesAsThePlainLoopDoes()
    {
        // Llama 2's kind has no pre-tokenizer: a whole text is one word, which only the queue merges in n log n
        var t = HfTokenizer.Load(Path.Combine(Fixtures.Directory, "hf_tokenizers", "llama2"));
        var text = string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog; Hello, world! 1234 ", 20));
        Assert.Equal(t.EncodeReference(text), t.Encode(text));
    }
}
