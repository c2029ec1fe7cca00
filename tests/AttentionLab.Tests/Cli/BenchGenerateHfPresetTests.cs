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
        var r = JsonNode.Parse(CliHarness.Ok("bench", "generate", "--preset", "llama-char", "--tokens", "2", "--prompt-tokens", "2", "--megabytes", "1", "--json"))!;
        Assert.Equal((2048L, 4096L, 4, 2), ((long)r["kv_cache_bytes_per_token"]!, (long)r["multi_head_kv_cache_bytes_per_token"]!, (int)r["heads"]!, (int)r["key_value_heads"]!));
        Assert.True((bool)r["rows"]![0]!["identical_tokens"]!);
        // the KV bytes a decode step reads: 2,048 per cached position × the mean 2 + (2 + 1)/2 = 3.5 positions (Hkv heads, not H)
        Assert.Equal(7168L, (long)r["rows"]![0]!["kv_bytes_per_token"]!);
        var text = CliHarness.Run("bench", "generate", "--preset", "tiny", "--tokens", "2", "--prompt-tokens", "2", "--megabytes", "1");
        Assert.Equal(0, text.ExitCode);                                                   // (stderr: the progress lines)
        Assert.Contains("KV cache 512 B/token (multi-head: all 4 heads)", text.Stdout);   // tiny GPT-2: 2·2·4·8·4
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
