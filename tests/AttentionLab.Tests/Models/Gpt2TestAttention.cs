using AttentionLab.Attention;

namespace AttentionLab.Tests.Models;

/// <summary>
/// A minimal causal attention for the GPT-2 tests until the attention kernels land on main: plain loops,
/// float64 accumulation. Lives in the test project only; the library's kernels come from AttentionKernels.
/// </summary>
internal sealed class Gpt2TestAttention : IAttentionKernel
{
    public static Gpt2TestAttention Instance { get; } = new();

    public string Name => "gpt2-test";

    public void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, AttentionShape shape,
        AttentionOptions options, Span<float> output, Span<float> weights)
    {
        int bh = shape.Batch * shape.Heads, t = shape.QueryLength, d = shape.HeadDim;
        float scale = options.ScaleFor(d);
        var row = new double[t];
        for (int x = 0; x < bh; x++)
            for (int i = 0; i < t; i++)
            {
                double max = double.NegativeInfinity;
                for (int j = 0; j <= i; j++)
                {
                    double s = 0;
                    for (int e = 0; e < d; e++) s += q[(x * t + i) * d + e] * k[(x * t + j) * d + e];
                    row[j] = s * scale;
                    max = Math.Max(max, row[j]);
                }
                double sum = 0;
                for (int j = 0; j <= i; j++) { row[j] = Math.Exp(row[j] - max); sum += row[j]; }
                for (int j = 0; j < t; j++)
                {
                    double w = j <= i ? row[j] / sum : 0;
                    if (!weights.IsEmpty) weights[(x * t + i) * t + j] = (float)w;
                    row[j] = w;
                }
                for (int e = 0; e < d; e++)
                {
                    double o = 0;
                    for (int j = 0; j <= i; j++) o += row[j] * v[(x * t + j) * d + e];
                    output[(x * t + i) * d + e] = (float)o;
                }
            }
    }

    public void Backward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> weights,
        ReadOnlySpan<float> dOutput, AttentionShape shape, AttentionOptions options, Span<float> dq, Span<float> dk, Span<float> dv)
    {
        int bh = shape.Batch * shape.Heads, t = shape.QueryLength, d = shape.HeadDim;
        float scale = options.ScaleFor(d);
        dq.Clear(); dk.Clear(); dv.Clear();
        var dw = new double[t];
        for (int x = 0; x < bh; x++)
            for (int i = 0; i < t; i++)
            {
                // dP = dO·Vᵀ; dS = P ⊙ (dP − Σ P·dP); dQ = dS·K·scale; dK += dSᵀ·Q·scale; dV += Pᵀ·dO
                double dot = 0;
                for (int j = 0; j <= i; j++)
                {
                    double s = 0;
                    for (int e = 0; e < d; e++) s += dOutput[(x * t + i) * d + e] * v[(x * t + j) * d + e];
                    dw[j] = s;
                    dot += s * weights[(x * t + i) * t + j];
                }
                for (int j = 0; j <= i; j++)
                {
                    double p = weights[(x * t + i) * t + j];
                    double ds = p * (dw[j] - dot) * scale;
                    for (int e = 0; e < d; e++)
                    {
                        dq[(x * t + i) * d + e] += (float)(ds * k[(x * t + j) * d + e]);
                        dk[(x * t + j) * d + e] += (float)(ds * q[(x * t + i) * d + e]);
                        dv[(x * t + j) * d + e] += (float)(p * dOutput[(x * t + i) * d + e]);
                    }
                }
            }
    }
}
