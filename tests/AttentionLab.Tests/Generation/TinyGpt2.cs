using System.Text.Json;
using AttentionLab.Models;

namespace AttentionLab.Tests.Generation;

/// <summary>
/// The gpt2_tiny fixture (vocab 65, 16 positions, 32 channels, 2 layers, 4 heads) read straight from its
/// safetensors file: 8-byte little-endian header length, JSON header {name: {dtype, shape, data_offsets}}, data.
/// </summary>
public static class TinyGpt2
{
    public static Gpt2Generator.Dimensions Size { get; } = new(Layers: 2, Heads: 4, Channels: 32, Context: 16, VocabSize: 65);

    public static Dictionary<string, float[]> Parameters { get; } = Read(Path.Combine(Fixtures.Directory, "gpt2_tiny", "model.safetensors"));

    public static Gpt2Generator Generator() => new(Size, name => Parameters[name]);

    /// <summary>A random GPT-2 of the given size (weights ~ N(0, 0.02²)-ish uniform, LayerNorm 1/0), for tests that need no training.</summary>
    public static Gpt2Generator Random(Gpt2Generator.Dimensions size, int seed, out Dictionary<string, float[]> parameters)
    {
        var rng = new Random(seed);
        int C = size.Channels;
        var p = new Dictionary<string, float[]>();
        float[] Rand(long n, float scale) { var a = new float[n]; for (long i = 0; i < n; i++) a[i] = (float)((rng.NextDouble() * 2 - 1) * scale); return a; }
        float[] Fill(int n, float v) { var a = new float[n]; Array.Fill(a, v); return a; }
        p["transformer.wte.weight"] = Rand((long)size.VocabSize * C, 0.5f);
        p["transformer.wpe.weight"] = Rand((long)size.Context * C, 0.5f);
        p["transformer.ln_f.weight"] = Fill(C, 1); p["transformer.ln_f.bias"] = Rand(C, 0.1f);
        for (int l = 0; l < size.Layers; l++)
        {
            string h = $"transformer.h.{l}.";
            p[h + "ln_1.weight"] = Fill(C, 1); p[h + "ln_1.bias"] = Rand(C, 0.1f);
            p[h + "ln_2.weight"] = Fill(C, 1); p[h + "ln_2.bias"] = Rand(C, 0.1f);
            p[h + "attn.c_attn.weight"] = Rand(3L * C * C, 0.3f); p[h + "attn.c_attn.bias"] = Rand(3 * C, 0.1f);
            p[h + "attn.c_proj.weight"] = Rand((long)C * C, 0.2f); p[h + "attn.c_proj.bias"] = Rand(C, 0.1f);
            p[h + "mlp.c_fc.weight"] = Rand(4L * C * C, 0.2f); p[h + "mlp.c_fc.bias"] = Rand(4 * C, 0.1f);
            p[h + "mlp.c_proj.weight"] = Rand(4L * C * C, 0.1f); p[h + "mlp.c_proj.bias"] = Rand(C, 0.1f);
        }
        parameters = p;
        return new Gpt2Generator(size, name => p[name]);
    }

    private static Dictionary<string, float[]> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        long headerLength = BitConverter.ToInt64(bytes, 0);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        var result = new Dictionary<string, float[]>();
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__") continue;
            Assert.Equal("F32", entry.Value.GetProperty("dtype").GetString());
            var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            int start = (int)(8 + headerLength + offsets[0]), length = (int)(offsets[1] - offsets[0]);
            result[entry.Name] = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes.AsSpan(start, length)).ToArray();
        }
        return result;
    }
}
