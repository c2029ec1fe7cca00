namespace AttentionLab.Models;

/// <summary>How a GPT-2 tells positions apart (<see cref="DecoderConfig.Positions"/>).</summary>
public enum PositionEncoding
{
    /// <summary>GPT-2's trained table wpe (T, C), added to the token embeddings.</summary>
    Learned,
    /// <summary>Vaswani et al. (2017)'s fixed sines and cosines, added to the token embeddings and never trained.</summary>
    Sinusoidal,
    /// <summary>Nothing: the model sees a bag of tokens (causal attention still leaks some order, see docs/experiments/positions.md).</summary>
    None,
    /// <summary>Rotary position embeddings (Su et al. 2021, RoFormer), Llama's: no table is added to the embeddings;
    /// each head's queries and keys are rotated by an angle proportional to their position, so q·k depends only on
    /// the offset between them (<see cref="DecoderConfig.RopeTheta"/>, <see cref="DecoderConfig.RopeScaling"/>).</summary>
    Rotary,
}

/// <summary>Names of <see cref="PositionEncoding"/> as config.json and the command line spell them.</summary>
public static class PositionEncodings
{
    /// <summary>"learned", "sinusoidal", "none", "rope".</summary>
    public static string Name(PositionEncoding encoding) => encoding switch
    {
        PositionEncoding.Learned => "learned",
        PositionEncoding.Sinusoidal => "sinusoidal",
        PositionEncoding.None => "none",
        PositionEncoding.Rotary => "rope",
        _ => throw new ArgumentOutOfRangeException(nameof(encoding)),
    };

    /// <exception cref="ArgumentException">an unknown name; the message lists the known ones</exception>
    public static PositionEncoding Parse(string name) => name switch
    {
        "learned" => PositionEncoding.Learned,
        "sinusoidal" => PositionEncoding.Sinusoidal,
        "none" => PositionEncoding.None,
        "rope" => PositionEncoding.Rotary,
        _ => throw new ArgumentException($"unknown position encoding '{name}'; known: learned, sinusoidal, none, rope"),
    };
}

/// <summary>
/// The fixed position table of "Attention Is All You Need" (§3.5):
/// <code>
/// PE[pos, 2i]     = sin(pos / 10000^(2i/C))
/// PE[pos, 2i + 1] = cos(pos / 10000^(2i/C))
/// </code>
/// Each pair of channels is a rotation at its own frequency, so PE[pos + k] is a linear function of PE[pos] and a
/// head can learn relative offsets; the wavelengths run from 2π to 10000·2π.
/// </summary>
public static class SinusoidalPositions
{
    /// <summary>
    /// The factor GPT-2 applies to the table: its entries have RMS 1/√2, GPT-2's token embeddings start with RMS 0.02,
    /// so the table is scaled to RMS 0.02 (Vaswani instead multiply the embeddings by √C to meet the table). Unscaled,
    /// the positions are fifty times louder than the tokens and, after LayerNorm, drown them.
    /// </summary>
    public static readonly float Gpt2Scale = 0.02f * MathF.Sqrt(2);

    /// <param name="scale">multiplies every entry (1 = the formula as written)</param>
    /// <returns>(T, C) row-major</returns>
    public static float[] Table(int positions, int channels, float scale = 1f)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(positions);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        var table = new float[positions * channels];
        for (int pos = 0; pos < positions; pos++)
            for (int c = 0; c < channels; c++)
            {
                int pair = c / 2;                                               // i
                double angle = pos / Math.Pow(10000, 2.0 * pair / channels);    // pos / 10000^(2i/C)
                table[pos * channels + c] = scale * (float)(c % 2 == 0 ? Math.Sin(angle) : Math.Cos(angle));
            }
        return table;
    }
}
