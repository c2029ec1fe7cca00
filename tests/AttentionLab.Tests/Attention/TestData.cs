using AttentionLab.Attention;

namespace AttentionLab.Tests.Attention;

/// <summary>Deterministic random inputs and a small attention runner for the attention tests.</summary>
internal static class TestData
{
    /// <summary>
    /// The exact kernels every mask and parity test runs: naive, fast, flash with its default tile, and flash with a
    /// tile of 3 keys, so that small tests cross many tile boundaries (and remainders) of the online softmax.
    /// </summary>
    public static readonly string[] ExactKernels = ["naive", "fast", "flash", "flash,tile:3"];

    /// <summary>
    /// A seed that is the same in every process for the same case (FNV-1a over the parts' text). Not
    /// <see cref="HashCode.Combine{T1,T2}"/>: that is randomized per process, which made these tests draw new data on
    /// every run.
    /// </summary>
    public static Random Seeded(params object[] parts)
    {
        uint hash = 2166136261;
        foreach (char c in string.Join('|', parts)) { hash ^= c; hash *= 16777619; }
        return new Random((int)(hash & 0x7FFFFFFF));
    }

    /// <summary>Standard-normal floats from a fixed seed.</summary>
    public static float[] Normal(Random random, int count, double std = 1)
    {
        var data = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            data[i] = (float)(std * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return data;
    }

    public static bool[] Bernoulli(Random random, int count, double pTrue)
    {
        var data = new bool[count];
        for (int i = 0; i < count; i++) data[i] = random.NextDouble() < pTrue;
        return data;
    }

    public sealed record Result(float[] Output, float[] Weights, float[] Dq, float[] Dk, float[] Dv);

    /// <summary>Forward (with weights) then backward with upstream gradient <paramref name="dOutput"/>.</summary>
    public static Result Run(IAttentionKernel kernel, float[] q, float[] k, float[] v, float[] dOutput,
        AttentionShape shape, AttentionOptions options)
    {
        var output = new float[shape.QueryElements];
        var saved = new float[kernel.SavedLength(shape)];
        kernel.Forward(q, k, v, shape, options, output, saved);
        var weights = new float[shape.WeightElements];
        kernel.Weights(q, k, v, shape, options, weights);
        var dq = new float[shape.QueryElements];
        var dk = new float[shape.KeyElements];
        var dv = new float[shape.KeyElements];
        kernel.Backward(q, k, v, output, saved, dOutput, shape, options, dq, dk, dv);
        return new Result(output, weights, dq, dk, dv);
    }

    /// <summary>Σ output ⊙ g in double: a scalar loss whose gradient with respect to the output is g.</summary>
    public static double Dot(ReadOnlySpan<float> output, ReadOnlySpan<float> g)
    {
        double sum = 0;
        for (int i = 0; i < output.Length; i++) sum += (double)output[i] * g[i];
        return sum;
    }

    /// <summary>
    /// Central difference (L(x + h) − L(x − h)) / 2h of a float function, perturbing <paramref name="x"/>[i] in place.
    /// </summary>
    public static double CentralDifference(float[] x, int i, float h, Func<double> loss)
    {
        float saved = x[i];
        x[i] = saved + h;
        double plus = loss();
        x[i] = saved - h;
        double minus = loss();
        x[i] = saved;
        // the actual step after float rounding, not the nominal one
        return (plus - minus) / ((double)(saved + h) - (saved - h));
    }

    public static void AllFinite(ReadOnlySpan<float> values, string what)
    {
        for (int i = 0; i < values.Length; i++)
            Assert.True(float.IsFinite(values[i]), $"{what}[{i}] = {values[i]}");
    }

    /// <summary>
    /// Compares an analytic gradient with central differences for every element of <paramref name="x"/>.
    /// Why these defaults: the losses are float32 computations of size ~1, so each evaluation carries a rounding
    /// error of at most ~1e-6 (typically 1e-7); divided by 2h = 0.02 that is ≤ 5e-5. The truncation error of a
    /// central difference is h²/6·|f‴| ≈ 2e-5·|f‴|. So 1e-4 absolute + 1e-3 relative clears the noise (every
    /// check here also passes at 2e-5 + 2e-4), while a wrong formula (a missing scale, a sign, a leak through a
    /// masked score) is off by 1e-2 to 1.
    /// </summary>
    public static void GradCheck(float[] x, ReadOnlySpan<float> analytic, Func<double> loss, string what,
        float h = 1e-2f, double atol = 1e-4, double rtol = 1e-3)
    {
        Assert.Equal(x.Length, analytic.Length);
        for (int i = 0; i < x.Length; i++)
        {
            double numeric = CentralDifference(x, i, h, loss);
            double error = Math.Abs(numeric - analytic[i]);
            Assert.True(error <= atol + rtol * Math.Abs(numeric),
                $"{what}[{i}]: analytic {analytic[i]:G7}, finite difference {numeric:G7}");
        }
    }
}
