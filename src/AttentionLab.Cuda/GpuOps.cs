using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;

namespace AttentionLab.Cuda;

/// <summary>
/// The device kernels, one op per file (GpuOps.Gemm.cs, GpuOps.LayerNorm.cs, …), each a kernel written in C# and a
/// launcher that takes <see cref="ArrayView{T}"/>s already on the device. Nothing here copies to or from the host
/// except Upload, Download and the scalar reads a caller asks for. Kernels are compiled
/// (to PTX on CUDA) the first time they are launched. Launches are asynchronous on the accelerator's default stream.
/// </summary>
public sealed partial class GpuOps
{
    /// <summary>Shared memory of the row kernels (LayerNorm, softmax, cross-entropy): one float per thread, at most this many.</summary>
    internal const int RowGroup = 128;

    private readonly Accelerator _accelerator;

    internal GpuOps(Accelerator accelerator)
    {
        _accelerator = accelerator;
        // one group per row: 128 threads on a GPU; 4 on the CPU simulator, where every thread of a group is an OS
        // thread and every barrier a rendezvous of them all (same code, same results, far less waiting)
        RowThreads = accelerator.AcceleratorType == AcceleratorType.Cuda ? RowGroup : 4;
    }

    /// <summary>Threads per group of the row kernels (a power of two, at most <see cref="RowGroup"/>).</summary>
    internal int RowThreads { get; }

    public Accelerator Accelerator => _accelerator;

    // ILGPU takes the host side of a copy as a raw address (ref → pointer, "the pinned CPU buffer"): the managed array
    // must not move while it copies, so every copy pins it. Unpinned, a garbage collection during the copy (likely on a
    // loaded machine, with freshly allocated arrays) sends the data to or reads it from the array's old address.

    /// <summary>Copies host floats onto the device.</summary>
    public static unsafe void Upload(ReadOnlySpan<float> source, ArrayView<float> destination)
    {
        if (source.Length != destination.Length) throw new ArgumentException($"upload of {source.Length} floats into a view of {destination.Length}");
        if (source.IsEmpty) return;
        fixed (float* pinned = source) destination.CopyFromCPU(ref MemoryMarshal.GetReference(source), source.Length);
    }

    /// <summary>Copies host ints onto the device.</summary>
    public static unsafe void Upload(ReadOnlySpan<int> source, ArrayView<int> destination)
    {
        if (source.Length != destination.Length) throw new ArgumentException($"upload of {source.Length} ints into a view of {destination.Length}");
        if (source.IsEmpty) return;
        fixed (int* pinned = source) destination.CopyFromCPU(ref MemoryMarshal.GetReference(source), source.Length);
    }

    /// <summary>Copies device floats to the host (waits for the kernels that write them).</summary>
    public static unsafe void Download(ArrayView<float> source, Span<float> destination)
    {
        if (source.Length != destination.Length) throw new ArgumentException($"download of a view of {source.Length} floats into {destination.Length}");
        if (destination.IsEmpty) return;
        fixed (float* pinned = destination) source.CopyToCPU(ref MemoryMarshal.GetReference(destination), destination.Length);
    }

    /// <summary>Sets a view to zero on the device.</summary>
    public void Zero(ArrayView<float> view)
    {
        if (view.Length > 0) view.MemSetToZero();
    }

    /// <summary>Groups of <paramref name="groupSize"/> covering <paramref name="count"/> items.</summary>
    internal static int Groups(long count, int groupSize) => (int)Math.Max(1, (count + groupSize - 1) / groupSize);

    /// <summary>Sum of a group's values (every thread gets it). <paramref name="shared"/> has one float per thread.</summary>
    internal static float GroupSum(ArrayView<float> shared, float value)
    {
        int t = Group.IdxX;
        shared[t] = value;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (t < s) shared[t] += shared[t + s];
            Group.Barrier();
        }
        float result = shared[0];
        Group.Barrier();
        return result;
    }

    /// <summary>Maximum of a group's values (every thread gets it).</summary>
    internal static float GroupMax(ArrayView<float> shared, float value)
    {
        int t = Group.IdxX;
        shared[t] = value;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (t < s) shared[t] = Math.Max(shared[t], shared[t + s]);
            Group.Barrier();
        }
        float result = shared[0];
        Group.Barrier();
        return result;
    }
}
