using System.Reflection;
using System.Runtime.InteropServices;

namespace AttentionLab.Training;

/// <summary>
/// Puts saved moments and a step count back into an <see cref="AdamW"/>. AdamW exposes its moments
/// read-only and has no restore method yet, so this writes through the spans it exposes and sets the
/// step count's private setter. (To replace with a public <c>AdamW.Restore(m, v, step)</c> when it exists.)
/// </summary>
internal static class AdamWState
{
    public static void Restore(AdamW optimizer, ReadOnlySpan<float> firstMoment, ReadOnlySpan<float> secondMoment, int step)
    {
        var m = optimizer.FirstMoment; var v = optimizer.SecondMoment;
        firstMoment.CopyTo(MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(m), m.Length));
        secondMoment.CopyTo(MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(v), v.Length));
        var property = typeof(AdamW).GetProperty(nameof(AdamW.StepCount), BindingFlags.Instance | BindingFlags.Public)
            ?? throw new InvalidOperationException("AdamW.StepCount is missing");
        var setter = property.GetSetMethod(nonPublic: true) ?? throw new InvalidOperationException("AdamW.StepCount has no setter");
        setter.Invoke(optimizer, [step]);
    }
}
