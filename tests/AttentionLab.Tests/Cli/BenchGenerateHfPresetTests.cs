using System.Text.Json.Nodes;

namespace AttentionLab.Tests.Cli;

/// <summary><c>attnlab bench generate</c> with the KV cache's bytes per token, and the Hugging Face checkpoints'
/// shapes as presets (a run of smollm2-135m itself takes seconds, so the tests run the small presets and the
/// refusal; docs/llama.md has a measured smollm2-135m run).</summary>
public class BenchGenerateHfPresetTests
{
    [Fact]
    public void ReportsTheCacheBytesPerTokenAndTheGroupedQuerySaving()
    {
        // llama-char: L 4, H 4, Hkv 2, D 32 → 2·4·2·32·4 = 2,048 B/token, 4,096 with Hkv = H
        var r = JsonNode.Parse(CliHarness.Ok("bench", "generate", "--preset", "llama-char", "--tokens", "2", "--prompt-tokens", "2", "--json"))!;
        Assert.Equal((2048L, 4096L, 4, 2), ((long)r["kv_cache_bytes_per_token"]!, (long)r["multi_head_kv_cache_bytes_per_token"]!, (int)r["heads"]!, (int)r["key_value_heads"]!));
        Assert.True((bool)r["identical_tokens"]!);
        string text = CliHarness.Ok("bench", "generate", "--preset", "tiny", "--tokens", "2", "--prompt-tokens", "2");
        Assert.Contains("KV cache 512 B/token (multi-head: all 4 heads)", text);          // tiny GPT-2: 2·2·4·8·4
    }

    [Fact]
    public void NamesTheHuggingFaceShapesAndRefusesOneTooLargeInOneLine()
    {
        string help = CliHarness.Ok("bench", "generate", "--help");
        foreach (var name in AttentionLab.IO.HfTransformerPresets.Names) Assert.Contains(name, help);
        var unknown = CliHarness.Run("bench", "generate", "--preset", "bogus");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("smollm2-135m", Assert.Single(unknown.StderrLines));
        // 8,030,261,248 parameters: 29.9 GiB of float32 weights, and more values than one float[] holds on any machine
        var big = CliHarness.Run("bench", "generate", "--preset", "llama3-8b");
        Assert.Equal(2, big.ExitCode);
        Assert.Equal("", big.Stdout);
        Assert.Contains("--preset llama3-8b: 8,030,261,248 parameters", Assert.Single(big.StderrLines));
    }
}
