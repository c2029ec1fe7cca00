using System.Runtime.CompilerServices;

namespace AttentionLab.Kernels;

/// <summary>
/// Per-thread pack buffers for the blocked GEMM: one for the packed A block (mc×kc) and one for the
/// packed B panel (kc×nc). Allocated on first use on each thread, grown when a bigger block is needed,
/// then reused, so steady-state calls allocate nothing. Pinned (pinned object heap) and 64-byte aligned
/// so the kernels' loads never split a cache line.
/// </summary>
internal sealed unsafe class GemmWorkspace
{
    [ThreadStatic] private static GemmWorkspace? t_current;

    private float[] _a = [];
    private float[] _b = [];

    public static GemmWorkspace Current => t_current ??= new GemmWorkspace();

    /// <summary>An aligned buffer of at least <paramref name="floats"/> for packed A.</summary>
    public float* A(int floats) => Aligned(ref _a, floats);

    /// <summary>An aligned buffer of at least <paramref name="floats"/> for packed B.</summary>
    public float* B(int floats) => Aligned(ref _b, floats);

    private static float* Aligned(ref float[] buffer, int floats)
    {
        const int AlignFloats = 16; // 64 bytes
        if (buffer.Length < floats + AlignFloats)
            buffer = GC.AllocateUninitializedArray<float>(floats + AlignFloats, pinned: true);
        float* p = (float*)Unsafe.AsPointer(ref buffer[0]);
        return (float*)(((nint)p + 63) & ~(nint)63);
    }
}
