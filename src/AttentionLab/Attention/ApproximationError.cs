namespace AttentionLab.Attention;

/// <summary>
/// How far an approximate kernel's output is from exact attention on the same inputs: the figure
/// <c>inspect</c> shows for Performer (and any other approximation) and the tests track as F grows.
/// </summary>
/// <param name="MaxAbs">max over every output element of |approximate − exact|</param>
/// <param name="MeanAbs">mean of |approximate − exact|</param>
/// <param name="RelativeRms">√(Σ (approximate − exact)²) / √(Σ exact²): the error relative to the output's size</param>
/// <param name="Exact">the exact kernel it was measured against</param>
public sealed record ApproximationError(double MaxAbs, double MeanAbs, double RelativeRms, string Exact)
{
    /// <summary>Runs <paramref name="kernel"/> and an exact kernel (<c>flash</c> unless given) forward and compares outputs.</summary>
    /// <param name="q">(B, H, Tq, D)</param>
    /// <param name="k">(B, H, Tk, D)</param>
    /// <param name="v">(B, H, Tk, D)</param>
    public static ApproximationError Measure(IAttentionKernel kernel, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        AttentionShape shape, AttentionOptions options, IAttentionKernel? exact = null)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        exact ??= AttentionKernels.Parse("flash");
        if (!exact.IsExact) throw new ArgumentException($"the error must be measured against an exact kernel, not '{exact.Name}'");
        var approximate = new float[shape.QueryElements];
        var reference = new float[shape.QueryElements];
        kernel.Forward(q, k, v, shape, options, approximate, default);
        exact.Forward(q, k, v, shape, options, reference, default);
        double max = 0, sum = 0, sq = 0, refSq = 0;
        for (int i = 0; i < approximate.Length; i++)
        {
            double e = Math.Abs((double)approximate[i] - reference[i]);
            max = Math.Max(max, e);
            sum += e;
            sq += e * e;
            refSq += (double)reference[i] * reference[i];
        }
        int n = Math.Max(1, approximate.Length);
        return new ApproximationError(max, sum / n, refSq > 0 ? Math.Sqrt(sq / refSq) : Math.Sqrt(sq), exact.Name);
    }
}
