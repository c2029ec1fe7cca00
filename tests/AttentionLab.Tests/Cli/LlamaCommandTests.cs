using System.Text.Json.Nodes;
using AttentionLab.Explorer;
using AttentionLab.IO;
using AttentionLab.Models;
using AttentionLab.Tests.Models;

namespace AttentionLab.Tests.Cli;

/// <summary>The Llama family through the commands: <c>train --arch llama</c> from scratch on the bundled corpus (the
/// same trainer, saving a Hugging Face LlamaForCausalLM folder), <c>generate --model DIR --ids</c> on a Hugging Face
/// folder with the same tokens with and without the KV cache, <c>hooks</c> with the key/value heads' shape, and the
/// Explorer listing and inspecting such a folder.</summary>
public class LlamaCommandTests
{
    [Fact]
    public void TrainArchLlamaSavesAHuggingFaceLlamaFolderThatGeneratesAndResumes()
    {
        var dir = Path.Combine(Path.GetTempPath(), "attnlab-train-llama-" + Guid.NewGuid().ToString("N"));
        try
        {
            var json = CliHarness.Ok("train", "--arch", "llama", "--kv-heads", "1", "--layers", "1", "--d-model", "16", "--heads", "4",
                "--context", "16", "--steps", "3", "--batch", "2", "--eval-every", "3", "--eval-batches", "1", "--out", dir, "--json");
            var done = JsonNode.Parse(json.Trim().Split('\n')[^1])!;
            Assert.True((bool)done["done"]!);
            var hf = HfTransformerConfig.Read(dir);
            Assert.Equal(("llama", 4, 1, 16, 48), (hf.ModelType, hf.Heads, hf.KeyValueHeads, hf.Channels, hf.IntermediateSize));
            Assert.False(hf.TiedOutput);
            var model = LlamaFolder.Load(dir);
            Assert.True(LlamaStateDict.IsLlamaFamily(model.Config));
            Assert.Equal(ModelTokenizer.Saved, ModelFolderInfo.Read(dir).Tokenizer);

            string cached = CliHarness.Ok("generate", "--model", dir, "--prompt", "ROMEO:", "--max-tokens", "8", "--temperature", "0", "--json");
            string uncached = CliHarness.Ok("generate", "--model", dir, "--prompt", "ROMEO:", "--max-tokens", "8", "--temperature", "0", "--no-kv-cache", "--json");
            Assert.Equal(cached, uncached);

            CliHarness.Ok("train", "--out", dir, "--resume", "--steps", "4", "--json");
            Assert.Equal(4, JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "training_state.json")))!["step"]!.GetValue<int>());
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void TrainRefusesKeyValueHeadsThatDoNotDivideTheHeads()
    {
        var r = CliHarness.Run("train", "--arch", "llama", "--heads", "4", "--kv-heads", "3", "--steps", "1");
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StderrLines);
        Assert.Contains("--kv-heads", r.Stderr);
        Assert.Equal(2, CliHarness.Run("train", "--arch", "mamba", "--steps", "1").ExitCode);
    }

    [Theory]
    [InlineData("qwen3_tiny")]
    [InlineData("mistral_tiny")]
    public void GenerateOnAHuggingFaceFolderGivesTheSameIdsWithAndWithoutTheCache(string name)
    {
        var folder = LlamaFixtureTests.Folder(name);
        string cached = CliHarness.Ok("generate", "--model", folder, "--ids", "1,2,3,4", "--max-tokens", "6", "--temperature", "0", "--json");
        string uncached = CliHarness.Ok("generate", "--model", folder, "--ids", "1,2,3,4", "--max-tokens", "6", "--temperature", "0", "--no-kv-cache", "--json");
        Assert.Equal(cached, uncached);
        var ids = JsonNode.Parse(cached.Trim())!["ids"]!.AsArray().Select(i => (int)i!).ToArray();
        Assert.Equal(10, ids.Length);
        // the library's greedy continuation of the same prompt
        var model = LlamaFolder.Load(folder);
        Assert.Equal(ids[4..], new TextGenerator(model).Greedy([1, 2, 3, 4], 6));
    }

    [Fact]
    public void HooksHaveTheKeyValueHeadsShape()
    {
        var text = CliHarness.Ok("hooks", "--model", LlamaFixtureTests.Folder("qwen3_tiny"), "--ids", "1,2,3", "--json");
        Assert.Contains("(B, T, Hkv, D)", CliHarness.Ok("hooks", "--model", LlamaFixtureTests.Folder("qwen3_tiny")));
        var hooks = JsonNode.Parse(text)!["hooks"]!.AsArray().ToDictionary(h => (string)h!["name"]!, h => h!);
        Assert.Equal([1, 3, 2, 16], hooks["blocks.0.attn.hook_k"]!["dims"]!.AsArray().Select(x => (int)x!).ToArray());   // Hkv = 2, D = 16
        Assert.Equal([1, 3, 4, 16], hooks["blocks.0.attn.hook_q"]!["dims"]!.AsArray().Select(x => (int)x!).ToArray());   // H = 4
        Assert.Equal([1, 3, 48], hooks["blocks.1.mlp.hook_post"]!["dims"]!.AsArray().Select(x => (int)x!).ToArray());    // M
        Assert.DoesNotContain("hook_pos_embed", hooks.Keys);                                                               // rotary: nothing added
    }

    [Fact]
    public void TheExplorerListsAndInspectsALlamaFolder()
    {
        var catalog = new ModelCatalog([LlamaFixtureTests.Folder("llama_tiny")], runsDirectory: null);
        var api = new ExplorerApi(catalog, demo: null);
        var entry = api.Models()["models"]!.AsArray().Single()!;
        Assert.Null(entry["error"]);
        Assert.Equal(("gpt2", "llama", 4, 2), ((string)entry["kind"]!, (string)entry["architecture"]!, (int)entry["heads"]!, (int)entry["key_value_heads"]!));
        string name = (string)entry["name"]!;
        var maps = api.Maps(RequestReader.Parse($$"""{"model": "{{name}}", "ids": [1, 2, 3, 4]}"""));
        Assert.NotNull(maps);
    }
}
