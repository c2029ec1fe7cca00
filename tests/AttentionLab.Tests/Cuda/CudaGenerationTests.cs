using System.Text.Json;
using AttentionLab.Attention;
using AttentionLab.Cli.Commands;
using AttentionLab.Cuda;
using AttentionLab.IO;
using AttentionLab.Models;
using AttentionLab.Tests.Cli;

namespace AttentionLab.Tests.Cuda;

/// <summary>
/// Generation with the KV cache and attention on the device (<see cref="CudaCachedDecoder"/>), on ILGPU's CPU simulator,
/// against the CPU model's <see cref="DecoderModel.ForwardCached"/>: each step's logits (prompt fill, then one token at a
/// time) ≤ 1e-5 relative to the row's largest magnitude; greedy decoding gives the same 20 tokens, through a window
/// slide (which refills the cache); and <c>generate</c> and <c>inspect --device cuda</c> print what the CPU prints.
/// </summary>
[Collection("Gpu")]
public sealed class CudaGenerationTests(GpuFixture gpu) : IDisposable
{
    /// <summary>Logits: float32 rounding of sums taken in another order (the device GEMM's tiles).</summary>
    private const double LogitTolerance = 1e-5;

    private static readonly DecoderConfig Config = new() { VocabSize = 29, ContextLength = 16, Layers = 2, Channels = 16, Heads = 2 };
    private static readonly int[] Prompt = [3, 1, 4, 1, 5];

    private readonly string _root = Path.Combine(Path.GetTempPath(), $"attnlab-cuda-gen-{Guid.NewGuid():N}");

    public void Dispose() { if (Directory.Exists(_root)) Directory.Delete(_root, true); }

    /// <param name="gain">8 for the generation tests: larger weights than GPT-2's 0.02 initialization, so the logits
    /// spread out and greedy has clear winners</param>
    private static DecoderModel Model(string attention, int seed, float gain = 8f)
    {
        var model = new DecoderModel(Config, AttentionKernels.Parse(attention), training: false);
        model.InitializeWeights(seed);
        System.Numerics.Tensors.TensorPrimitives.Multiply(model.Parameters.Data, gain, model.Parameters.Data);
        return model;
    }

    [Theory]
    [InlineData("naive")]
    [InlineData("flash")]
    public void CachedLogits_MatchTheCpuModel_StepByStep(string attention)
    {
        var cpu = Model(attention, 21);
        var cpuDecoder = new CpuCachedDecoder(cpu);
        using var device = new CudaCachedDecoder(gpu.Gpu, cpu);
        GpuCheck.Close(device.Forward(Prompt), cpuDecoder.Forward(Prompt), LogitTolerance, "logits after the prompt");
        int[] next = [7, 2, 28, 0, 9, 9, 13, 4, 11, 6, 1];                          // fills the context exactly
        foreach (int token in next)
        {
            var expected = cpuDecoder.Forward([token]).ToArray();
            GpuCheck.Close(device.Forward([token]), expected, LogitTolerance, $"logits at position {cpuDecoder.Length - 1}");
        }
        Assert.Equal(Config.ContextLength, device.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => device.Forward([1])); // the cache is full, as on the CPU
    }

    [Fact]
    public void Greedy_GivesTheCpuTokens_ThroughAWindowSlide()
    {
        var cpu = Model("flash", 5);
        using var decoder = new CudaCachedDecoder(gpu.Gpu, cpu);
        var expected = new TextGenerator(cpu).Greedy(Prompt, 20);                 // 5 + 20 > 16: the window slides
        var actual = new TextGenerator(cpu, decoder).Greedy(Prompt, 20);
        Assert.Equal(expected, actual);
        Assert.Equal(expected, new TextGenerator(cpu, decoder).Greedy(Prompt, 20)); // a second generation clears the cache
    }

    [Fact]
    public void AModelTheGpuCannotRun_IsRefusedWithItsReason()
    {
        var sinusoidal = new DecoderModel(Config with { Positions = PositionEncoding.Sinusoidal }, training: false);
        var e = Assert.Throws<ArgumentException>(() => new CudaCachedDecoder(gpu.Gpu, sinusoidal));
        Assert.Contains("learned position table only", e.Message);
        var window = new DecoderModel(Config, AttentionKernels.Parse("window:4"), training: false);
        Assert.Contains("has no GPU version", Assert.Throws<ArgumentException>(() => new CudaCachedDecoder(gpu.Gpu, window)).Message);
    }

    [Fact]
    public void GenerateAndInspect_DeviceCuda_PrintWhatTheCpuPrints()
    {
        string dir = Path.Combine(_root, "model"), plain = Path.Combine(_root, "plain");
        DecoderFolder.Save(Model("naive", 9), dir);
        DecoderFolder.Save(Model("naive", 9, gain: 1f), plain); // GPT-2's initialization: inspect compares every number
        string ids = string.Join(",", Prompt);
        string[] generate = ["generate", "--model", dir, "--ids", ids, "--max-tokens", "12", "--temperature", "0", "--json"];
        string[] inspect = ["inspect", "--model", plain, "--ids", ids, "--json"];
        var cpuGenerated = CliHarness.Ok(generate);
        var cpuInspected = CliHarness.Ok(inspect);
        CudaCommands.TestGpu.Value = gpu.Gpu;
        try
        {
            Assert.Equal(cpuGenerated, CliHarness.Ok([.. generate, "--device", "cuda"]));
            Assert.Equal(cpuGenerated, CliHarness.Ok([.. generate, "--device", "cuda", "--no-kv-cache"]));
            using var expected = JsonDocument.Parse(cpuInspected);
            using var actual = JsonDocument.Parse(CliHarness.Ok([.. inspect, "--device", "cuda"]));
            SameJson(actual.RootElement, expected.RootElement, "$");
        }
        finally { CudaCommands.TestGpu.Value = null; }
    }

    /// <summary>The same JSON tree: equal strings, booleans and structure; each number within 1e-5 of the CPU's, relative to
    /// the largest magnitude in its array (a row of logits, of attention weights), or to max(|CPU value|, 1) alone.</summary>
    private static void SameJson(JsonElement actual, JsonElement expected, string path, double scale = 1)
    {
        Assert.True(expected.ValueKind == actual.ValueKind, $"{path}: {actual.ValueKind} vs {expected.ValueKind}");
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                Assert.Equal(expected.EnumerateObject().Select(p => p.Name), actual.EnumerateObject().Select(p => p.Name));
                foreach (var p in expected.EnumerateObject()) SameJson(actual.GetProperty(p.Name), p.Value, $"{path}.{p.Name}");
                break;
            case JsonValueKind.Array:
                Assert.True(expected.GetArrayLength() == actual.GetArrayLength(), $"{path}: length {actual.GetArrayLength()} vs {expected.GetArrayLength()}");
                double rowScale = expected.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.Number).Select(x => Math.Abs(x.GetDouble())).DefaultIfEmpty(1).Max();
                for (int i = 0; i < expected.GetArrayLength(); i++) SameJson(actual[i], expected[i], $"{path}[{i}]", Math.Max(rowScale, 1));
                break;
            case JsonValueKind.Number:
                double e = expected.GetDouble(), a = actual.GetDouble();
                Assert.True(Math.Abs(a - e) <= LogitTolerance * Math.Max(Math.Abs(e), scale), $"{path}: {a} vs {e} (scale {scale})");
                break;
            default:
                Assert.Equal(expected.GetRawText(), actual.GetRawText());
                break;
        }
    }
}
