using AttentionLab.Text;

namespace AttentionLab.Tests.Text;

/// <summary>
/// The one bos rule (<see cref="HfTokenizer.EncodeForModel"/>): tokenizer_config.json's <c>add_bos_token</c> where it
/// is given, else whether tokenizer.json's post-processor template puts a special token first; the token is
/// tokenizer_config.json's <c>bos_token</c>, else the template's. On the fixture folders (make_hf_tokenizers.py):
/// Llama 2, Mistral and Llama 3 start with their bos, Qwen2 (no bos token) and SmolLM2 (add_bos_token false) do not;
/// and on the same files with tokenizer_config.json left out or contradicting the template.
/// </summary>
public sealed class BosTokenTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("attnlab-bos-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Folder(string kind) => Path.Combine(Fixtures.Directory, "hf_tokenizers", kind);

    [Theory]
    [InlineData("llama2", "<s>")]
    [InlineData("mistral", "<s>")]
    [InlineData("llama3", "<|begin_of_text|>")]
    [InlineData("qwen2", null)]
    [InlineData("smollm2", null)]
    public void TheFixtureFoldersAddBosExactlyWhereTheySaySo(string kind, string? bos)
    {
        var t = HfTokenizer.Load(Folder(kind));
        const string text = "Hello world";
        var plain = t.Encode(text);
        if (bos is null)
        {
            Assert.Equal(plain, t.EncodeForModel(text));
            Assert.Equal(0, t.PrefixLength);
        }
        else
        {
            Assert.Equal([t.BosTokenId!.Value, .. plain], t.EncodeForModel(text));
            Assert.Equal(bos, t.RawToken(t.BosTokenId.Value));
            Assert.Equal(1, t.PrefixLength);
        }
        Assert.Equal(t.EncodeForModel(text), ((ITokenizer)t).EncodeForModel(text));   // the interface reaches the same rule
    }

    [Fact]
    public void WithoutTokenizerConfigTheTemplateDecides()
    {
        File.Copy(Path.Combine(Folder("llama3"), HfTokenizer.FileName), Path.Combine(_dir, HfTokenizer.FileName));
        var t = HfTokenizer.Load(_dir);                        // Llama 3's template "<|begin_of_text|> $A", no config
        Assert.True(t.AddBosToken);
        Assert.Equal("<|begin_of_text|>", t.RawToken(t.BosTokenId!.Value));
        Assert.Equal([t.BosTokenId.Value, .. t.Encode("Hi")], t.EncodeForModel("Hi"));

        File.Copy(Path.Combine(Folder("qwen2"), HfTokenizer.FileName), Path.Combine(_dir, HfTokenizer.FileName), overwrite: true);
        Assert.False(HfTokenizer.Load(_dir).AddBosToken);      // no template, no config: nothing first
    }

    [Fact]
    public void AddBosTokenInTheConfigOverridesTheTemplate()
    {
        File.Copy(Path.Combine(Folder("llama2"), HfTokenizer.FileName), Path.Combine(_dir, HfTokenizer.FileName));
        File.WriteAllText(Path.Combine(_dir, HfTokenizer.ConfigFileName), """{"bos_token": "<s>", "add_bos_token": false}""");
        var off = HfTokenizer.Load(_dir);
        Assert.False(off.AddBosToken);
        Assert.Equal(off.Encode("Hi"), off.EncodeForModel("Hi"));
        // a config without add_bos_token leaves the template's choice
        File.WriteAllText(Path.Combine(_dir, HfTokenizer.ConfigFileName), """{"bos_token": "<s>", "eos_token": "</s>"}""");
        Assert.True(HfTokenizer.Load(_dir).AddBosToken);
    }

    [Fact]
    public void APaddedRowPastTheLastTokenIsLabelledByItsId()
    {
        var t = HfTokenizer.Load(Folder("qwen2"));
        Assert.Equal($"#{t.VocabSize}", t.TokenText(t.VocabSize));    // a label for inspect's predictions, never a failure
        Assert.Throws<ArgumentException>(() => t.Decode([t.VocabSize]));
    }
}
