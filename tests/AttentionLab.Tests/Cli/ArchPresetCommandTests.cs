using System.Text.Json;

namespace AttentionLab.Tests.Cli;

/// <summary><c>attnlab params --arch</c> and <c>shapes --arch</c> for GPT-3 and the Llama-family presets.</summary>
public sealed class ArchPresetCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("attnlab-arch-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("llama3-8b", "8,030,261,248")]
    [InlineData("smollm2-135m", "134,515,008")]
    [InlineData("qwen2.5-0.5b", "494,032,768")]
    [InlineData("tinyllama-1.1b", "1,100,048,384")]
    [InlineData("gpt3", "174,604,259,328")]
    public void ParamsPresetsPrintTheirExactTotal(string arch, string total)
    {
        var text = CliHarness.Ok("params", "--arch", arch);
        Assert.Contains(total, text);
        using var doc = JsonDocument.Parse(CliHarness.Ok("params", "--arch", arch, "--json"));
        Assert.Equal(long.Parse(total.Replace(",", "")), doc.RootElement.GetProperty("total").GetInt64());
        Assert.Equal(doc.RootElement.GetProperty("total").GetInt64(),
            doc.RootElement.GetProperty("components").EnumerateArray().Sum(c => c.GetProperty("count").GetInt64()));
    }

    [Fact]
    public void Gpt3PrintsSeedOnesArithmetic()
    {
        var text = CliHarness.Ok("params", "--arch", "gpt3");
        Assert.Contains("96 layers × 4,096² attention pairs = 96 × 16,777,216 = 1,610,612,736 ≈ 1.6 billion", text);
        Assert.Contains("heads 96 of 128", text);
        using var doc = JsonDocument.Parse(CliHarness.Ok("params", "--arch", "gpt3", "--json"));
        Assert.Equal(1_610_612_736L, doc.RootElement.GetProperty("seed001_attention_pairs").GetProperty("pairs").GetInt64());
    }

    [Fact]
    public void GqaAndTheKvCacheAreStated()
    {
        var text = CliHarness.Ok("params", "--arch", "llama3-8b");
        Assert.Contains("grouped-query attention: 8 key/value heads for 32 query heads (4 per group)", text);
        Assert.Contains("= 65,536 values = 128 KiB in bf16 (512 KiB with 32 key/value heads, 4× more)", text);
        Assert.Contains("lm_head.weight is its own matrix", text);
        var smol = CliHarness.Ok("params", "--arch", "smollm2-135m");
        Assert.Contains("lm_head tied", smol);
        // 134,515,008 × 4 B = 513 MiB; working set 2 × (49,152 × 576) × 4 B + 256 MiB = 472 MiB
        Assert.Contains("to load: 513.1 MiB of float32 weights (256.6 MiB as bf16 on disk) + 472.0 MiB working set (twice the largest tensor, model.embed_tokens.weight, + 256.0 MiB) = 985.1 MiB", smol);
    }

    [Fact]
    public void ConfigDirGivesTheSameCountAsThePreset()
    {
        File.WriteAllText(Path.Combine(_dir, "config.json"), """
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 49152, "hidden_size": 576, "intermediate_size": 1536,
             "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3, "max_position_embeddings": 8192,
             "rms_norm_eps": 1e-05, "rope_theta": 100000, "tie_word_embeddings": true, "torch_dtype": "bfloat16"}
            """);
        using var doc = JsonDocument.Parse(CliHarness.Ok("params", "--config", _dir, "--json"));
        Assert.Equal(134_515_008L, doc.RootElement.GetProperty("total").GetInt64());
        Assert.Contains("(1, 3, 8, 64)", CliHarness.Ok("shapes", "--config", _dir));   // k: (B, Hkv, T, D)
    }

    [Theory]
    [InlineData("params", "--arch", "llama3-8b", "--vocab", "7")]
    [InlineData("params", "--arch", "llama4")]
    [InlineData("params", "--arch", "gpt2", "--config", ".")]
    [InlineData("shapes", "--arch", "qwen2.5-0.5b", "--heads", "2")]
    [InlineData("shapes", "--arch", "tinyllama-1.1b", "--seq-len", "4096")]
    public void BadCombinationsAreOneLine(params string[] args)
    {
        var r = CliHarness.Run(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StderrLines);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void ShapesOfALlamaBlockShowGqa()
    {
        using var doc = JsonDocument.Parse(CliHarness.Ok("shapes", "--arch", "llama3-8b", "--seq-len", "16", "--batch", "2", "--json"));
        var steps = doc.RootElement.GetProperty("steps").EnumerateArray().ToDictionary(
            s => s.GetProperty("name").GetString()!, s => s.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()).ToArray());
        Assert.Equal([2, 16, 1024], steps["k = k_proj(h)"]);                        // Hkv·D = 8 · 128
        Assert.Equal([2, 8, 16, 128], steps["k.view(B, T, Hkv, D).transpose(1, 2)"]);
        Assert.Equal([2, 32, 16, 128], steps["k = repeat_kv(k, H / Hkv)"]);
        Assert.Equal([2, 32, 16, 16], steps["scores = q @ kᵀ / √D"]);
        Assert.Equal([2, 16, 14336], steps["a = silu(gate) · up"]);
        Assert.Equal([2, 16, 128256], steps["logits = lm_head(h)"]);
        Assert.Contains("q = q_proj(h) + b", CliHarness.Ok("shapes", "--arch", "qwen2.5-0.5b"));   // Qwen2's biases
        Assert.Contains("(1, 96, 2048, 2048)", CliHarness.Ok("shapes", "--arch", "gpt3", "--seq-len", "2048"));
    }
}
