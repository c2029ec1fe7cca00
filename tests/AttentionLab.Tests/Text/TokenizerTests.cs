using AttentionLab.Text;

namespace AttentionLab.Tests.Text;

public class TokenizerTests
{
    [Fact]
    public void CharVocabularyIsSortedDistinctCharacters()
    {
        var t = CharTokenizer.FromCorpus("hello world");
        Assert.Equal(8, t.VocabSize); // ' ', d, e, h, l, o, r, w
        Assert.Equal(" dehlorw", string.Concat(t.Vocabulary));
        Assert.Equal(new[] { 3, 2, 4, 4, 5 }, t.Encode("hello"));
        Assert.Equal("hello world", t.Decode(t.Encode("hello world")));
    }

    [Fact]
    public void CharUnknownCharacterIsAClearError()
    {
        var t = CharTokenizer.FromCorpus("abc");
        var e = Assert.Throws<ArgumentException>(() => t.Encode("abz"));
        Assert.Contains("'z'", e.Message);
        Assert.Throws<ArgumentException>(() => t.Decode([3]));
    }

    [Fact]
    public void CharTokenizerTreatsAnEmojiAsOneToken()
    {
        var t = CharTokenizer.FromCorpus("a🙂b");
        Assert.Equal(3, t.VocabSize);
        Assert.Equal("a🙂b", t.Decode(t.Encode("a🙂b")));
    }

    [Fact]
    public void CharTokenizerRoundTripsThroughJson()
    {
        var t = CharTokenizer.FromCorpus("To be, or not to be:\nthat is the question. 🙂\"\\");
        var back = Tokenizers.FromJson(Tokenizers.ToJson(t));
        Assert.IsType<CharTokenizer>(back);
        Assert.Equal(t.Vocabulary, ((CharTokenizer)back).Vocabulary);
    }

    [Theory]
    [InlineData("Hello world", new[] { 15496, 995 })]
    [InlineData("\n\n", new[] { 628 })]
    [InlineData(" the", new[] { 262 })]
    [InlineData("It's 2024!", new[] { 1026, 338, 48609, 0 })]
    // ids below from OpenAI's encoder.py algorithm (python `regex`) on the same bundled files
    [InlineData(@"naïve café — 日本語 🙂 \t tabs  and   spaces",
        new[] { 2616, 38776, 40304, 851, 10545, 245, 98, 17312, 105, 45739, 252, 32485, 3467, 83, 22524, 220, 290, 220, 220, 9029 })]
    [InlineData(@"  hello   world\n\n\nyou'll DON'T 12345",
        new[] { 220, 23748, 220, 220, 995, 59, 77, 59, 77, 59, 3281, 280, 1183, 23917, 6, 51, 17031, 2231 })]
    public void Gpt2KnownEncodings(string text, int[] expected)
    {
        var t = new Gpt2Tokenizer();
        Assert.Equal(expected, t.Encode(text));
        Assert.Equal(text, t.Decode(expected));
        Assert.Equal(50257, t.VocabSize);
    }

    [Fact]
    public void Gpt2TinyShakespeareTokenCount()
    {
        // 338,025 tokens with the reference algorithm (nanoGPT's shakespeare/prepare.py reports the same split sizes)
        var text = File.ReadAllText(Path.Combine(RepoRoot.Path, "data", "tinyshakespeare.txt"));
        Assert.Equal(338025, new Gpt2Tokenizer().Encode(text).Length);
    }

    [Theory]
    [InlineData("First Citizen:\nBefore we proceed any further, hear me speak.")]
    [InlineData("naïve café — 日本語 🙂 \t tabs  and   spaces")]
    public void Gpt2AndO200kRoundTrip(string text)
    {
        foreach (var t in new ITokenizer[] { new Gpt2Tokenizer(), new O200kTokenizer() })
        {
            var ids = t.Encode(text);
            Assert.All(ids, id => Assert.InRange(id, 0, t.VocabSize - 1));
            Assert.Equal(text, t.Decode(ids));
        }
    }

    [Fact]
    public void O200kKnownEncoding()
    {
        var t = new O200kTokenizer();
        Assert.Equal(new[] { 13225, 2375 }, t.Encode("Hello world")); // tiktoken o200k_base
        Assert.Equal(200019, t.VocabSize);
    }

    [Fact]
    public void StreamingDecoderHoldsBackPartialCharacters()
    {
        var t = new Gpt2Tokenizer();
        var ids = t.Encode("ok 🙂 done");
        var d = new StreamingDecoder(t);
        var pieces = ids.Select(d.Push).ToList();
        Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD'));
        Assert.Equal("ok 🙂 done", string.Concat(pieces) + d.Flush());
    }

    [Fact]
    public void UnknownTokenizerNameIsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => Tokenizers.Create("bpe"));
        Assert.Contains("char, gpt2, o200k", e.Message);
    }
}
