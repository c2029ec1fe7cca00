using AttentionLab.IO;
using AttentionLab.Models;
using AttentionLab.Tests.Cli;
using AttentionLab.Tests.Generation;
using AttentionLab.Text;

namespace AttentionLab.Tests.IO;

/// <summary>One reader says which architecture a model folder holds and how its input is tokenized, for every kind,
/// and refuses anything else with one line.</summary>
public sealed class ModelFolderInfoTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"attnlab-folderinfo-{Guid.NewGuid():N}");

    public ModelFolderInfoTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private string Folder(string name) => Path.Combine(_root, name);

    private string CopyTinyGpt2(string name)
    {
        var dir = Folder(name);
        Directory.CreateDirectory(dir);
        foreach (var f in new[] { DecoderFolder.ConfigFileName, DecoderFolder.WeightsFileName })
            File.Copy(Path.Combine(TinyGpt2.Directory, f), Path.Combine(dir, f));
        return dir;
    }

    [Fact]
    public void AGpt2FolderWithoutATokenizerFileHasNone()
    {
        var info = ModelFolderInfo.Read(CopyTinyGpt2("gpt2"));
        Assert.Equal("gpt2", info.Kind);
        Assert.True(info.IsGpt2);
        Assert.Equal(ModelTokenizer.None, info.Tokenizer);
        Assert.Null(info.OpenTokenizer());
    }

    [Fact]
    public void AGpt2FolderWithItsTokenizerFileUsesIt()
    {
        var dir = Folder("saved");
        var model = new DecoderModel(DecoderConfig.Tiny with { VocabSize = 8 }, training: false);
        DecoderFolder.Save(model, dir);
        Tokenizers.Save(CharTokenizer.FromCorpus("abcdefg "), dir);
        var info = ModelFolderInfo.Read(dir);
        Assert.Equal(("gpt2", ModelTokenizer.Saved), (info.Kind, info.Tokenizer));
        Assert.Equal(8, info.OpenTokenizer()!.VocabSize);

        // a tokenizer with more ids than the model is refused in one line
        Tokenizers.Save(CharTokenizer.FromCorpus("abcdefghij"), dir);
        Assert.Contains("has 10 ids but the model only 8", Assert.Throws<InvalidDataException>(() => ModelFolderInfo.Read(dir).OpenTokenizer()).Message);
    }

    [Fact]
    public void AHuggingFaceGpt2FolderUsesGpt2Bpe()
    {
        var dir = CopyTinyGpt2("hf");
        var config = Path.Combine(dir, DecoderFolder.ConfigFileName);
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(config))!;
        json["vocab_size"] = ModelFolderInfo.Gpt2BpeVocabulary;
        File.WriteAllText(config, json.ToJsonString());
        var info = ModelFolderInfo.Read(dir);
        Assert.Equal(("gpt2", ModelTokenizer.Gpt2Bpe), (info.Kind, info.Tokenizer));
        Assert.IsType<Gpt2Tokenizer>(info.OpenTokenizer());
    }

    [Fact]
    public void EncoderFoldersAreReadByTheirModelType()
    {
        new Seq2SeqModel(new Seq2SeqConfig { Channels = 16, Heads = 2, EncoderLayers = 1, DecoderLayers = 1 }).Save(Folder("s2s"));
        new BertModel(new BertConfig { Characters = "abc ", Channels = 16, Heads = 2, Layers = 1, MaxLength = 16 }).Save(Folder("bert"));
        new VisionTransformer(new VitConfig { ImageSize = 16, PatchSize = 4, Channels = 16, Heads = 2, Layers = 1 }).Save(Folder("vit"));
        foreach (var (name, kind, tokenizer) in new[] { ("s2s", "seq2seq", ModelTokenizer.TaskAlphabet), ("bert", "bert", ModelTokenizer.Characters), ("vit", "vit", ModelTokenizer.None) })
        {
            var info = ModelFolderInfo.Read(Folder(name));
            Assert.Equal((kind, tokenizer), (info.Kind, info.Tokenizer));
            Assert.False(info.IsGpt2);
            Assert.Null(info.OpenTokenizer());
        }
        Assert.Equal(["gpt2", "llama", "seq2seq", "bert", "vit"], ModelFolderInfo.Kinds);
    }

    [Fact]
    public void AFolderOfNoKindIsRefusedInOneLine()
    {
        var file = Path.Combine(_root, "file");
        File.WriteAllText(file, "x");
        var empty = Folder("empty");
        Directory.CreateDirectory(empty);
        var other = CopyTinyGpt2("t5");
        File.WriteAllText(Path.Combine(other, "config.json"), """{"model_type": "t5", "vocab_size": 10}""");
        var broken = CopyTinyGpt2("broken");
        File.WriteAllText(Path.Combine(broken, "config.json"), "{ not json");
        foreach (var (dir, message) in new[]
        {
            (Folder("missing"), "does not exist"), (file, "is a file"), (empty, "is not a model folder: it needs config.json and model.safetensors"),
            (other, "holds a 't5' model; attnlab reads gpt2, llama, seq2seq, bert, vit folders"), (broken, "not valid JSON"),
        })
        {
            var e = Assert.Throws<InvalidDataException>(() => ModelFolderInfo.Read(dir));
            Assert.Contains(message, e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
    }

    [Fact]
    public void TheCliSaysWhatAFolderOfTheWrongKindIs()
    {
        new BertModel(new BertConfig { Characters = "abc ", Channels = 16, Heads = 2, Layers = 1, MaxLength = 16 }).Save(Folder("bert"));
        var other = CopyTinyGpt2("t5");
        File.WriteAllText(Path.Combine(other, "config.json"), """{"model_type": "t5"}""");
        foreach (var (args, message) in new (string[], string)[]
        {
            (["generate", "--model", Folder("bert"), "--prompt", "a"], "holds a bert model; generate reads GPT-2 and Llama-family models"),
            (["generate", "--model", other, "--ids", "1"], "holds a 't5' model"),
            (["inspect", "--model", other, "--ids", "1"], "holds a 't5' model"),
            (["inspect", "--model", Folder("empty"), "--ids", "1"], "does not exist"),
        })
        {
            var r = CliHarness.Run(args);
            Assert.Equal(2, r.ExitCode);
            Assert.Single(r.StderrLines);
            Assert.Contains(message, r.Stderr);
        }
    }
}

/// <summary>The Explorer's catalog reads folders with the same reader: a folder of no kind is listed with its one-line
/// error and refused when opened (422), beside the folders that open.</summary>
public sealed class CatalogFolderKindTests : IDisposable
{
    private readonly string _runs = Path.Combine(Path.GetTempPath(), $"attnlab-catalog-{Guid.NewGuid():N}");

    public void Dispose()
    {
        try { Directory.Delete(_runs, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public void AFolderOfNoKindIsListedWithItsErrorAndRefusedWhenOpened()
    {
        var gpt2 = Path.Combine(_runs, "a-gpt2");
        Directory.CreateDirectory(gpt2);
        foreach (var f in new[] { DecoderFolder.ConfigFileName, DecoderFolder.WeightsFileName })
            File.Copy(Path.Combine(TinyGpt2.Directory, f), Path.Combine(gpt2, f));
        new BertModel(new BertConfig { Characters = "abc ", Channels = 16, Heads = 2, Layers = 1, MaxLength = 16 }).Save(Path.Combine(_runs, "b-bert"));
        var t5 = Path.Combine(_runs, "c-t5");
        Directory.CreateDirectory(t5);
        File.Copy(Path.Combine(TinyGpt2.Directory, DecoderFolder.WeightsFileName), Path.Combine(t5, DecoderFolder.WeightsFileName));
        File.WriteAllText(Path.Combine(t5, "config.json"), """{"model_type": "t5"}""");

        var catalog = new AttentionLab.Explorer.ModelCatalog([], _runs);
        var models = new AttentionLab.Explorer.ExplorerApi(catalog, null).Models()["models"]!.AsArray();
        var byName = models.ToDictionary(m => (string)m!["name"]!, m => m!);
        Assert.Equal("gpt2", (string?)byName["runs/a-gpt2"]["kind"]);
        Assert.False((bool)byName["runs/a-gpt2"]["tokenizer"]!);
        Assert.Equal("bert", (string?)byName["runs/b-bert"]["kind"]);
        Assert.Contains("holds a 't5' model", (string?)byName["runs/c-t5"]["error"]);
        var e = Assert.Throws<AttentionLab.Explorer.ExplorerException>(() => catalog.Find("runs/c-t5"));
        Assert.Equal(422, e.Status);
        Assert.Equal("bert", catalog.Find("runs/b-bert").Kind);
    }
}
