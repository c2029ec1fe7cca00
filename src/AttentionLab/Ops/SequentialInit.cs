namespace AttentionLab.Ops;

/// <summary>
/// Initialisation drawn from one <see cref="Random"/> in order, value after value, as the module-per-layer code drew
/// it (nn.Linear's U(±1/√in), the embeddings' N(0, σ²)). The models replay these draws in their saved order, so a
/// seed gives the same weights it always gave. (Big tables use the parallel <see cref="ParameterInit"/> instead.)
/// </summary>
public static class SequentialInit
{
    /// <summary>U(−bound, bound): nn.Linear's default with bound = 1/√in.</summary>
    public static void Uniform(Random random, Span<float> values, float bound)
    {
        ArgumentNullException.ThrowIfNull(random);
        for (int i = 0; i < values.Length; i++) values[i] = (float)((random.NextDouble() * 2 - 1) * bound);
    }

    /// <summary>N(0, std²) by Box–Muller, the cosine half: two draws per value.</summary>
    public static void Normal(Random random, Span<float> values, double std)
    {
        ArgumentNullException.ThrowIfNull(random);
        for (int i = 0; i < values.Length; i++)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            values[i] = (float)(std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
    }
}
