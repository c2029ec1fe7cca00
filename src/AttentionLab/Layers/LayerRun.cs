using AttentionLab.Kernels;
using AttentionLab.Models;

namespace AttentionLab.Layers;

/// <summary>
/// What every layer's forward and backward read and write: the parameter arena, the gradient arena (training), the
/// activation arena of the current (B, T), the device the matrix products run on, the phase timer and the
/// parallel-work threshold. One per model, refreshed at the start of each pass, so a training step allocates nothing.
/// </summary>
internal sealed class LayerRun
{
    /// <summary>The weights, laid out by the model's <see cref="DecoderLayout"/>.</summary>
    public float[] Parameters = [];
    /// <summary>dLoss/dParameters, same layout; null for an inference model.</summary>
    public float[]? Gradients;
    /// <summary>The activations of the current pass.</summary>
    public DecoderActivations Activations = null!;
    public ComputeDevice Device = ComputeDevice.Cpu;
    public DecoderPhaseTimes? Timer;
    public long ParallelMinimumWork = ParallelRows.DefaultMinimumWork;

    /// <summary>The activation floats.</summary>
    public float[] Data => Activations.Data;

    /// <summary>Rows of the current pass, N = B·T.</summary>
    public int Rows => Activations.Batch * Activations.Length;

    public Span<float> this[Slot s] => Activations[s];

    /// <summary>A slot as memory (what hooks receive).</summary>
    public Memory<float> Memory(Slot s) => Activations.Data.AsMemory(s.Offset, s.Length);

    public Span<float> this[ParameterView p] => Parameters.AsSpan(p.Offset, p.Length);

    /// <summary>The narrow matrices of an inference model built with BF16/F16/Q8_0 weights; null: every weight is float32.</summary>
    public WeightStore? Weights16;

    /// <summary>output (+)= x·op(W) for the weight matrix <paramref name="weight"/>, from the 16-bit store when it holds
    /// it, else from the float32 arena on the device: the one seam a layer's forward product goes through.</summary>
    /// <param name="x">(m, k)</param>
    /// <param name="output">(m, n)</param>
    public void MultiplyByWeight(ReadOnlySpan<float> x, ParameterView weight, Span<float> output, int m, int n, int k,
        bool transposeWeight = false, bool accumulate = false)
    {
        if (Weights16?.Find(weight) is { } half) half.Multiply(x, output, m, transposeWeight, accumulate);
        else Device.MatMul(x, this[weight], output, m, n, k, transposeB: transposeWeight, accumulate: accumulate);
    }

    /// <summary>dLoss/d<paramref name="p"/>.</summary>
    public Span<float> Gradient(ParameterView p) => Gradients.AsSpan(p.Offset, p.Length);

    /// <summary>Times the scope that follows as <paramref name="phase"/> (nothing without a timer).</summary>
    public PhaseScope Phase(DecoderPhase phase) => Timer.Phase(phase);

    private readonly float[][] _scratch = [[], []];

    /// <summary>Scratch buffer <paramref name="index"/> (0 or 1) of at least <paramref name="length"/> floats, kept for
    /// the next pass (the hooked attention's (B, H, Tq, Tk) scores and pattern: one layer at a time).</summary>
    public Memory<float> Scratch(int index, int length)
    {
        if (_scratch[index].Length < length) _scratch[index] = new float[length];
        return _scratch[index].AsMemory(0, length);
    }

    /// <summary>Runs two independent pieces of work at once, each told how many cores it may use; in a row on one core.
    /// Two single-core GEMMs side by side beat two two-core GEMMs in a row: no fork/join inside each (docs/gpt2.md).</summary>
    public static void SideBySide(Action<int> first, Action<int> second)
    {
        int cores = Environment.ProcessorCount;
        if (cores < 2) { first(0); second(0); return; }
        int half = cores / 2;
        Parallel.Invoke(() => first(half), () => second(cores - half));
    }
}
