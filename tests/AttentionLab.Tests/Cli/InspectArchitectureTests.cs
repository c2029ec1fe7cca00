using System.Text.Json.Nodes;
using AttentionLab.IO;
using AttentionLab.Tests.Models;

namespace AttentionLab.Tests.Cli;

/// <summary><c>inspect --json</c> names a Llama-family folder's real model_type in "architecture" (model_type stays
/// "gpt2", the key the Explorer's GPT views draw from) and its key/value heads.</summary>
public class InspectArchitectureTests
{
    [Theory]
    [InlineData("llama_tiny", "llama", 2)]
    [InlineData("qwen3_tiny", "qwen3", 2)]
    [InlineData("mistral_tiny", "mistral", 2)]
    [InlineData("qwen2_tiny_bf16", "qwen2", 1)]
    public void ReportsTheFoldersModelType(string name, string architecture, int keyValueHeads)
    {
        var folder = LlamaFixtureTests.Folder(name);
        var json = JsonNode.Parse(CliHarness.Ok("inspect", "--model", folder, "--ids", "1,2,3", "--json"))!;
        Assert.Equal(("gpt2", architecture), ((string)json["model_type"]!, (string)json["architecture"]!));
        Assert.Equal(HfTransformerConfig.Read(folder).ModelType, (string)json["architecture"]!);
        Assert.Equal(keyValueHeads, (int)json["key_value_heads"]!);
        var gpt2 = JsonNode.Parse(CliHarness.Ok("inspect", "--model", Path.Combine(Fixtures.Directory, "gpt2_tiny"), "--ids", "1,2,3", "--json"))!;
        Assert.Equal(("gpt2", 4), ((string)gpt2["architecture"]!, (int)gpt2["key_value_heads"]!));
    }
}
