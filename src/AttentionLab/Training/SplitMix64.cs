namespace AttentionLab.Training;

/// <summary>
/// A tiny random number generator whose whole state is one <see cref="ulong"/> (Steele, Lea &amp; Flood 2014,
/// "Fast splittable pseudorandom number generators"). Unlike <see cref="Random"/>, the state can be saved
/// in a checkpoint and restored, which is what makes <c>--resume</c> continue exactly.
/// </summary>
public struct SplitMix64(ulong state)
{
    /// <summary>The full generator state; assign it to rewind or restore.</summary>
    public ulong State = state;

    public ulong NextUInt64()
    {
        ulong z = State += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, <paramref name="n"/>) (multiply-shift; the bias is below 2⁻³² for n &lt; 2³²).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), "n must be positive");
        return (int)Math.BigMul(NextUInt64(), (ulong)n, out _);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
}
