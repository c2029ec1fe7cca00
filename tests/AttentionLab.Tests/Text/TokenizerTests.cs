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

    /// <summary>Every case of fixtures/gpt2_tokens.json: ids from OpenAI's encoder.py algorithm on GPT-2's
    /// original encoder.json/vocab.bpe (make_gpt2_tokens.py), on strings with real tabs, newlines, CR LF,
    /// no-break and ideographic spaces, accents, CJK, emoji (with a ZWJ sequence) and letters outside the BMP.</summary>
    public static TheoryData<string> Gpt2FixtureTexts() => new(FixtureTexts());

    private static IEnumerable<string> FixtureTexts() =>
        Fixtures.Load("gpt2_tokens.json").GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("text").GetString()!);

    private static int[] Gpt2FixtureIds(string text) =>
        Fixtures.Load("gpt2_tokens.json").GetProperty("cases").EnumerateArray()
            .Single(c => c.GetProperty("text").GetString() == text)
            .GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();

    [Theory]
    [MemberData(nameof(Gpt2FixtureTexts))]
    public void Gpt2MatchesEncoderPy(string text)
    {
        var t = new Gpt2Tokenizer();
        var expected = Gpt2FixtureIds(text);
        Assert.Equal(expected, t.Encode(text));
        Assert.Equal(text, t.Decode(expected));
        Assert.Equal(50257, t.VocabSize);
    }

    [Fact]
    public void Gpt2FixtureHasTheWhitespaceCasesTheTestsClaim()
    {
        var texts = FixtureTexts().ToList();
        Assert.Contains(texts, s => s.Contains('\t'));
        Assert.Contains(texts, s => s.Contains("\r\n"));
        Assert.Contains(texts, s => s.Contains("\n\n"));
        Assert.Contains(texts, s => s.Any(char.IsSurrogate));
        // GPT-2's ids for the control characters themselves: byte b < 33 is token 188 + b
        var t = new Gpt2Tokenizer();
        Assert.Equal(new[] { 197 }, t.Encode("\t"));
        Assert.Equal(new[] { 198 }, t.Encode("\n"));
        Assert.Equal(new[] { 201 }, t.Encode("\r"));
        Assert.Equal(new[] { 628 }, t.Encode("\n\n"));
    }

    [Fact]
    public void Gpt2EndOfTextIsTheSpecialToken()
    {
        // tiktoken (and Hugging Face's GPT2TokenizerFast) read the literal as id 50256; encoder.py spelled
        // it out as 7 ordinary tokens [27, 91, 437, 1659, 5239, 91, 29]. Decoding gives the literal back.
        var t = new Gpt2Tokenizer();
        Assert.Equal(new[] { Gpt2Tokenizer.EndOfText }, t.Encode("<|endoftext|>"));
        Assert.Equal(new[] { 64, Gpt2Tokenizer.EndOfText, 65 }, t.Encode("a<|endoftext|>b"));
        Assert.Equal("<|endoftext|>", t.Decode([Gpt2Tokenizer.EndOfText]));
        Assert.Equal(new[] { 27, 91, 437 }, t.Encode("<|end"));
    }

    [Fact]
    public void Gpt2RejectsIdsOutsideTheVocabulary()
    {
        var t = new Gpt2Tokenizer();
        Assert.Throws<ArgumentException>(() => t.Decode([50257]));
        Assert.Throws<ArgumentException>(() => t.Decode([-1]));
    }

    [Fact]
    public void Gpt2TinyShakespeareMatchesEncoderPy()
    {
        // 338,025 tokens with the reference algorithm (nanoGPT's shakespeare/prepare.py reports the same split
        // sizes), and every id equal: the fixture holds a position-weighted checksum of encoder.py's ids
        var text = File.ReadAllText(Path.Combine(RepoRoot.Path, "data", "tinyshakespeare.txt"));
        var ids = new Gpt2Tokenizer().Encode(text);
        var reference = Fixtures.Load("gpt2_tokens.json").GetProperty("tinyshakespeare");
        Assert.Equal(reference.GetProperty("count").GetInt32(), ids.Length);
        long checksum = 0;
        for (int i = 0; i < ids.Length; i++) checksum = (checksum + (long)(i + 1) * ids[i]) % 1_000_000_007;
        Assert.Equal(reference.GetProperty("checksum_mod_1e9_7").GetInt64(), checksum);
        Assert.Equal(text, new Gpt2Tokenizer().Decode(ids));
    }

    [Theory]
    [InlineData("First Citizen:\nBefore we proceed any further, hear me speak.")]
    [InlineData("naïve café — 日本語 🙂 \t tabs  and   spaces")]
    [InlineData("tabs\tand\r\nCRLF\n\n  indented\n\tx 👩‍💻 𝐀")]
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
        const string text = "ok 🙂 done\t👩‍💻\r\n日本";
        var ids = t.Encode(text);
        var d = new StreamingDecoder(t);
        var pieces = ids.Select(d.Push).ToList();
        Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD'));
        Assert.Contains("", pieces); // the emoji are split over several byte tokens: some were held back
        Assert.Equal(text, string.Concat(pieces) + d.Flush());
    }

    [Fact]
    public void UnknownTokenizerNameIsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => Tokenizers.Create("bpe"));
        Assert.Contains("char, gpt2, o200k", e.Message);
    }
}
