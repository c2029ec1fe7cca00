using System.Text.Json;

namespace AttentionLab.Tests;

/// <summary>
/// Reads the PyTorch ground truth under tests/fixtures (copied from shared/fixtures; see its README).
/// Every tensor there is <c>{"shape": [...], "data": [flat row-major float64]}</c>.
/// </summary>
public static class Fixtures
{
    public static string Directory { get; } = Path.Combine(AppContext.BaseDirectory, "fixtures");

    private static readonly Dictionary<string, JsonDocument> Cache = new();

    public static JsonElement Load(string relativePath)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(relativePath, out var doc))
            {
                doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, relativePath)));
                Cache[relativePath] = doc;
            }
            return doc.RootElement;
        }
    }

    /// <summary>Walks a dotted path such as <c>sdpa.causal.q</c>; keys may themselves contain dots
    /// (e.g. <c>transformer.h.0.ln_1.weight</c>), so the longest matching key wins.</summary>
    public static JsonElement Get(JsonElement root, string path)
    {
        var current = root;
        var rest = path;
        while (rest.Length > 0)
        {
            JsonElement next = default;
            int used = -1;
            // try the longest prefix of `rest` that is a key of `current`
            for (int end = rest.Length; end > 0; end = rest.LastIndexOf('.', end - 1))
            {
                if (current.TryGetProperty(rest[..end], out next)) { used = end; break; }
                if (end == 0) break;
            }
            if (used < 0) throw new KeyNotFoundException($"fixture path '{path}' not found at '{rest}'");
            current = next;
            rest = used < rest.Length ? rest[(used + 1)..] : "";
        }
        return current;
    }

    public static int[] Shape(JsonElement tensor) =>
        tensor.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();

    public static double[] Doubles(JsonElement tensor) =>
        tensor.GetProperty("data").EnumerateArray().Select(e => e.GetDouble()).ToArray();

    public static float[] Floats(JsonElement tensor) =>
        tensor.GetProperty("data").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();

    public static AttentionLab.Tensors.Tensor Tensor(JsonElement tensor) => new(Floats(tensor), Shape(tensor));

    public static AttentionLab.Tensors.Tensor Tensor(string file, string path) => Tensor(Get(Load(file), path));
}

/// <summary>Tolerance-based comparisons that report the worst element, so a failure says where.</summary>
public static class Close
{
    /// <summary>Asserts |actual − expected| ≤ atol + rtol·|expected| element-wise.</summary>
    public static void Assert(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, double rtol, double atol, string what)
    {
        Xunit.Assert.True(actual.Length == expected.Length, $"{what}: length {actual.Length} vs expected {expected.Length}");
        double worst = 0; int worstAt = -1;
        for (int i = 0; i < actual.Length; i++)
        {
            double a = actual[i], e = expected[i];
            if (double.IsNaN(a)) Xunit.Assert.Fail($"{what}: NaN at {i}");
            double excess = Math.Abs(a - e) - (atol + rtol * Math.Abs(e));
            if (excess > worst) { worst = excess; worstAt = i; }
        }
        if (worstAt >= 0)
            Xunit.Assert.Fail($"{what}: element {worstAt} is {actual[worstAt]:G9}, expected {expected[worstAt]:G9} (rtol {rtol}, atol {atol})");
    }

    public static void Assert(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double rtol, double atol, string what)
    {
        var e = new double[expected.Length];
        for (int i = 0; i < e.Length; i++) e[i] = expected[i];
        Assert(actual, e, rtol, atol, what);
    }
}
