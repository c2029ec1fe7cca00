using AttentionLab.Attention;
using AttentionLab.IO;
using AttentionLab.Models;

namespace AttentionLab.Tests.Models;

/// <summary>
/// Parity with the plain-torch Llama-family reference (fixtures/make_llama_fixtures.py, written from Hugging Face's
/// modeling_llama.py / modeling_qwen2.py / modeling_qwen3.py / modeling_mistral.py) on tiny random folders saved in the
/// Hugging Face layout: Llama (GQA 4/2, untied, llama3 rope scaling), Qwen2 in BF16 (multi-query 4/1, q/k/v biases,
/// tied), Qwen3 (q/k norms, head_dim 16 with H·D = 64 ≠ C = 32, tied) and Mistral (sliding window 4 over 8 positions).
/// The tolerances are the GPT-2 fixtures' rules (<see cref="Gpt2FixtureTests"/>): logits rtol 1e-5 with atol 1e-5 of
/// the RMS logit (GPT-2's 1e-6 is that rule for its RMS of 0.16; a logit near zero is a sum of terms of the row's size
/// that cancel, so its float32 error is set by that size — here RMS 1.6 to 3.2, atol 1.6e-5 to 3.2e-5; measured
/// at most 2.3e-6), loss rtol 1e-6, every gradient by its Hugging Face name rtol 1e-4 + atol 1e-6. The reference is
/// float64 from the float32 (or BF16) weights, so the difference is our float32 rounding alone.
/// </summary>
public class LlamaFixtureTests
{
    private const double LogitsRtol = 1e-5, LogitsAtolPerRms = 1e-5;
    private const double LossRtol = 1e-6;
    private const double GradientRtol = 1e-4, GradientAtol = 1e-6;

    public static TheoryData<string, string> Cases => new()
    {
        { "llama_tiny", "naive" }, { "llama_tiny", "fast" }, { "llama_tiny", "flash" },
        { "qwen2_tiny_bf16", "naive" }, { "qwen2_tiny_bf16", "fast" },
        { "qwen3_tiny", "naive" }, { "qwen3_tiny", "fast" },
        // Mistral's window of 4 over 8 positions: the window kernel (its own mask) and the exact kernels under the window mask
        { "mistral_tiny", "window:4" }, { "mistral_tiny", "naive" }, { "mistral_tiny", "fast" }, { "mistral_tiny", "flash" },
    };

    public static TheoryData<string> Folders => new() { "llama_tiny", "qwen2_tiny_bf16", "qwen3_tiny", "mistral_tiny" };

    internal static string Folder(string name) => Path.Combine(Fixtures.Directory, "llama", name);

