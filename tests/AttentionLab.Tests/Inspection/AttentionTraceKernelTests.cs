using AttentionLab.Attention;
using AttentionLab.Inspection;
using AttentionLab.Tests.Attention;

namespace AttentionLab.Tests.Inspection;

/// <summary>
/// The learner's step-by-step <see cref="AttentionTrace"/> and the library's attention kernels must agree: same
/// weights, same output, same masking rules (causal aligned bottom-right, a fully masked row gives 0). The kernels
/// take float inputs, the trace computes in double from the same floats; the kernels return float, so 1e-5.
/// </summary>
public class AttentionTraceKernelTests
{
    public static TheoryData<string, int, int, int, bool, string, float?> Cases()
    {
        var data = new TheoryData<string, int, int, int, bool, string, float?>();
        foreach (var kernel in TestData.ExactKernels)
        {
            data.Add(kernel, 3, 3, 2, false, "none", null);     // the exercises' size
            data.Add(kernel, 5, 5, 4, true, "none", null);      // causal self-attention
            data.Add(kernel, 3, 7, 8, true, "none", null);      // Tq < Tk: causal aligned bottom-right
            data.Add(kernel, 6, 2, 3, true, "none", null);      // Tq > Tk: the first rows see no key
            data.Add(kernel, 4, 6, 5, false, "random", null);   // a 0/1 mask with a fully masked row
            data.Add(kernel, 4, 4, 3, true, "random", 0.25f);   // causal AND mask, explicit scale
            data.Add(kernel, 17, 33, 16, false, "none", 1f);    // no scaling, sizes past the SIMD widths
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TraceMatchesKernel(string kernelName, int tq, int tk, int d, bool causal, string maskKind, float? scale)
    {
        var rng = new Random(tq * 1000 + tk * 10 + d);
        float[] q = Random(rng, tq * d), k = Random(rng, tk * d), v = Random(rng, tk * d);
        bool[]? mask = null;
        if (maskKind == "random")
        {
            mask = new bool[tq * tk];
            for (int i = 0; i < mask.Length; i++) mask[i] = rng.NextDouble() < 0.6;
            for (int j = 0; j < tk; j++) mask[j] = false; // row 0 fully masked
        }

        var kernel = AttentionKernels.Get(kernelName);
        var shape = new AttentionShape(1, 1, tq, tk, d);
        var options = new AttentionOptions
        {
            IsCausal = causal,
            Scale = scale,
            BooleanMask = mask is null ? null : AttentionMask.FromBoolean(mask, tq, tk),
        };
        var output = new float[tq * d];
        var weights = new float[tq * tk];
        kernel.Forward(q, k, v, shape, options, output, default);
        kernel.Weights(q, k, v, shape, options, weights);

        var trace = AttentionTrace.Compute(ToMatrix(q, tq, d), ToMatrix(k, tk, d), ToMatrix(v, tk, d), causal,
            mask is null ? null : ToMask(mask, tq, tk), scale);

        Assert.Equal(options.ScaleFor(d), trace.Scale, 1e-7);
        for (int i = 0; i < tq; i++)
        {
            for (int j = 0; j < tk; j++)
                Assert.True(Math.Abs(trace.Weights[i, j] - weights[i * tk + j]) <= 1e-5,
                    $"{kernelName}: weights[{i},{j}] trace {trace.Weights[i, j]:R} kernel {weights[i * tk + j]:R}");
            for (int c = 0; c < d; c++)
                Assert.True(Math.Abs(trace.Output[i, c] - output[i * d + c]) <= 1e-5 * Math.Max(1, Math.Abs(trace.Output[i, c])),
                    $"{kernelName}: output[{i},{c}] trace {trace.Output[i, c]:R} kernel {output[i * d + c]:R}");
            if (trace.FullyMasked(i))
                for (int c = 0; c < d; c++) Assert.Equal(0f, output[i * d + c]);
        }
    }

    private static float[] Random(Random rng, int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 4 - 2);
        return a;
    }

    private static double[,] ToMatrix(float[] flat, int rows, int cols)
    {
        var m = new double[rows, cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) m[i, j] = flat[i * cols + j];
        return m;
    }

    private static bool[,] ToMask(bool[] flat, int rows, int cols)
    {
        var m = new bool[rows, cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) m[i, j] = flat[i * cols + j];
        return m;
    }
}
