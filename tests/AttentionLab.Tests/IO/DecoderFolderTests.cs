using System.Text.Json.Nodes;
using AttentionLab.IO;
using AttentionLab.Models;
using AttentionLab.Attention;

namespace AttentionLab.Tests.IO;

public sealed class DecoderFolderTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "attnlab-gpt2-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static string FixtureDir => Path.Combine(Fixtures.Directory, "gpt2_tiny");

    [Fact]
    public void SaveThenLoadRoundTripsEveryParameterAndTheConfig()
    {
        var model = new DecoderModel(DecoderConfig.Tiny, AttentionKernels.Reference);
        model.InitializeWeights(seed: 7);
        DecoderFolder.Save(model, _dir);
        var loaded = DecoderFolder.Load(_dir, AttentionKernels.Reference);
        Assert.Equal(model.Config, loaded.Config);
        Assert.Equal(model.Parameters.Data, loaded.Parameters.Data);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp")); // temporaries renamed away
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "config.json")))!;
        Assert.Equal("gpt2", (string?)config["model_type"]);
        Assert.Equal("GPT2LMHeadModel", (string?)config["architectures"]![0]);
        Assert.Equal("gelu_new", (string?)config["activation_function"]);
        Assert.True((bool)config["tie_word_embeddings"]!);
        var (tensors, _) = SafeTensors.Read(Path.Combine(_dir, "model.safetensors"));
        Assert.False(tensors.ContainsKey("lm_head.weight"));
        Assert.Equal([32, 128], tensors["transformer.h.1.mlp.c_fc.weight"].Shape); // Conv1D (in, out)
    }

    [Fact]
    public void ResavingTheFixtureIsByteForByteTheSameTensors()
    {
        var model = DecoderFolder.Load(FixtureDir, AttentionKernels.Reference);
        DecoderFolder.Save(model, _dir);
        var (a, _) = SafeTensors.Read(Path.Combine(FixtureDir, "model.safetensors"));
        var (b, _) = SafeTensors.Read(Path.Combine(_dir, "model.safetensors"));
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var k in a.Keys) Assert.Equal(a[k].Data, b[k].Data);
    }

    /// <summary>OpenAI's hub checkpoint (openai-community/gpt2) names tensors without "transformer." and stores the
    /// causal-mask buffers h.{i}.attn.bias; both are accepted, and an explicit lm_head.weight is ignored (tied).</summary>
    [Fact]
    public void LoadsHubStyleNamesAndSkipsMaskBuffers()
    {
        var (tensors, _) = SafeTensors.Read(Path.Combine(FixtureDir, "model.safetensors"));
        var renamed = tensors.Values.Select(t => (t.Name["transformer.".Length..], t.Shape, (ReadOnlyMemory<float>)t.Data)).ToList();
        renamed.Add(("h.0.attn.bias", [1, 1, 16, 16], new float[256]));
        renamed.Add(("h.1.attn.masked_bias", [1], new float[1]));
        renamed.Add(("lm_head.weight", [65, 32], tensors["transformer.wte.weight"].Data));
        Directory.CreateDirectory(_dir);
        File.Copy(Path.Combine(FixtureDir, "config.json"), Path.Combine(_dir, "config.json"));
        using (var f = File.Create(Path.Combine(_dir, "model.safetensors"))) SafeTensors.Write(f, renamed);
        var a = DecoderFolder.Load(FixtureDir, AttentionKernels.Reference);
        var b = DecoderFolder.Load(_dir, AttentionKernels.Reference);
        Assert.Equal(a.Parameters.Data, b.Parameters.Data);
    }

    [Fact]
    public void RefusesToOverwriteUnlessForced()
    {
        var model = new DecoderModel(DecoderConfig.Tiny, AttentionKernels.Reference);
        DecoderFolder.Save(model, _dir);
        var e = Assert.Throws<IOException>(() => DecoderFolder.Save(model, _dir));
        Assert.Contains("force", e.Message);
        model.InitializeWeights(1);
        DecoderFolder.Save(model, _dir, force: true);
        Assert.Equal(model.Parameters.Data, DecoderFolder.Load(_dir, AttentionKernels.Reference).Parameters.Data);
    }

    [Fact]
    public void ShapesThatDoNotMatchTheConfigAreRejected()
    {
        Directory.CreateDirectory(_dir);
        File.Copy(Path.Combine(FixtureDir, "model.safetensors"), Path.Combine(_dir, "model.safetensors"));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(FixtureDir, "config.json")))!;
        config["n_embd"] = 64;
        File.WriteAllText(Path.Combine(_dir, "config.json"), config.ToJsonString());
        var e = Assert.Throws<InvalidDataException>(() => DecoderFolder.Load(_dir, AttentionKernels.Reference));
        Assert.Contains("shape", e.Message);
        config["n_embd"] = 32; config["n_layer"] = 3;
        File.WriteAllText(Path.Combine(_dir, "config.json"), config.ToJsonString());
        Assert.Contains("missing tensors", Assert.Throws<InvalidDataException>(() => DecoderFolder.Load(_dir, AttentionKernels.Reference)).Message);
        config["n_layer"] = 1;
        File.WriteAllText(Path.Combine(_dir, "config.json"), config.ToJsonString());
        Assert.Contains("unexpected tensor", Assert.Throws<InvalidDataException>(() => DecoderFolder.Load(_dir, AttentionKernels.Reference)).Message);
        config["n_layer"] = 2; config["model_type"] = "llama";
        File.WriteAllText(Path.Combine(_dir, "config.json"), config.ToJsonString());
        Assert.Contains("gpt2", Assert.Throws<InvalidDataException>(() => DecoderFolder.Load(_dir, AttentionKernels.Reference)).Message);
        config["model_type"] = "gpt2"; config["n_head"] = 5;
        File.WriteAllText(Path.Combine(_dir, "config.json"), config.ToJsonString());
        Assert.Contains("divide", Assert.Throws<InvalidDataException>(() => DecoderFolder.Load(_dir, AttentionKernels.Reference)).Message);
    }
}
