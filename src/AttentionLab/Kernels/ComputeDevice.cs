using AttentionLab.Attention;

namespace AttentionLab.Kernels;

/// <summary>
/// Where a model's arithmetic runs: the one device object every command and the library go through. A model reaches
/// every matrix product through <see cref="MatMul"/> and its attention through the kernel <see cref="Attention"/>
/// makes; a training run gets its steps from <see cref="TrainingBackend"/>, generation its cached steps from
/// <see cref="CachedDecoder"/>. A second device (a GPU) replaces all of them by subclassing. <see cref="Cpu"/> is this
/// project's own SIMD GEMM and kernels and the default everywhere.
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

    /// <summary>Where a training run's steps run, built from the run's host model and optimizer (fresh or resumed):
    /// on the CPU the shared loop over the model itself; a GPU keeps a device-resident copy and syncs it back for
    /// checkpoints. The one seam training goes through.</summary>
    public virtual Training.ITrainingBackend TrainingBackend(Models.DecoderModel model, Training.AdamW optimizer) =>
        new Training.CpuTrainingBackend(new Training.DecoderLanguageModel(model), optimizer);

    /// <summary>Generation's cached steps (KV cache) for <paramref name="model"/> on this device: on the CPU the model's
    /// own cache; a GPU keeps weights, cache and attention on the device. The one seam generation goes through.</summary>
    public virtual Models.ICachedDecoder CachedDecoder(Models.DecoderModel model) => new Models.CpuCachedDecoder(model);

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
