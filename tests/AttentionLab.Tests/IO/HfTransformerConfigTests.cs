using System.Text.Json;
using AttentionLab.IO;

namespace AttentionLab.Tests.IO;

/// <summary>config.json of the Llama family: HF's defaults, the architecture facts derived from model_type, refusals.</summary>
public class HfTransformerConfigTests
{
    private static HfTransformerConfig Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return HfTransformerConfig.Parse(doc.RootElement, "config.json");
    }

    // SmolLM2-135M's config.json (HuggingFaceTB/SmolLM2-135M), the fields that decide the shape.
    private const string SmolLm2 = """
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 49152, "hidden_size": 576,
         "intermediate_size": 1536, "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3,
         "max_position_embeddings": 8192, "rms_norm_eps": 1e-05, "rope_theta": 100000, "rope_scaling": null,
         "hidden_act": "silu", "tie_word_embeddings": true, "attention_bias": false, "mlp_bias": false,
         "bos_token_id": 0, "eos_token_id": 0, "torch_dtype": "bfloat16"}
        """;

    [Fact]
    public void ReadsSmolLm2()
    {
        var c = Parse(SmolLm2);
        Assert.Equal(("llama", "LlamaForCausalLM"), (c.ModelType, c.Architecture));
        Assert.Equal((49152, 576, 1536, 30, 9, 3, 64, 8192), (c.VocabSize, c.Channels, c.IntermediateSize, c.Layers, c.Heads, c.KeyValueHeads, c.HeadDim, c.ContextLength));
        Assert.Equal((1e-5, 100000.0), (c.RmsNormEpsilon, c.RopeTheta));
        Assert.Null(c.RopeScaling);
        Assert.True(c.TiedOutput);
        Assert.False(c.QkvBias || c.OutputProjectionBias || c.MlpBias || c.QkNorm);
        Assert.Null(c.SlidingWindow);
        Assert.Equal([0], c.EosTokenIds);
        Assert.Equal("bfloat16", c.TorchDtype);
    }

    [Fact]
    public void DefaultsAreHuggingFaces()
    {
        var c = Parse("""{"model_type": "llama", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 12, "num_hidden_layers": 1, "num_attention_heads": 2}""");
        Assert.Equal((2, 4, 2048, 1e-6, 10000.0), (c.KeyValueHeads, c.HeadDim, c.ContextLength, c.RmsNormEpsilon, c.RopeTheta));
        Assert.False(c.TiedOutput);
        Assert.Empty(c.EosTokenIds);
    }

    [Fact]
    public void ArchitectureFactsFollowModelType()
    {
        const string Sizes = "\"vocab_size\": 10, \"hidden_size\": 8, \"intermediate_size\": 12, \"num_hidden_layers\": 1, \"num_attention_heads\": 2";
        var qwen2 = Parse($$"""{"model_type": "qwen2", {{Sizes}}, "sliding_window": 32, "use_sliding_window": false}""");
        Assert.True(qwen2.QkvBias);
        Assert.False(qwen2.OutputProjectionBias || qwen2.QkNorm);
        Assert.Null(qwen2.SlidingWindow);
        var qwen3 = Parse($$"""{"model_type": "qwen3", {{Sizes}}, "head_dim": 16, "attention_bias": false}""");
        Assert.True(qwen3.QkNorm);
        Assert.Equal(16, qwen3.HeadDim);
        var mistral = Parse($$"""{"model_type": "mistral", {{Sizes}}, "sliding_window": 4096, "attention_bias": true}""");
        Assert.Equal(4096, mistral.SlidingWindow);
        Assert.False(mistral.QkvBias);
        var llama = Parse($$"""{"model_type": "llama", {{Sizes}}, "attention_bias": true, "mlp_bias": true, "eos_token_id": [128001, 128009]}""");
        Assert.True(llama.QkvBias && llama.OutputProjectionBias && llama.MlpBias);
        Assert.Equal([128001, 128009], llama.EosTokenIds);
    }

    [Fact]
    public void ReadsLlama3RopeScaling()
    {
        var c = Parse("""
            {"model_type": "llama", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 12, "num_hidden_layers": 1,
             "num_attention_heads": 2, "rope_theta": 500000.0, "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0,
             "low_freq_factor": 1.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"}}
            """);
        Assert.Equal(new RopeScaling(32, 1, 4, 8192), c.RopeScaling);
    }

    [Theory]
    [InlineData("""{"model_type": "gemma"}""", "model_type 'gemma' is not one of llama, mistral, qwen2, qwen3")]
    [InlineData("""{"model_type": "llama", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 12, "num_hidden_layers": 1, "num_attention_heads": 3}""", "hidden_size (8) must divide by num_attention_heads (3)")]
    [InlineData("""{"model_type": "llama", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 12, "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 3}""", "num_attention_heads (4) must divide by num_key_value_heads (3)")]
    [InlineData("""{"model_type": "llama", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 12, "num_hidden_layers": 1, "num_attention_heads": 2, "rope_scaling": {"type": "yarn", "factor": 4}}""", "rope_scaling type 'yarn' is not supported (only llama3 is)")]
    [InlineData("""{"model_type": "llama", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 12, "num_hidden_layers": 1, "num_attention_heads": 2, "hidden_act": "gelu"}""", "hidden_act 'gelu' is not supported")]
    [InlineData("""{"model_type": "llama", "hidden_size": 8, "num_attention_heads": 2, "intermediate_size": 12, "num_hidden_layers": 1}""", "missing 'vocab_size'")]
    public void RefusesWithOneLine(string json, string message)
    {
        var e = Assert.Throws<InvalidDataException>(() => Parse(json));
        Assert.Contains(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
