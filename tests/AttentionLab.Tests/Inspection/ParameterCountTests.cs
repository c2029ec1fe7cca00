using System.Buffers.Binary;
using System.Text.Json;
using AttentionLab.Inspection;

namespace AttentionLab.Tests.Inspection;

/// <summary>
/// <see cref="ParameterCount"/> against seed 004 Part 6, the published GPT-2 124M size, and the real parameter
/// lists PyTorch saved in the fixtures (names and shapes, tensor by tensor).
/// </summary>
public class ParameterCountTests
{
    [Fact]
    public void Part6_SeedModel_Is102728704_Q23_To_Q27()
    {
        var count = ParameterCount.Seed(vocab: 200000, dModel: 256, heads: 4, maxLength: 256);
        Assert.Equal(51_200_000, Count(count, "token_embedding.weight"));      // Q23
        Assert.Equal(65_536, Count(count, "position_embedding.weight"));       // Q24
        long attention = count.Entries.Where(e => e.Name.StartsWith("attention.", StringComparison.Ordinal)).Sum(e => e.Count);
        Assert.Equal(263_168, attention);                                        // Q25: 4 × 65,792
        Assert.Equal(51_200_000, Count(count, "output_head.weight"));           // Q26
        Assert.Equal(102_728_704, count.Total);                                 // Q27
        Assert.Equal(["token_embedding.weight", "output_head.weight"], count.Largest.Select(e => e.Name));
    }

    [Fact]
    public void SeedModel_TinyConfig_Is1120()
    {
        Assert.Equal(1120, ParameterCount.Seed(vocab: 50, dModel: 8, heads: 2, maxLength: 4).Total);
    }

    [Fact]
    public void SeedModel_MatchesThePyTorchParameterList()
    {
        var root = Fixtures.Load("seed_gpt.json");
        var config = root.GetProperty("config");
        var count = ParameterCount.Seed(config.GetProperty("vocab_size").GetInt32(), config.GetProperty("d_model").GetInt32(),
            config.GetProperty("n_heads").GetInt32(), config.GetProperty("max_length").GetInt32());
        var torch = Flatten(root.GetProperty("params"), "");
        Assert.Equal(torch.Keys.Order(), count.Entries.Select(e => e.Name).Order());
        foreach (var e in count.Entries) Assert.Equal(torch[e.Name], e.Shape);
        Assert.Equal(root.GetProperty("param_count").GetInt64(), count.Total);
        Assert.Equal(root.GetProperty("param_count_vocab200000_d256_h4_len256").GetInt64(),
            ParameterCount.Seed(200000, 256, 4, 256).Total);
    }

    [Fact]
    public void Gpt2_124M_Is124439808()
    {
        var count = ParameterCount.Gpt2(vocab: 50257, dModel: 768, heads: 12, maxLength: 1024, layers: 12);
        Assert.Equal(124_439_808, count.Total);
        Assert.Equal("transformer.wte.weight", Assert.Single(count.Largest).Name);
        Assert.Equal(0, Count(count, "lm_head.weight")); // tied to wte
    }

    [Fact]
    public void Gpt2_MatchesTheSafetensorsSavedByTransformers()
    {
        // gpt2_tiny: vocab 65, 16 positions, 32 channels, 4 heads, 2 layers. The file stores every parameter
        // except lm_head (tied), so its element count is exactly the model's parameter count.
        var count = ParameterCount.Gpt2(vocab: 65, dModel: 32, heads: 4, maxLength: 16, layers: 2);
        var stored = SafetensorsShapes(Path.Combine(Fixtures.Directory, "gpt2_tiny", "model.safetensors"));
        var expected = new Dictionary<string, long[]>();
        foreach (var e in count.Entries.Where(e => e.Copies > 0))
            for (int layer = 0; layer < e.Copies; layer++)
                expected[e.Name.Replace("*", layer.ToString(System.Globalization.CultureInfo.InvariantCulture))] = e.Shape;
        Assert.Equal(stored.Keys.Order(), expected.Keys.Order());
        foreach (var (name, shape) in expected) Assert.Equal(stored[name], shape);
        Assert.Equal(stored.Values.Sum(s => s.Aggregate(1L, (a, b) => a * b)), count.Total);
    }

    [Fact]
    public void Rejects_BadSizes_AndOverflow()
    {
        Assert.Throws<ArgumentException>(() => ParameterCount.Seed(50, 8, 3, 4));
        Assert.Throws<ArgumentException>(() => ParameterCount.Seed(0, 8, 2, 4));
        Assert.Throws<ArgumentException>(() => ParameterCount.Gpt2(50, 8, 2, 4, layers: 0));
        Assert.Throws<ArgumentException>(() => ParameterCount.Gpt2(int.MaxValue, int.MaxValue, 1, int.MaxValue, int.MaxValue));
    }

    private static long Count(ParameterCount count, string name) => count.Entries.Single(e => e.Name == name).Count;

    /// <summary>{"a": {"b": {"shape": [...]}}} → {"a.b": shape}.</summary>
    private static Dictionary<string, long[]> Flatten(JsonElement e, string prefix)
    {
        if (e.TryGetProperty("shape", out var shape))
            return new() { [prefix] = shape.EnumerateArray().Select(x => x.GetInt64()).ToArray() };
        var result = new Dictionary<string, long[]>();
        foreach (var p in e.EnumerateObject())
            foreach (var (k, v) in Flatten(p.Value, prefix.Length == 0 ? p.Name : prefix + "." + p.Name)) result[k] = v;
        return result;
    }

    /// <summary>A safetensors file starts with an 8-byte little-endian header length, then a JSON header of name → {shape}.</summary>
    private static Dictionary<string, long[]> SafetensorsShapes(string path)
    {
        using var f = File.OpenRead(path);
        Span<byte> lengthBytes = stackalloc byte[8];
        f.ReadExactly(lengthBytes);
        var header = new byte[BinaryPrimitives.ReadInt64LittleEndian(lengthBytes)];
        f.ReadExactly(header);
        using var doc = JsonDocument.Parse(header);
        return doc.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__")
            .ToDictionary(p => p.Name, p => p.Value.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray());
    }
}
