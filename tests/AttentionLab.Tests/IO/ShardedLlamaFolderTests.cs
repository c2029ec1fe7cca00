using AttentionLab.IO;
using AttentionLab.Text;

namespace AttentionLab.Tests.IO;

/// <summary>
/// A Llama-family folder whose weights are sharded loads through <see cref="CheckpointFiles"/> into the same model
/// as the single-file folder (bit-identical logits on the PyTorch fixture batch), a folder too large for the memory is
/// refused before anything is allocated, and a folder's tokenizer.json is the tokenizer generate and the Explorer open.
/// </summary>
public sealed class ShardedLlamaFolderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("attnlab-sharded-llama-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Folder(string name) => Path.Combine(Fixtures.Directory, "llama", name);

    [Theory]
    [InlineData("llama_tiny")]
    [InlineData("qwen2_tiny_bf16")]
    public void ShardedAndSingleFileFoldersGiveTheSameLogits(string name)
    {
        File.Copy(Path.Combine(Folder(name), ModelFolder.ConfigFile), Path.Combine(_dir, ModelFolder.ConfigFile));
        using (var single = CheckpointFiles.Open(Folder(name)))
            CheckpointFiles.Write(_dir, [.. single.Names.Select(n => (n, single.Entry(n).Shape, (ReadOnlyMemory<float>)single.Read(n)))], maxShardBytes: 4096);
        Assert.True(ModelFolder.Exists(_dir));
        using (var sharded = CheckpointFiles.Open(_dir)) Assert.True(sharded.Files.Count >= 3);
        Assert.Equal("llama", ModelFolderInfo.Read(_dir).Kind);

        var reference = Fixtures.Load($"llama/{name}/reference.json");
        var x = Fixtures.Floats(Fixtures.Get(reference, "x")).Select(f => (int)f).ToArray();
        var a = LlamaFolder.Load(Folder(name));
        var b = LlamaFolder.Load(_dir);
        a.Forward(x, 2, 8);
        b.Forward(x, 2, 8);
        Assert.Equal(a.Logits.ToArray(), b.Logits.ToArray());
    }

    [Fact]
    public void AMissingShardTensorIsNamed()
    {
        File.Copy(Path.Combine(Folder("llama_tiny"), ModelFolder.ConfigFile), Path.Combine(_dir, ModelFolder.ConfigFile));
        using (var single = CheckpointFiles.Open(Folder("llama_tiny")))
            CheckpointFiles.Write(_dir, [.. single.Names.Where(n => n != "model.norm.weight").Select(n => (n, single.Entry(n).Shape, (ReadOnlyMemory<float>)single.Read(n)))], maxShardBytes: 4096);
        var e = Assert.Throws<InvalidDataException>(() => LlamaFolder.Load(_dir));
        Assert.Contains("missing tensors: model.norm.weight", e.Message);
    }

    [Fact]
    public void TokenizerJsonIsTheFoldersTokenizer()
    {
        File.WriteAllText(Path.Combine(_dir, ModelFolder.ConfigFile), """
            {"model_type": "qwen2", "vocab_size": 600, "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2}
            """);
        File.WriteAllBytes(Path.Combine(_dir, ModelFolder.WeightsFile), []);
        Load("qwen2").Save(_dir);
        var info = ModelFolderInfo.Read(_dir);
        Assert.Equal(ModelTokenizer.HuggingFace, info.Tokenizer);
        var t = Assert.IsType<HfTokenizer>(info.OpenTokenizer());
        Assert.Equal(Load("qwen2").Encode("Hello world"), t.Encode("Hello world"));
        // a tokenizer with more ids than the model's embedding rows is refused
        File.WriteAllText(Path.Combine(_dir, ModelFolder.ConfigFile), """
            {"model_type": "qwen2", "vocab_size": 100, "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2}
            """);
        Assert.Contains("has 529 ids but the model only 100", Assert.Throws<InvalidDataException>(() => ModelFolderInfo.Read(_dir).OpenTokenizer()).Message);
    }

    private static HfTokenizer Load(string kind) => HfTokenizer.Load(Path.Combine(Fixtures.Directory, "hf_tokenizers", kind));
}
