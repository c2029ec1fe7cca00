using AttentionLab.Cuda;
using ILGPU;
using ILGPU.Runtime;

namespace AttentionLab.Tests.Cuda;

/// <summary>
/// One ILGPU CPU simulator for every device test (creating it and compiling the kernels costs seconds), and the
/// tests run one at a time (the simulator runs each group on its own threads).
/// </summary>
public sealed class GpuFixture : IDisposable
{
    public GpuContext Gpu { get; } = GpuContext.CreateCpuSimulator();
    public GpuOps Ops => Gpu.Ops;

    /// <summary>A device copy of host floats (the caller disposes it).</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Upload(float[] data)
    {
        var buffer = Gpu.Accelerator.Allocate1D<float>(Math.Max(1, data.Length));
        GpuOps.Upload(data, buffer.View.SubView(0, data.Length));
        return buffer;
    }

    public MemoryBuffer1D<int, Stride1D.Dense> Upload(int[] data)
    {
        var buffer = Gpu.Accelerator.Allocate1D<int>(Math.Max(1, data.Length));
        GpuOps.Upload(data, buffer.View.SubView(0, data.Length));
        return buffer;
    }

    public MemoryBuffer1D<float, Stride1D.Dense> Zeros(long length)
    {
        var buffer = Gpu.Accelerator.Allocate1D<float>(Math.Max(1, length));
        buffer.MemSetToZero();
        return buffer;
    }

    public static float[] Download(MemoryBuffer1D<float, Stride1D.Dense> buffer, int length)
    {
        var result = new float[length];
        GpuOps.Download(buffer.View.SubView(0, length), result);
        return result;
    }

    public void Dispose() => Gpu.Dispose();
}

// DisableParallelization: the simulator runs every group on its own OS threads; alone, it neither starves nor is
// starved by the other test collections (nor disturbs their allocation-based memory accounting)
[CollectionDefinition("Gpu", DisableParallelization = true)]
public sealed class GpuCollection : ICollectionFixture<GpuFixture>;

/// <summary>Shared helpers: random data and the relative-error measure the device tests state.</summary>
internal static class GpuCheck
{
    public static float[] Random(int length, int seed, float scale = 1f)
    {
        var r = new Random(seed);
        var x = new float[length];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(r.NextDouble() * 2 - 1) * scale;
        return x;
    }

    /// <summary>max |actual − expected| / max(max |expected|, 1e-30): the error relative to the tensor's scale.</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double diff = 0, scale = 1e-30;
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.False(float.IsNaN(actual[i]), $"NaN at {i}");
            diff = Math.Max(diff, Math.Abs((double)actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }
        return diff / scale;
    }

    public static void Close(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double tolerance, string what)
    {
        double e = RelativeError(actual, expected);
        Assert.True(e <= tolerance, $"{what}: relative error {e:E2} > {tolerance:E0}");
    }
}
