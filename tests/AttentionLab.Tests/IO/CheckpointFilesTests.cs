using AttentionLab.IO;

namespace AttentionLab.Tests.IO;

/// <summary>
/// Sharded checkpoints: fixtures/sharded_tiny (three shards, F32, F16 and BF16, written byte by byte by
/// make_sharded_checkpoint.py from the format spec, values converted by torch 1.13) must read back exactly; folders
/// written by <see cref="CheckpointFiles.Write"/> reload; every inconsistency is one line; a folder too large for the
/// memory given is refused before any tensor is read.
/// </summary>
public sealed class CheckpointFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("attnlab-shards-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Fixture => Path.Combine(Fixtures.Directory, "sharded_tiny");

    [Fact]
    public void TheFixtureReadsExactlyAcrossShardsAndDtypes()
    {
        using var files = CheckpointFiles.Open(Fixture);
        var reference = Fixtures.Load("sharded_tiny/reference.json");
        var tensors = reference.GetProperty("tensors");
        Assert.True(files.IsSharded);
        Assert.Equal(3, files.Files.Count);
        Assert.Equal(tensors.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal), files.Names);
        Assert.Equal(reference.GetProperty("total_size").GetInt64(), files.DeclaredTotalSize);
        Assert.Equal(files.DeclaredTotalSize, files.StoredBytes);
        var dtypes = new HashSet<string>();
        foreach (var t in tensors.EnumerateObject())
        {
            var entry = files.Entry(t.Name);
            Assert.Equal(t.Value.GetProperty("dtype").GetString(), entry.DType);
            Assert.Equal(t.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()), entry.Shape);
            var expected = t.Value.GetProperty("data").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
            Assert.Equal(expected, files.Read(t.Name));            // exact: F16/BF16 → float32 loses nothing
            dtypes.Add(entry.DType);
        }
        Assert.Equal(["BF16", "F16", "F32"], dtypes.Order());
        Assert.Equal("model-00003-of-00003.safetensors", files.FileOf("lm_head.weight"));
        Assert.Equal(files.StoredBytes + tensors.EnumerateObject().Where(t => t.Value.GetProperty("dtype").GetString() != "F32")
            .Sum(t => files.Entry(t.Name).Bytes), files.Float32Bytes);   // 16-bit tensors double as float32
    }

    private static (string, int[], ReadOnlyMemory<float>)[] Tensors() =>
    [
        ("model.embed_tokens.weight", [10, 4], Enumerable.Range(0, 40).Select(i => i * 0.5f - 3).ToArray()),
        ("model.layers.0.self_attn.q_proj.weight", [4, 4], Enumerable.Range(0, 16).Select(i => (float)Math.Sin(i)).ToArray()),
        ("model.layers.0.mlp.up_proj.weight", [6, 4], Enumerable.Range(0, 24).Select(i => -i * 0.25f).ToArray()),
        ("model.norm.weight", [4], new float[] { 1, 1, 0.5f, 2 }),
    ];

    [Fact]
    public void WrittenShardsReloadWithTheSameValues()
    {
        CheckpointFiles.Write(_dir, Tensors(), maxShardBytes: 170);   // 160 B | 64 + 96 B | 16 B
        Assert.True(File.Exists(Path.Combine(_dir, CheckpointFiles.IndexFile)));
        Assert.False(File.Exists(Path.Combine(_dir, CheckpointFiles.SingleFile)));
        using var files = CheckpointFiles.Open(_dir);
        Assert.Equal(["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"], files.Files.Order(StringComparer.Ordinal));
        foreach (var (name, shape, data) in Tensors())
        {
            Assert.Equal(shape, files.Entry(name).Shape);
            Assert.Equal(data.ToArray(), files.Read(name));
        }
        Assert.Equal(files.StoredBytes, files.DeclaredTotalSize);
    }

    [Fact]
    public void ASmallCheckpointIsOneFile()
    {
        CheckpointFiles.Write(_dir, Tensors());
        Assert.False(File.Exists(Path.Combine(_dir, CheckpointFiles.IndexFile)));
        using var files = CheckpointFiles.Open(_dir);
        Assert.False(files.IsSharded);
        Assert.Equal([CheckpointFiles.SingleFile], files.Files);
        Assert.Equal(Tensors()[1].Item3.ToArray(), files.Read("model.layers.0.self_attn.q_proj.weight"));
    }

    private void Sharded() => CheckpointFiles.Write(_dir, Tensors(), maxShardBytes: 170);

    private string Index
    {
        get => File.ReadAllText(Path.Combine(_dir, CheckpointFiles.IndexFile));
        set
        {
            Assert.NotEqual(File.ReadAllText(Path.Combine(_dir, CheckpointFiles.IndexFile)), value);   // the edit took
            File.WriteAllText(Path.Combine(_dir, CheckpointFiles.IndexFile), value);
        }
    }

    private void Refused(string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => CheckpointFiles.Open(_dir).Dispose());
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void AMissingShardIsOneLine()
    {
        Sharded();
        File.Delete(Path.Combine(_dir, "model-00002-of-00003.safetensors"));
        Refused("model-00002-of-00003.safetensors does not exist (the model.safetensors.index.json puts tensors in it)");
    }

    [Fact]
    public void AWeightMapThatDisagreesWithTheShardsIsRefused()
    {
        Sharded();
        string good = Index;
        Index = good.Replace("\"model.norm.weight\": \"model-00003-of-00003.safetensors\"", "\"model.norm.weight\": \"model-00001-of-00003.safetensors\"");
        Refused("model.norm.weight");
        Index = good.Replace("\"model.layers.0.mlp.up_proj.weight\": \"model-00002-of-00003.safetensors\",", "");
        Refused("'model.layers.0.mlp.up_proj.weight' is in this shard but the weight_map does not list it");
        Index = good.Replace("\"model.norm.weight\"", "\"model.norm.weight\": \"model-00003-of-00003.safetensors\", \"model.extra\"");
        Refused("has no tensor 'model.extra'");
        Index = good.Replace("model-00001-of-00003.safetensors", "../model-00001-of-00003.safetensors");
        Refused("is not a .safetensors file name inside the folder");
        Index = "{\"weight_map\": {}}";
        Refused("empty");
        Index = "{\"metadata\": {\"total_size\": -1}, \"weight_map\": {\"a\": \"model-00001-of-00003.safetensors\"}}";
        Refused("total_size");
    }

    [Fact]
    public void ATensorInTwoShardsIsRefused()
    {
        Sharded();
        File.Copy(Path.Combine(_dir, "model-00002-of-00003.safetensors"), Path.Combine(_dir, "model-00003-of-00003.safetensors"), overwrite: true);
        Refused("model-00003-of-00003.safetensors");
    }

    [Fact]
    public void AFolderWithoutWeightsIsOneLine()
    {
        Refused($"has neither {CheckpointFiles.SingleFile} nor {CheckpointFiles.IndexFile}");
    }

    [Fact]
    public void AFolderTooLargeForMemoryIsRefusedAtStart()
    {
        using var files = CheckpointFiles.Open(Fixture);
        var m = files.Memory(availableBytes: 1L << 30);
        Assert.Equal(files.Float32Bytes, m.WeightBytes);
        long largest = files.Names.Max(n => files.Entry(n).Count) * 4;
        Assert.Equal(2 * largest + LoadMemory.ReserveBytes, m.WorkingSetBytes);
        Assert.True(m.Fits);
        files.EnsureFits(m.RequiredBytes);                            // exactly enough is enough
        var e = Assert.Throws<ModelTooLargeException>(() => files.EnsureFits(m.RequiredBytes - 1));
        Assert.Contains("needs about 256.", e.Message);
        Assert.Contains("working set", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.True(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes > 0);
        files.EnsureFits();                                           // the tiny fixture fits this machine
    }

    [Fact]
    public void TheMemoryArithmeticOfARealSizedCheckpoint()
    {
        // Llama 3 8B: 8,030,261,248 parameters, BF16 on disk (16.06 GB), float32 in the arena: 32.12 GB;
        // the largest tensor is embed_tokens (128,256 × 4,096), so the working set is 2 × 2.1 GB + 256 MiB
        var m = new LoadMemory(8_030_261_248L * 4, 2 * 128_256L * 4096 * 4 + LoadMemory.ReserveBytes, "model.embed_tokens.weight", 16L << 30);
        Assert.False(m.Fits);
        Assert.Equal("29.92 GiB", LoadMemory.Format(m.WeightBytes));
        Assert.Equal(8_030_261_248L * 4 + 4_202_692_608L + (256L << 20), m.RequiredBytes);
    }
}
