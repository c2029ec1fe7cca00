using ILGPU;
using ILGPU.Runtime;

namespace AttentionLab.Cuda;

/// <summary>Moving heads in and out of the (B, T, C) layout: qkv (B, T, 3C) ↔ q, k, v (B, H, T, D); (B, T, C) ↔ (B, H, T, D).</summary>
public sealed partial class GpuOps
{
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, HeadArgs>? _splitQkv, _mergeQkv;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, HeadArgs>? _splitHeads, _mergeHeads;

    /// <summary>qkv (B, T, 3C) → q, k, v (B, H, T, D): column block 0/1/2, head h at columns h·D..(h+1)·D.</summary>
    public void SplitQkv(ArrayView<float> qkv, int batch, int length, int heads, int headDim, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v)
    {
        _splitQkv ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, HeadArgs>(SplitQkvKernel);
        _splitQkv(batch * length * heads * headDim, qkv, q, k, v, new HeadArgs(length, heads, headDim));
    }

    /// <summary>dq, dk, dv (B, H, T, D) → dqkv (B, T, 3C), the inverse of <see cref="SplitQkv"/>.</summary>
    public void MergeQkv(ArrayView<float> dq, ArrayView<float> dk, ArrayView<float> dv, int batch, int length, int heads, int headDim, ArrayView<float> dqkv)
    {
        _mergeQkv ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, HeadArgs>(MergeQkvKernel);
        _mergeQkv(batch * length * heads * headDim, dqkv, dq, dk, dv, new HeadArgs(length, heads, headDim));
    }

    /// <summary>(B, T, C) → (B, H, T, D).</summary>
    public void SplitHeads(ArrayView<float> x, int batch, int length, int heads, int headDim, ArrayView<float> output)
    {
        _splitHeads ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, HeadArgs>(SplitHeadsKernel);
        _splitHeads(batch * length * heads * headDim, x, output, new HeadArgs(length, heads, headDim));
    }

    /// <summary>(B, H, T, D) → (B, T, C).</summary>
    public void MergeHeads(ArrayView<float> x, int batch, int length, int heads, int headDim, ArrayView<float> output)
    {
        _mergeHeads ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, HeadArgs>(MergeHeadsKernel);
        _mergeHeads(batch * length * heads * headDim, x, output, new HeadArgs(length, heads, headDim));
    }

    /// <summary>For element i of a (B, H, T, D) tensor: its offset in the (B, T, C) layout.</summary>
    private static long RowMajorOffset(int i, HeadArgs a, int columns)
    {
        int d = i % a.HeadDim, t = i / a.HeadDim % a.Length, h = i / (a.HeadDim * a.Length) % a.Heads, b = i / (a.HeadDim * a.Length * a.Heads);
        return ((long)b * a.Length + t) * columns + h * a.HeadDim + d;
    }

    private static void SplitQkvKernel(Index1D i, ArrayView<float> qkv, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, HeadArgs a)
    {
        int c = a.Heads * a.HeadDim;
        long o = RowMajorOffset(i, a, 3 * c);
        q[i] = qkv[o]; k[i] = qkv[o + c]; v[i] = qkv[o + 2 * c];
    }

    private static void MergeQkvKernel(Index1D i, ArrayView<float> qkv, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, HeadArgs a)
    {
        int c = a.Heads * a.HeadDim;
        long o = RowMajorOffset(i, a, 3 * c);
        qkv[o] = q[i]; qkv[o + c] = k[i]; qkv[o + 2 * c] = v[i];
    }

    private static void SplitHeadsKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, HeadArgs a) =>
        y[i] = x[RowMajorOffset(i, a, a.Heads * a.HeadDim)];

    private static void MergeHeadsKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, HeadArgs a) =>
        y[RowMajorOffset(i, a, a.Heads * a.HeadDim)] = x[i];
}

/// <summary>Sizes of a head split or merge.</summary>
internal readonly record struct HeadArgs(int Length, int Heads, int HeadDim);
