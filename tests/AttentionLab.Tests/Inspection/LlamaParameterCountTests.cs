using System.Text.Json;
using AttentionLab.Inspection;
using AttentionLab.IO;

namespace AttentionLab.Tests.Inspection;

/// <summary>
/// The Llama-family parameter formula against the published counts of real checkpoints (Meta's 8,030,261,248 for
/// Llama 3 8B; the Hub's safetensors totals for SmolLM2-135M, Qwen2.5-0.5B and TinyLlama-1.1B), against the
/// hand-written per-tensor sum of a tiny Qwen3-style config, and against the tensors of a real folder layout.
/// </summary>
public class LlamaParameterCountTests
{
    [Theory]
    [InlineData("llama3-8b", 8_030_261_248L)]
    [InlineData("smollm2-135m", 134_515_008L)]
    [InlineData("qwen2.5-0.5b", 494_032_768L)]
    [InlineData("tinyllama-1.1b", 1_100_048_384L)]
    public void PresetsHaveTheirPublishedCounts(string preset, long expected) =>
        Assert.Equal(expected, ParameterCount.Llama(HfTransformerPresets.Find(preset)!).Total);

    [Fact]
    public void Gpt3IsTheGpt2LayoutAtItsSize() =>
        Assert.Equal(174_604_259_328L, ParameterCount.Gpt2(50257, 12288, 96, 2048, 96).Total);

    [Fact]
    public void Llama3_8B_ByHand()
    {
        // embed + lm_head 2·V·C, per layer q,o 2·C² + k,v 2·C·(8·128) + 3·C·I + 2·C, final norm C
        long V = 128256, C = 4096, I = 14336, K = 8 * 128;
        long perLayer = 2 * C * C + 2 * C * K + 3 * C * I + 2 * C;
        Assert.Equal(2 * V * C + 32 * perLayer + C, ParameterCount.Llama(HfTransformerPresets.Llama3_8B).Total);
    }

    [Fact]
    public void EveryOptionalTensorIsCounted()
    {
        // qwen3: per-head q/k norms; attention_bias on llama puts biases on q, k, v and o; mlp_bias on gate, up, down
        var qwen3 = Parse("""
            {"model_type": "qwen3", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 12, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 3, "tie_word_embeddings": true}
            """);
        long V = 10, C = 8, I = 12, Q = 4 * 3, K = 2 * 3, D = 3;
        Assert.Equal(V * C + 2 * (C + Q * C + 2 * K * C + C * Q + 2 * D + C + 3 * C * I) + C, ParameterCount.Llama(qwen3).Total);
        var biased = Parse("""
            {"model_type": "llama", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 12, "num_hidden_layers": 1,
            "num_attention_heads": 2, "num_key_value_heads": 1, "attention_bias": true, "mlp_bias": true}
            """);
        long Qb = 8, Kb = 4;
        long layer = C + (Qb * C + Qb) + 2 * (Kb * C + Kb) + (C * Qb + C) + C + 2 * (I * C + I) + (C * I + C);
        Assert.Equal(2 * V * C + layer + C, ParameterCount.Llama(biased).Total);
        var names = ParameterCount.Llama(biased).Entries.Select(e => e.Name).ToList();
        Assert.Contains("model.layers.*.self_attn.o_proj.bias", names);
        Assert.Contains("model.layers.*.mlp.down_proj.bias", names);
        Assert.Equal(1, ParameterCount.Llama(biased).Entries.Single(e => e.Name == "lm_head.weight").Copies);
    }

    [Fact]
    public void TheCountIsTheElementsOfTheFolderLayout()
    {
        // fixtures/sharded_tiny holds a 1-layer Llama's tensors (embed, q, k, input norm, gate, down, final norm, lm_head);
        // the formula's entries with those names must give exactly the stored shapes
        using var files = CheckpointFiles.Open(Path.Combine(Fixtures.Directory, "sharded_tiny"));
        var cfg = Parse("""
            {"model_type": "llama", "vocab_size": 11, "hidden_size": 8, "intermediate_size": 12, "num_hidden_layers": 1,
            "num_attention_heads": 2, "num_key_value_heads": 1}
            """);
        var entries = ParameterCount.Llama(cfg).Entries.ToDictionary(e => e.Name.Replace(".*.", ".0."));
        foreach (var name in files.Names)
            Assert.Equal(entries[name].Shape.Select(d => (int)d), files.Entry(name).Shape);
    }

    [Fact]
    public void SeedOnesAttentionPairs()
    {
        Assert.Equal(1_610_612_736L, AttentionArithmetic.PairsPerForward(96, 4096));          // "≈ 1.6 billion"
        Assert.Equal(96L * 4096 * 4097 / 2, AttentionArithmetic.CausalPairsPerForward(96, 4096));
        Assert.Equal(1_610_612_736L * 96, AttentionArithmetic.ScoresPerForward(96, 96, 4096));
        Assert.Equal(131_072L, AttentionArithmetic.KvCacheBytesPerToken(32, 8, 128, 2));       // Llama 3 8B: 128 KiB per token in bf16
    }

    private static HfTransformerConfig Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return HfTransformerConfig.Parse(doc.RootElement, "config.json");
    }
}
