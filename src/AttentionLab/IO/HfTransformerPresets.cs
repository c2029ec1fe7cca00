namespace AttentionLab.IO;

/// <summary>
/// The shapes of real Llama-family checkpoints, as their config.json files on the Hugging Face Hub give them (the
/// fields that decide parameter counts and tensor shapes; the rest at HF's defaults). Used by <c>attnlab params</c>
/// and <c>shapes</c>, and by benchmarks that build random weights of a real shape.
/// </summary>
public static class HfTransformerPresets
{
    /// <summary>The preset names, smallest first.</summary>
    public static IReadOnlyList<string> Names { get; } = ["smollm2-135m", "qwen2.5-0.5b", "tinyllama-1.1b", "llama3-8b"];

    /// <summary>HuggingFaceTB/SmolLM2-135M: 30 layers of 576, 9 query heads sharing 3 key/value heads, tied embedding.</summary>
    public static HfTransformerConfig SmolLM2_135M { get; } = new()
    {
        ModelType = "llama", Architecture = "LlamaForCausalLM", VocabSize = 49152, Channels = 576, IntermediateSize = 1536,
        Layers = 30, Heads = 9, KeyValueHeads = 3, HeadDim = 64, ContextLength = 8192, RmsNormEpsilon = 1e-5, RopeTheta = 100000,
        TiedOutput = true, BosTokenId = 0, EosTokenIds = [0], TorchDtype = "bfloat16",
    };

    /// <summary>Qwen/Qwen2.5-0.5B: 24 layers of 896, 14 query heads sharing 2 key/value heads, q/k/v biases, tied embedding.</summary>
    public static HfTransformerConfig Qwen25_05B { get; } = new()
    {
        ModelType = "qwen2", Architecture = "Qwen2ForCausalLM", VocabSize = 151936, Channels = 896, IntermediateSize = 4864,
        Layers = 24, Heads = 14, KeyValueHeads = 2, HeadDim = 64, ContextLength = 32768, RmsNormEpsilon = 1e-6, RopeTheta = 1000000,
        TiedOutput = true, QkvBias = true, BosTokenId = 151643, EosTokenIds = [151643], TorchDtype = "bfloat16",
    };

    /// <summary>TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T (and -Chat-v1.0): 22 layers of 2048, 32 query heads
    /// sharing 4 key/value heads, untied output.</summary>
    public static HfTransformerConfig TinyLlama_11B { get; } = new()
    {
        ModelType = "llama", Architecture = "LlamaForCausalLM", VocabSize = 32000, Channels = 2048, IntermediateSize = 5632,
        Layers = 22, Heads = 32, KeyValueHeads = 4, HeadDim = 64, ContextLength = 2048, RmsNormEpsilon = 1e-5, RopeTheta = 10000,
        TiedOutput = false, BosTokenId = 1, EosTokenIds = [2], TorchDtype = "bfloat16",
    };

    /// <summary>meta-llama/Meta-Llama-3-8B: 32 layers of 4096, 32 query heads sharing 8 key/value heads, MLP 14336,
    /// 128,256 tokens, untied output; 8,030,261,248 parameters.</summary>
    public static HfTransformerConfig Llama3_8B { get; } = new()
    {
        ModelType = "llama", Architecture = "LlamaForCausalLM", VocabSize = 128256, Channels = 4096, IntermediateSize = 14336,
        Layers = 32, Heads = 32, KeyValueHeads = 8, HeadDim = 128, ContextLength = 8192, RmsNormEpsilon = 1e-5, RopeTheta = 500000,
        TiedOutput = false, BosTokenId = 128000, EosTokenIds = [128001], TorchDtype = "bfloat16",
    };

    /// <summary>A preset by name, or null.</summary>
    public static HfTransformerConfig? Find(string name) => name switch
    {
        "smollm2-135m" => SmolLM2_135M,
        "qwen2.5-0.5b" => Qwen25_05B,
        "tinyllama-1.1b" => TinyLlama_11B,
        "llama3-8b" => Llama3_8B,
        _ => null,
    };
}
