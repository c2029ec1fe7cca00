using ILGPU;
using ILGPU.Runtime;

namespace AttentionLab.Cuda;

/// <summary>Sizes of one append to a device KV cache: n new positions written from <see cref="Start"/> on.</summary>
internal readonly record struct CacheArgs(int NewLength, int Start, int Capacity, int HeadDim);

/// <summary>Writing the new positions' keys or values into a <see cref="DeviceKvCache"/>: (H, n, D) → (H, Tmax, D) at
/// rows start … start + n − 1 of every head.</summary>
public sealed partial class GpuOps
{
    private Action<Index1D, ArrayView<float>, ArrayView<float>, CacheArgs>? _appendToCache;

    /// <param name="x">(H, n, D) the new keys or values</param>
    /// <param name="cache">(H, Tmax, D) one layer's keys or values</param>
    public void AppendToCache(ArrayView<float> x, int newLength, int start, int capacity, int headDim, ArrayView<float> cache)
    {
        if (newLength < 0 || start < 0 || start + newLength > capacity)
            throw new ArgumentOutOfRangeException(nameof(newLength), $"{start} cached + {newLength} new positions exceed the cache's {capacity}");
        if (x.Length == 0) return;
        _appendToCache ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, CacheArgs>(AppendToCacheKernel);
        _appendToCache((int)x.Length, x, cache, new CacheArgs(newLength, start, capacity, headDim));
    }

    private static void AppendToCacheKernel(Index1D index, ArrayView<float> x, ArrayView<float> cache, CacheArgs a)
    {
        long perHead = (long)a.NewLength * a.HeadDim;
        long h = index / perHead, r = index % perHead;
        cache[(h * a.Capacity + a.Start) * a.HeadDim + r] = x[index];
    }
}
