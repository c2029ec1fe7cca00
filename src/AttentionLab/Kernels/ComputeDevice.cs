using AttentionLab.Attention;

namespace AttentionLab.Kernels;

/// <summary>
/// Where a model's arithmetic runs. <see cref="Models.Gpt2Model"/> reaches every matrix product through
/// <see cref="MatMul"/> and its attention through the kernel <see cref="Attention"/> makes, never through static calls,
/// so a second device (a GPU) replaces both by subclassing. <see cref="Cpu"/> is this project's own SIMD GEMM and
/// kernels and the default everywhere.
/// </summary>
public abstract class ComputeDevice
{
    /// <summary>What users pick it by ("cpu", "cuda").</summary>
    public abstract string Name { get; }

    /// <summary>One line for <c>attnlab devices</c>: the processor and what it offers.</summary>
    public abstract string Description { get; }

    /// <summary>C (m, n) = op(A)·op(B) (+ C when accumulating); op transposes when asked. A is (m, k) or (k, m) when
    /// transposed, B is (k, n) or (n, k). Row-major. <paramref name="maxThreads"/> 0 = the device decides.</summary>
    public abstract void MatMul(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c,
        int m, int n, int k, bool transposeA = false, bool transposeB = false, bool accumulate = false, int maxThreads = 0);

    /// <summary>The attention kernel with this name, as this device implements it.</summary>
    public virtual IAttentionKernel Attention(string name) => AttentionKernels.Parse(name);

    /// <summary>The CPU: <see cref="Gemm"/> and the kernels of <see cref="AttentionKernels"/>.</summary>
    public static ComputeDevice Cpu { get; } = new CpuDevice();

    private sealed class CpuDevice : ComputeDevice
    {
        public override string Name => "cpu";

        public override string Description =>
            $"{Environment.ProcessorCount} logical cores, {GemmInstructionSet()} ({System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture})";

        public override void MatMul(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c,
            int m, int n, int k, bool transposeA = false, bool transposeB = false, bool accumulate = false, int maxThreads = 0) =>
            Gemm.Multiply(a, b, c, m, n, k, transposeA, transposeB, accumulate, maxThreads);

        private static string GemmInstructionSet() =>
            System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "AVX-512"
            : System.Runtime.Intrinsics.X86.Avx2.IsSupported ? "AVX2"
            : System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated ? "128-bit SIMD" : "scalar";
    }
}
