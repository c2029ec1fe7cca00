namespace AttentionLab.Kernels;

/// <summary>
/// One register-tiled inner kernel of the packed GEMM: <c>C[MR×NR] (+)= Apanel · Bpanel</c>.
/// The driver (<see cref="GemmDriver{TKernel}"/>) is generic over this interface, so the JIT compiles
/// one specialised copy of the blocking loops per ISA and the kernel call is inlined.
/// </summary>
internal unsafe interface IGemmMicroKernel
{
    /// <summary>Rows of C per tile (how many A values are broadcast per k step).</summary>
    static abstract int MR { get; }

    /// <summary>Columns of C per tile (a whole number of SIMD vectors).</summary>
    static abstract int NR { get; }

    /// <summary>
    /// Multiplies a packed A micro-panel (kc steps of MR values) by a packed B micro-panel
    /// (kc steps of NR values) and writes the full MR×NR tile at <paramref name="c"/>
    /// (row stride <paramref name="ldc"/>), adding to what is there when <paramref name="accumulate"/> is set.
    /// </summary>
    static abstract void Run(int kc, float* a, float* b, float* c, nint ldc, bool accumulate);
}
