using System.Text;
using AttentionLab.IO;
using AttentionLab.Text;

namespace AttentionLab.Tests.Text;

/// <summary>
/// tokenizer.json folders of both kinds (fixtures/hf_tokenizers: byte-level Qwen2, Llama 3 and SmolLM2 styles, and
/// SentencePiece-style Llama 2) against the ids of an INDEPENDENT implementation: the plain-Python BPE of
/// fixtures/make_hf_tokenizers.py, written from the Hugging Face tokenizers spec with hand-written regex scanners
/// (no `regex`, `tokenizers` or .NET code shared). Every id must match exactly.
/// </summary>
public class HfTokenizerTests
{
    private static string Folder(string kind) => Path.Combine(Fixtures.Directory, "hf_tokenizers", kind);

    private static readonly Dictionary<string, HfTokenizer> Loaded = new();

    private static HfTokenizer Load(string kind)
    {
        lock (Loaded)
        {
            if (!Loaded.TryGetValue(kind, out var t)) Loaded[kind] = t = HfTokenizer.Load(Folder(kind));
            return t;
        }
    }

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var kind in Fixtures.Load("hf_tokenizer_ids.json").GetProperty("kinds").EnumerateObject())
            for (int i = 0; i < kind.Value.GetProperty("cases").GetArrayLength(); i++) data.Add(kind.Name, i);
        return data;
    }

    private static (string Text, int[] Ids, string Decoded) Case(string kind, int i)
    {
        var c = Fixtures.Load("hf_tokenizer_ids.json").GetProperty("kinds").GetProperty(kind).GetProperty("cases")[i];
        return (c.GetProperty("text").GetString()!, [.. c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32())], c.GetProperty("decoded").GetString()!);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void IdsMatchThePlainPythonBpe(string kind, int index)
    {
        var (text, ids, decoded) = Case(kind, index);
        var t = Load(kind);
        // Qwen2 normalizes to NFC first: UnicodeNormalization, without ICU, gives the ids Python's unicodedata does
        Assert.Equal(ids, t.Encode(text));
        Assert.Equal(ids, t.EncodeReference(text));      // the plain merge loop agrees with Microsoft.ML.Tokenizers
        Assert.Equal(decoded, t.Decode(ids));
    }

    [Theory]
    [InlineData("qwen2", true), InlineData("llama3", true), InlineData("smollm2", true), InlineData("llama2", false), InlineData("mistral", false)]
    public void KindAndVocabularySizeAreTheFixtures(string kind, bool byteLevel)
    {
        var t = Load(kind);
        Assert.Equal(byteLevel, t.IsByteLevel);
        Assert.Equal(Fixtures.Load("hf_tokenizer_ids.json").GetProperty("kinds").GetProperty(kind).GetProperty("vocab_size").GetInt32(), t.VocabSize);
        Assert.True(t.MergeCount > 200);
    }

    [Fact]
    public void TheFixtureCoversWhatTheTestsClaim()
    {
        var texts = Enumerable.Range(0, Fixtures.Load("hf_tokenizer_ids.json").GetProperty("kinds").GetProperty("qwen2").GetProperty("cases").GetArrayLength())
            .Select(i => Case("qwen2", i).Text).ToList();
        Assert.Contains(texts, s => s.Contains("    "));                              // whitespace runs
        Assert.Contains(texts, s => s.Contains("\r\n") && s.Contains('\t'));
        Assert.Contains(texts, s => s.Contains("1234567890"));                        // digit runs (Llama 3 groups of 3)
        Assert.Contains(texts, s => s.Contains('我'));                                // CJK
        Assert.Contains(texts, s => s.Contains("x🙂y"));                              // emoji beside letters
        Assert.Contains(texts, s => s.Contains("𝐀"));                                 // letters outside the BMP
        Assert.Contains(texts, s => s.Contains("<|im_start|>"));                      // added tokens
        // the digits really are split differently: Qwen2 one by one, Llama 3 in threes
        Assert.True(Load("qwen2").Encode("1234567").Length >= 7);
        Assert.True(Load("llama3").Encode("1234567").Length <= Load("qwen2").Encode("1234567").Length);
    }

    [Fact]
    public void AddedTokensAreSingleIdsAndSpecial()
    {
        var t = Load("qwen2");
        var ids = t.Encode("<|im_start|>user");
        Assert.Equal("<|im_start|>", t.RawToken(ids[0]));
        Assert.Contains(ids[0], t.SpecialTokenIds);
        Assert.Equal("<|im_start|>user", t.Decode(ids));
    }

    [Fact]
    public void ByteFallbackSpellsAnUnknownCharacterAsItsUtf8Bytes()
    {
        var t = Load("llama2");
        var ids = t.Encode("🚀");                          // not in the vocabulary: ▁ then F0 9F 9A 80
        Assert.Equal(["<0xF0>", "<0x9F>", "<0x9A>", "<0x80>"], ids[^4..].Select(i => t.RawToken(i)!));
        Assert.Equal("🚀", t.Decode(ids));
        Assert.Equal("\uFFFD\uFFFD", t.Decode(ids[^4..^2]));   // half a character: one U+FFFD per byte, as HF does
    }

    [Fact]
    public void MetaspacePrependsOnlyAtTheStartOfTheText()
    {
        // prepend_scheme "first": "▁" before the text's first stretch only, not after an added token, and not twice
        // before a leading space — where Llama 2's Prepend normalizer puts one before every stretch
        var mistral = Load("mistral");
        var llama2 = Load("llama2");
        Assert.Equal("▁a", mistral.RawToken(mistral.Encode("a")[0]) + (mistral.Encode("a").Length == 1 ? "" : "?"));
        Assert.NotEqual(llama2.Encode("a<s>b"), mistral.Encode("a<s>b"));
        Assert.Equal("b", mistral.RawToken(mistral.Encode("a<s>b")[^1]));
        Assert.Equal("▁b", llama2.RawToken(llama2.Encode("a<s>b")[^1]));
        Assert.Equal("▁▁x", string.Concat(llama2.Encode(" x").Select(i => llama2.RawToken(i))));
        Assert.Equal("▁x", string.Concat(mistral.Encode(" x").Select(i => mistral.RawToken(i))));
    }

    [Fact]
    public void MetaspaceWithSplitCutsBeforeEachSpace()
    {
        var json = """
            {"model": {"type": "BPE", "vocab": {"▁": 0, "a": 1, "b": 2, "▁a": 3, "b▁": 4}, "merges": ["b ▁", "▁ a"]},
             "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true},
             "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always"}}
            """;
        var t = new HfTokenizer(Encoding.UTF8.GetBytes(json), []);
        Assert.Equal([3, 2, 0, 3], t.Encode("ab  a"));                // the pieces ▁ab, ▁, ▁a: "b▁" would need a merge across them
        Assert.Equal("ab  a", t.Decode([3, 2, 0, 3]));
        var whole = new HfTokenizer(Encoding.UTF8.GetBytes(json.Replace("\"split\": true", "\"split\": false")), []);
        Assert.Equal([3, 4, 3], whole.Encode("ab  a"));              // without split the merges cross: ▁a, b▁, ▁a
    }

    [Fact]
    public void IgnoreMergesTakesAWholeVocabularyWord()
    {
        var t = Load("llama3");
        var ids = t.Encode(" zyzzyva");
        Assert.Single(ids);                                // the merges alone cannot reach this token
        Assert.Equal(" zyzzyva", t.Decode(ids));
    }

    [Fact]
    public void PromptsStartWithBosWhereTheConfigSaysSo()
    {
        var llama2 = Load("llama2");
        Assert.Equal("<s>", llama2.RawToken(llama2.BosTokenId!.Value));
        Assert.Equal("</s>", llama2.RawToken(llama2.EosTokenId!.Value));
        Assert.True(llama2.AddBosToken);
        Assert.Equal([llama2.BosTokenId.Value, .. llama2.Encode("Hi")], llama2.EncodeForModel("Hi"));
        var qwen = Load("qwen2");
        Assert.False(qwen.AddBosToken);                   // Qwen has no bos token
        Assert.Equal(qwen.Encode("Hi"), qwen.EncodeForModel("Hi"));
        Assert.Equal("<|im_end|>", qwen.RawToken(qwen.EosTokenId!.Value));
    }

    [Fact]
    public void StreamingDecoderHoldsBackHalfCharacters()
    {
        foreach (var kind in new[] { "qwen2", "llama3", "llama2" })   // llama2: spaces survive its decoder's Strip step
        {
            var t = Load(kind);
            const string text = "emoji 🚀 and 我们";
            var s = new StreamingDecoder(t);
            var sb = new StringBuilder();
            foreach (int id in t.Encode(text)) sb.Append(s.Push(id));
            sb.Append(s.Flush());
            Assert.Equal(text, sb.ToString());
        }
    }

    [Fact]
    public void SaveWritesTheSameFilesBack()
    {
        var dir = Directory.CreateTempSubdirectory("hftok").FullName;
        try
        {
            Load("llama2").Save(dir);
            Assert.Equal(File.ReadAllBytes(Path.Combine(Folder("llama2"), "tokenizer.json")), File.ReadAllBytes(Path.Combine(dir, "tokenizer.json")));
            var back = HfTokenizer.Load(dir);
            Assert.Equal(Load("llama2").Encode("Hello world"), back.Encode("Hello world"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}", "model type 'Unigram' is not supported")]
    [InlineData("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a b\"]}}", "merge 'a b'")]
    [InlineData("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 0}}}", "id 0 is given to two")]
    [InlineData("{\"model\": {\"type\": \"BPE\", \"vocab\": {}}, \"pre_tokenizer\": {\"type\": \"Whitespace\"}}", "pre_tokenizer type 'Whitespace' is not supported")]
    [InlineData("{\"model\": {\"type\": \"BPE\", \"vocab\": {}}, \"normalizer\": {\"type\": \"BertNormalizer\"}}", "normalizer type 'BertNormalizer'")]
    [InlineData("[1, 2]", "not a JSON object")]
    [InlineData("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": -1}}}", "not an integer")]
    public void BadFilesAreOneLine(string json, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => new HfTokenizer(Encoding.UTF8.GetBytes(json), []));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void UnknownIdsAreAnArgumentError()
    {
        var t = Load("qwen2");
        Assert.Throws<ArgumentException>(() => t.Decode([t.VocabSize]));
        Assert.Throws<ArgumentException>(() => t.Decode([-1]));
    }

    [Fact]
    public void GenerationConfigReadsOneEosOrAList()
    {
        var dir = Directory.CreateTempSubdirectory("gencfg").FullName;
        try
        {
            Assert.Empty(GenerationConfig.Read(dir).EosTokenIds);       // no file, no config.json: nothing stops
            File.WriteAllText(Path.Combine(dir, GenerationConfig.FileName), "{\"bos_token_id\": 128000, \"eos_token_id\": [128001, 128008, 128009]}");
            var g = GenerationConfig.Read(dir);
            Assert.Equal([128001, 128008, 128009], g.EosTokenIds);
            Assert.True(g.IsEndOfSequence(128009));
            Assert.False(g.IsEndOfSequence(128000));
            Assert.Equal(128000, g.BosTokenId);
            File.WriteAllText(Path.Combine(dir, GenerationConfig.FileName), "{\"eos_token_id\": 2}");
            Assert.Equal([2], GenerationConfig.Read(dir).EosTokenIds);
            File.WriteAllText(Path.Combine(dir, GenerationConfig.FileName), "{\"eos_token_id\": \"</s>\"}");
            var e = Assert.Throws<InvalidDataException>(() => GenerationConfig.Read(dir));
            Assert.Contains("eos_token_id", e.Message);
            // without the file, config.json's eos ids stand in
            File.Delete(Path.Combine(dir, GenerationConfig.FileName));
            File.WriteAllText(Path.Combine(dir, "config.json"), "{\"model_type\": \"llama\", \"vocab_size\": 10, \"hidden_size\": 8, \"intermediate_size\": 16, " +
                "\"num_hidden_layers\": 1, \"num_attention_heads\": 2, \"eos_token_id\": 7}");
            Assert.Equal([7], GenerationConfig.Read(dir).EosTokenIds);
        }
        finally { Directory.Delete(dir, true); }
    }
}
