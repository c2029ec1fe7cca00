using AttentionLab.Training;
using ILGPU;
using ILGPU.Runtime;

namespace AttentionLab.Cuda;

/// <summary>
/// <see cref="AdamW"/> with its moments on the device, plus <c>clip_grad_norm_</c> fused in: the same update, the
/// same order, the same hyper-parameters and weight-decay ranges. The host computes the step's constants (bias
/// corrections) exactly as <see cref="AdamW.Step"/> does and launches one kernel per run of decayed or undecayed
/// parameters.
/// </summary>
public sealed class GpuAdamW : IDisposable
{
    private readonly GpuOps _ops;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _m, _v, _norm;
    private readonly MemoryBuffer1D<double, Stride1D.Dense> _partials;
    private readonly (long Offset, long Length, bool Decayed)[] _runs;
    private readonly float[] _normHost = new float[2];

    /// <param name="decayed">ranges that receive weight decay; null = every parameter (as <see cref="AdamW"/>)</param>
    public GpuAdamW(GpuOps ops, long parameterCount, AdamWOptions options, IEnumerable<(int Offset, int Length)>? decayed)
    {
        _ops = ops ?? throw new ArgumentNullException(nameof(ops));
        Options = options ?? throw new ArgumentNullException(nameof(options));
        var acc = ops.Accelerator;
        _m = acc.Allocate1D<float>(Math.Max(1, parameterCount)); _m.MemSetToZero();
        _v = acc.Allocate1D<float>(Math.Max(1, parameterCount)); _v.MemSetToZero();
        _norm = acc.Allocate1D<float>(2);
        _partials = acc.Allocate1D<double>(256);
        Count = parameterCount;
        var runs = new List<(long, long, bool)>();
        long pos = 0;
        foreach (var (o, l) in (decayed ?? [(0, (int)parameterCount)]).OrderBy(r => r.Offset))
        {
            if (o < 0 || l < 0 || (long)o + l > parameterCount) throw new ArgumentOutOfRangeException(nameof(decayed), $"range ({o}, {l}) is outside the {parameterCount} parameters");
            if (o > pos) runs.Add((pos, o - pos, false));
            long from = Math.Max(o, pos);
            if (o + l > from) runs.Add((from, o + l - from, true));
            pos = Math.Max(pos, o + l);
        }
        if (pos < parameterCount) runs.Add((pos, parameterCount - pos, false));
        _runs = runs.ToArray();
    }

    public AdamWOptions Options { get; }
    public long Count { get; }

    /// <summary>Steps taken (PyTorch's <c>state["step"]</c>).</summary>
    public int StepCount { get; private set; }

    /// <summary>
    /// Clips the gradients' global norm to <paramref name="maxNorm"/> (infinity: no clipping) and updates the
    /// parameters; the gradients are left scaled, as after <see cref="AdamW.ClipGradientNorm"/>. Returns the norm
    /// before clipping (the one float this reads back).
    /// </summary>
    public float Step(ArrayView<float> parameters, ArrayView<float> gradients, float maxNorm, float learningRate)
    {
        if (parameters.Length != Count || gradients.Length != Count)
            throw new ArgumentException($"parameters and gradients need {Count} elements, got {parameters.Length} and {gradients.Length}");
        _ops.GradientNorm(gradients, _partials.View, maxNorm, _norm.View);
        StepCount++;
        var o = Options;
        float bc1 = 1f - MathF.Pow(o.Beta1, StepCount), bc2 = 1f - MathF.Pow(o.Beta2, StepCount);
        foreach (var (offset, length, decayed) in _runs)
        {
            var args = new AdamWArgs(o.Beta1, o.Beta2, o.Epsilon, learningRate / bc1, 1f / MathF.Sqrt(bc2), decayed ? 1f - learningRate * o.WeightDecay : 1f);
            _ops.AdamWStep(parameters.SubView(offset, length), gradients.SubView(offset, length), _m.View.SubView(offset, length),
                _v.View.SubView(offset, length), _norm.View, args);
        }
        GpuOps.Download(_norm.View, _normHost);
        return _normHost[0];
    }

    /// <summary>Puts saved moments back (resume), as <see cref="AdamW.Restore"/>.</summary>
    public void Restore(ReadOnlySpan<float> firstMoment, ReadOnlySpan<float> secondMoment, int stepCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stepCount);
        GpuOps.Upload(firstMoment, _m.View.SubView(0, Count));
        GpuOps.Upload(secondMoment, _v.View.SubView(0, Count));
        StepCount = stepCount;
    }

    /// <summary>Copies both moments to the host (checkpoints).</summary>
    public void DownloadMoments(Span<float> firstMoment, Span<float> secondMoment)
    {
        GpuOps.Download(_m.View.SubView(0, Count), firstMoment);
        GpuOps.Download(_v.View.SubView(0, Count), secondMoment);
    }

    public void Dispose()
    {
        _m.Dispose(); _v.Dispose(); _norm.Dispose(); _partials.Dispose();
    }
}
