namespace AttentionLab.Tests.Ops;

internal static class OpsTestUtil
{
    /// <summary>Every SIMD remainder for 512-bit vectors and then some: 0..33, a spread up to 257.</summary>
    public static TheoryData<int> SimdLengths()
    {
        var data = new TheoryData<int>();
        foreach (int n in Enumerable.Range(0, 34).Concat([47, 48, 63, 64, 65, 95, 127, 128, 129, 191, 255, 256, 257])) data.Add(n);
        return data;
    }

    public static float[] Random(int n, int seed, float scale = 1f)
    {
        var r = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(r.NextDouble() * 2 - 1) * scale;
        return x;
    }

    /// <summary>Central difference of a scalar function of <paramref name="x"/> at element i, in float64 around float32 inputs.</summary>
    public static double Numeric(float[] x, int i, Func<double> f, float h = 1e-2f)
    {
        float saved = x[i];
        x[i] = saved + h; double plus = f();
        x[i] = saved - h; double minus = f();
        x[i] = saved;
        return (plus - minus) / (2.0 * h);
    }
}
