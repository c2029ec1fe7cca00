using System.Diagnostics;
using AttentionLab.Attention;
using AttentionLab.Kernels;
using AttentionLab.Ops;

namespace AttentionLab.Models;

/// <summary>GPT-2 layer wrappers shared by forward and backward: LayerNorm, GELU, head split and merge, split over the cores.</summary>
public sealed partial class Gpt2Model
{
    /// <summary>LayerNorm forward, rows split over the cores.</summary>
    private void NormForward(Gpt2Activations a, Slot input, Span<float> weight, Span<float> bias, Slot output, Slot mean, Slot rstd, int n)
    {
        int c = Config.Channels;
        float eps = Config.LayerNormEpsilon;
        var data = a.Data;
        var p = Parameters.Data;
        // weight and bias are views of the parameter arena: pass offsets so the lambda can slice it
        int wOffset = OffsetIn(p, weight), bOffset = OffsetIn(p, bias);
        ParallelRows.For(n, (long)n * c, ParallelMinimumWork, (start, count) =>
            LayerNorm.Forward(data.AsSpan(input.Offset + start * c, count * c), p.AsSpan(wOffset, c), p.AsSpan(bOffset, c), count, c, eps,
                data.AsSpan(output.Offset + start * c, count * c), data.AsSpan(mean.Offset + start, count), data.AsSpan(rstd.Offset + start, count)));
    }

    /// <summary>
    /// LayerNorm backward, rows split over the cores: dInput rows are disjoint, but every row adds to dWeight and
    /// dBias, so each extra core sums into its own partial (one C-vector pair) and the partials are added after.
    /// </summary>
    private void NormBackward(Gpt2Activations a, Slot dOutput, Slot input, ParameterView weight, ParameterView bias,
        Slot mean, Slot rstd, int n, Slot dInput)
    {
        int c = Config.Channels;
        var data = a.Data;
        var p = Parameters.Data;
        var g = Gradients.Data;
        int workers = Math.Min(a.Workers, n);
        if (workers <= 1 || (long)n * c < ParallelMinimumWork)
        {
            LayerNorm.Backward(a[dOutput], a[input], p.AsSpan(weight.Offset, c), a[mean], a[rstd], n, c, a[dInput],
                g.AsSpan(weight.Offset, c), g.AsSpan(bias.Offset, c));
            return;
        }
        var partials = a[a.NormPartials];
        partials.Slice(0, 2 * c * workers).Clear();
        int partialsOffset = a.NormPartials.Offset;
        Parallel.For(0, workers, w =>
        {
            int start = (int)((long)n * w / workers), count = (int)((long)n * (w + 1) / workers) - start;
            var dw = data.AsSpan(partialsOffset + 2 * c * w, c);
            var db = data.AsSpan(partialsOffset + 2 * c * w + c, c);
            LayerNorm.Backward(data.AsSpan(dOutput.Offset + start * c, count * c), data.AsSpan(input.Offset + start * c, count * c),
                p.AsSpan(weight.Offset, c), data.AsSpan(mean.Offset + start, count), data.AsSpan(rstd.Offset + start, count), count, c,
                data.AsSpan(dInput.Offset + start * c, count * c), dw, db);
        });
        var gw = g.AsSpan(weight.Offset, c);
        var gb = g.AsSpan(bias.Offset, c);
        for (int w = 0; w < workers; w++)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(gw, partials.Slice(2 * c * w, c), gw);
            System.Numerics.Tensors.TensorPrimitives.Add(gb, partials.Slice(2 * c * w + c, c), gb);
        }
    }

    /// <summary>Where a span over <paramref name="arena"/> starts in it.</summary>
    private static int OffsetIn(float[] arena, ReadOnlySpan<float> view) =>
        (int)(System.Runtime.CompilerServices.Unsafe.ByteOffset(ref arena[0], ref System.Runtime.InteropServices.MemoryMarshal.GetReference(view)) / sizeof(float));

    private void GeluForward(Gpt2Activations a, Slot input, Slot output, int rows, int width)
    {
        var data = a.Data;
        ParallelRows.For(rows, (long)rows * width * 4, ParallelMinimumWork, (start, count) =>
            Gelu.Forward(data.AsSpan(input.Offset + start * width, count * width), data.AsSpan(output.Offset + start * width, count * width)));
    }

    /// <summary>dFc ← gelu′(fc) · dFc, in place.</summary>
    private void GeluBackward(Gpt2Activations a, Slot input, Slot dFc, int rows, int width)
    {
        var data = a.Data;
        ParallelRows.For(rows, (long)rows * width * 4, ParallelMinimumWork, (start, count) =>
        {
            var d = data.AsSpan(dFc.Offset + start * width, count * width);
            Gelu.Backward(data.AsSpan(input.Offset + start * width, count * width), d, d);
        });
    }

    /// <summary>(B, T, 3C) → q, k, v (B, H, T, D): column block 0/1/2 of qkv, head h at columns h·D..(h+1)·D.</summary>
    private static void SplitHeads(ReadOnlySpan<float> qkv, int batch, int length, int heads, int d, Span<float> q, Span<float> k, Span<float> v)
    {
        int c = heads * d;
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < length; t++)
            {
                var row = qkv.Slice((b * length + t) * 3 * c, 3 * c);
                for (int hh = 0; hh < heads; hh++)
                {
                    int dst = ((b * heads + hh) * length + t) * d;
                    row.Slice(hh * d, d).CopyTo(q.Slice(dst, d));
                    row.Slice(c + hh * d, d).CopyTo(k.Slice(dst, d));
                    row.Slice(2 * c + hh * d, d).CopyTo(v.Slice(dst, d));
                }
            }
    }

    /// <summary>(B, T, C) → (B, H, T, D).</summary>
    private static void SplitHeads(ReadOnlySpan<float> x, int batch, int length, int heads, int d, Span<float> output)
    {
        int c = heads * d;
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < length; t++)
                for (int hh = 0; hh < heads; hh++)
                    x.Slice((b * length + t) * c + hh * d, d).CopyTo(output.Slice(((b * heads + hh) * length + t) * d, d));
    }

    /// <summary>(B, H, T, D) → (B, T, C).</summary>
    private static void MergeHeads(ReadOnlySpan<float> x, int batch, int length, int heads, int d, Span<float> output)
    {
        int c = heads * d;
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < length; t++)
                for (int hh = 0; hh < heads; hh++)
                    x.Slice(((b * heads + hh) * length + t) * d, d).CopyTo(output.Slice((b * length + t) * c + hh * d, d));
    }

    /// <summary>dq, dk, dv (B, H, T, D) → dqkv (B, T, 3C), the inverse of the three-way split.</summary>
    private static void MergeHeads(ReadOnlySpan<float> dq, ReadOnlySpan<float> dk, ReadOnlySpan<float> dv, int batch, int length, int heads, int d, Span<float> dqkv)
    {
        int c = heads * d;
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < length; t++)
            {
                var row = dqkv.Slice((b * length + t) * 3 * c, 3 * c);
                for (int hh = 0; hh < heads; hh++)
                {
                    int src = ((b * heads + hh) * length + t) * d;
                    dq.Slice(src, d).CopyTo(row.Slice(hh * d, d));
                    dk.Slice(src, d).CopyTo(row.Slice(c + hh * d, d));
                    dv.Slice(src, d).CopyTo(row.Slice(2 * c + hh * d, d));
                }
            }
    }
}
