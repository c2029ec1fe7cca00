using System.Text.Json;
using System.Text.Json.Nodes;
using AttentionLab.IO;

namespace AttentionLab.Tests.Cli;

/// <summary>
/// <c>attnlab generate</c> on a Llama-family folder with a Hugging Face tokenizer.json (a SentencePiece-style one of
/// 33 ids built here, so it fits the fixture model's 40 rows): the prompt starts with the bos token, the echo leaves
/// it out, and generation stops at generation_config.json's eos id.
/// </summary>
public sealed class GenerateHfFolderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("attnlab-gen-hf-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public GenerateHfFolderTests()
    {
        var source = Path.Combine(Fixtures.Directory, "llama", "llama_tiny");
        foreach (var f in Directory.GetFiles(source).Where(f => !f.EndsWith("reference.json", StringComparison.Ordinal)))
            File.Copy(f, Path.Combine(_dir, Path.GetFileName(f)));
        AttentionLab.Tests.Text.TinyHfTokenizer.WriteSentencePiece(_dir);
    }

    private int[] Ids(params string[] extra)
    {
        using var doc = JsonDocument.Parse(CliHarness.Ok(["generate", "--model", _dir, "--prompt", "the cat", "--temperature", "0", "--json", .. extra]));
        return [.. doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32())];
    }

    [Fact]
    public void ThePromptStartsWithBosAndGenerationStopsAtEos()
    {
        if (File.Exists(Path.Combine(_dir, GenerationConfig.FileName))) File.Delete(Path.Combine(_dir, GenerationConfig.FileName));
        // no eos anywhere: config.json's eos id is removed so nothing stops the 12 tokens
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "config.json")))!.AsObject();
        config.Remove("eos_token_id");
        File.WriteAllText(Path.Combine(_dir, "config.json"), config.ToJsonString());
        var all = Ids("--max-tokens", "12");
        int[] prompt = [1, 32, 3, 6, 4, 23];                 // <s> ▁the ▁ c a t
        Assert.Equal(prompt, all[..6]);
        Assert.Equal(6 + 12, all.Length);
        int eos = all[6 + 4];                                // the 5th new token becomes the eos id
        int firstAt = Array.IndexOf(all, eos, 6);
        File.WriteAllText(Path.Combine(_dir, GenerationConfig.FileName), $$"""{"eos_token_id": [{{eos}}]}""");
        var stopped = Ids("--max-tokens", "12");
        Assert.Equal(all[..(firstAt + 1)], stopped);         // everything up to and including the first eos, then stop
        var text = CliHarness.Ok("generate", "--model", _dir, "--prompt", "the cat", "--temperature", "0", "--max-tokens", "3");
        Assert.StartsWith("the cat", text);                  // the echo leaves out <s>
    }

    [Fact]
    public void InspectAndAnalyzeReadTheTextWithBosToo()
    {
        int[] expected = [1, 32, 3, 6, 4, 23];               // <s> ▁the ▁ c a t: the one rule, HfTokenizer.EncodeForModel
        using (var inspect = JsonDocument.Parse(CliHarness.Ok("inspect", "--model", _dir, "--text", "the cat", "--json")))
        {
            Assert.Equal(expected, inspect.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()));
            Assert.Equal("<s>", inspect.RootElement.GetProperty("tokens")[0].GetString());
        }
        using var lens = JsonDocument.Parse(CliHarness.Ok("analyze", "lens", "--model", _dir, "--text", "the cat", "--json"));
        Assert.Equal(expected, lens.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()));
        // without add_bos_token (and no template in this tokenizer.json) nothing is put first
        File.WriteAllText(Path.Combine(_dir, "tokenizer_config.json"), """{"bos_token": "<s>", "eos_token": "</s>", "add_bos_token": false}""");
        using var plain = JsonDocument.Parse(CliHarness.Ok("inspect", "--model", _dir, "--text", "the cat", "--json"));
        Assert.Equal(expected[1..], plain.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()));
    }
}
