using System.Diagnostics;

namespace AttentionLab.Models;

/// <summary>Parts of a training step that <see cref="DecoderPhaseTimes"/> times separately.</summary>
public enum DecoderPhase
{
    Embedding,
    LayerNorm,
    Matmul,
    Attention,
    Gelu,
    Residual,
    LmHead,
    Loss,
    BackwardLossAndLmHead,
    BackwardMatmul,
    BackwardAttention,
    BackwardLayerNorm,
    BackwardGelu,
    BackwardOther,
    ZeroGrad,
    AdamW,
}

/// <summary>
/// Accumulated wall time per <see cref="DecoderPhase"/>. Attach one to <see cref="DecoderModel.Timer"/> to profile; when
/// none is attached the model reads no clock.
/// </summary>
public sealed class DecoderPhaseTimes
{
    private readonly long[] _ticks = new long[Enum.GetValues<DecoderPhase>().Length];

    /// <summary>Milliseconds spent in a phase since the last <see cref="Reset"/>.</summary>
    public double Milliseconds(DecoderPhase phase) => _ticks[(int)phase] * 1000.0 / Stopwatch.Frequency;

    public void Reset() => Array.Clear(_ticks);

    public void Add(DecoderPhase phase, long ticks) => _ticks[(int)phase] += ticks;

    /// <summary>Adds the time since <paramref name="start"/> to a phase and returns the current timestamp.</summary>
    public long Lap(DecoderPhase phase, long start)
    {
        long now = Stopwatch.GetTimestamp();
        _ticks[(int)phase] += now - start;
        return now;
    }
}

/// <summary>
/// The time of one phase, from its creation to its disposal, added to a <see cref="DecoderPhaseTimes"/>:
/// <c>using (timer.Phase(DecoderPhase.Matmul)) { … }</c>. With no timer it reads no clock. A struct: no allocation.
/// </summary>
public readonly struct PhaseScope : IDisposable
{
    private readonly DecoderPhaseTimes? _times;
    private readonly DecoderPhase _phase;
    private readonly long _start;

    internal PhaseScope(DecoderPhaseTimes? times, DecoderPhase phase)
    {
        _times = times;
        _phase = phase;
        _start = times is null ? 0 : Stopwatch.GetTimestamp();
    }

    public void Dispose() => _times?.Add(_phase, Stopwatch.GetTimestamp() - _start);
}

/// <summary>Scoped phases on an optional timer.</summary>
public static class PhaseTimesExtensions
{
    /// <summary>Times the scope that follows as <paramref name="phase"/>; nothing when <paramref name="times"/> is null.</summary>
    public static PhaseScope Phase(this DecoderPhaseTimes? times, DecoderPhase phase) => new(times, phase);
}