    private static (int[] X, int[] Y, System.Text.Json.JsonElement Root) Batch(string name)
    {
        var root = Fixtures.Load($"llama/{name}/reference.json");
        return (Fixtures.Floats(Fixtures.Get(root, "x")).Select(f => (int)f).ToArray(),
                Fixtures.Floats(Fixtures.Get(root, "y")).Select(f => (int)f).ToArray(), root);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void LogitsAndLossMatchPyTorch(string name, string kernel)
    {
        var model = LlamaFolder.Load(Folder(name), AttentionKernels.Parse(kernel));
        var (x, y, root) = Batch(name);
        float loss = model.Forward(x, 2, 8, y);
        var expected = Fixtures.Doubles(Fixtures.Get(root, "logits"));
        double rms = Math.Sqrt(expected.Average(e => e * e));
        Close.Assert(model.Logits, expected, LogitsRtol, LogitsAtolPerRms * rms, $"{name} logits");
        Close.Assert([loss], [Fixtures.Get(root, "loss").GetDouble()], LossRtol, 0, $"{name} loss");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryGradientMatchesPyTorch(string name, string kernel)
    {
        var model = LlamaFolder.Load(Folder(name), AttentionKernels.Parse(kernel), training: true);
        var (x, y, root) = Batch(name);
        model.ZeroGrad();
        model.Forward(x, 2, 8, y);
        model.Backward();
        var map = LlamaStateDict.For(model.Layout);
        var grads = Fixtures.Get(root, "grads");
        Assert.Equal(grads.EnumerateObject().Select(p => p.Name).Order(), map.Names.Order());
        foreach (var tensor in map.Names)
        {
            var expected = grads.GetProperty(tensor);
            var actual = map.Read(tensor, model.Gradients.Data);
            Assert.Equal(Fixtures.Shape(expected), actual.Shape);
            Close.Assert(actual.Data, Fixtures.Doubles(expected), GradientRtol, GradientAtol, $"{name} {tensor}");
        }
    }

    /// <summary>Backward(accumulate: false) writes every view, the new ones (q/k norms, no biases) included.</summary>
    [Fact]
    public void GradientsMatchWhenBackwardOverwrites()
    {
        var model = LlamaFolder.Load(Folder("qwen3_tiny"), AttentionKernels.Fast, training: true);
        var (x, y, root) = Batch("qwen3_tiny");
        model.Gradients.Data.AsSpan().Fill(float.NaN);
        model.Forward(x, 2, 8, y);
        model.Backward(accumulate: false);
        var map = LlamaStateDict.For(model.Layout);
        foreach (var tensor in map.Names)
            Close.Assert(map.Read(tensor, model.Gradients.Data).Data, Fixtures.Doubles(Fixtures.Get(root, "grads").GetProperty(tensor)),
                GradientRtol, GradientAtol, tensor);
    }

    /// <summary>Greedy decoding equals PyTorch's full-recompute continuation, token for token, with the KV cache (Hkv
    /// heads cached, rotated at their positions) and without it.</summary>
    [Theory]
    [MemberData(nameof(Folders))]
    public void GreedyTokensAreTheSameWithAndWithoutTheKvCache(string name)
    {
        var model = LlamaFolder.Load(Folder(name));
        var (x, _, root) = Batch(name);
        var expected = Fixtures.Get(root, "greedy").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var generator = new TextGenerator(model);
        var prompt = x.Take(4).ToArray();
        var cached = generator.Greedy(prompt, expected.Length - 4, useKvCache: true);
        var recomputed = generator.Greedy(prompt, expected.Length - 4, useKvCache: false);
        Assert.Equal(expected[4..], cached);
        Assert.Equal(expected[4..], recomputed);
        Assert.Equal(model.Config.KeyValueHeads, model.CreateCache().Heads);
    }

    /// <summary>A model saved here is a Hugging Face folder of the same model_type with the same tensors: it reloads
    /// to the same config and the same logits, bit for bit.</summary>
    [Theory]
    [MemberData(nameof(Folders))]
    public void SavesInTheHuggingFaceLayoutAndReloads(string name)
    {
        var model = LlamaFolder.Load(Folder(name));
        var dir = Path.Combine(Path.GetTempPath(), "attnlab-llama-" + name + "-" + Guid.NewGuid().ToString("N"));
        try
        {
            LlamaFolder.Save(model, dir);
            Assert.Throws<IOException>(() => LlamaFolder.Save(model, dir));
            var original = HfTransformerConfig.Read(Folder(name));
            var saved = HfTransformerConfig.Read(dir);
            Assert.Equal(original.ModelType, saved.ModelType);
            var (tensors, _) = SafeTensors.Read(Path.Combine(dir, ModelFolder.WeightsFile));
            var (source, _) = SafeTensors.Read(Path.Combine(Folder(name), ModelFolder.WeightsFile));
            Assert.Equal(source.Keys.Order(), tensors.Keys.Order());
            foreach (var (key, t) in source) Assert.Equal(t.Data, tensors[key].Data);
            var reloaded = LlamaFolder.Load(dir);
            Assert.Equal(model.Config, reloaded.Config);
            var (x, _, _) = Batch(name);
            model.Forward(x, 2, 8);
            var before = model.Logits.ToArray();
            reloaded.Forward(x, 2, 8);
            Assert.Equal(before, reloaded.Logits.ToArray());
            Assert.Equal(ModelFolderInfo.Llama, ModelFolderInfo.Read(dir).Kind);
            Assert.True(ModelFolderInfo.Read(dir).IsDecoder);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
    }

    /// <summary>Every caller that opens a decoder folder (generate, inspect, hooks, the Explorer) goes through
    /// DecoderFolder: a Llama folder opens there too.</summary>
    [Fact]
    public void TheDecoderLoaderOpensLlamaFolders()
    {
        var model = DecoderFolder.Load(Folder("mistral_tiny"));
        Assert.Equal(4, model.Config.SlidingWindow);
        Assert.Equal("window:4", model.Attention.Name);
        Assert.Equal(2, model.Config.KeyValueHeads);
        Assert.Equal(ModelFolderInfo.Llama, ModelFolderInfo.Read(Folder("qwen3_tiny")).Kind);
    }

    [Fact]
    public void ParameterCountIsTheFoldersTensorCount()
    {
        foreach (var name in new[] { "llama_tiny", "qwen2_tiny_bf16", "qwen3_tiny", "mistral_tiny" })
        {
            var (tensors, _) = SafeTensors.Read(Path.Combine(Folder(name), ModelFolder.WeightsFile));
            var config = LlamaFolder.ReadConfig(Folder(name));
            Assert.Equal(tensors.Values.Sum(t => (long)t.Data.Length), config.ParameterCount);
            Assert.Equal(config.ParameterCount, new DecoderLayout(config).Count);
        }
    }
}
