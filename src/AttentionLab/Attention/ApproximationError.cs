namespace AttentionLab.Attention;

/// <summary>
/// How far an approximate kernel's output (or weights) is from exact attention on the same inputs: the figure
/// <c>inspect</c> and the Explorer's playground show for Performer (and any other approximation) and the tests track
/// as F grows. <see cref="Compare"/> is the one computation; <see cref="Measure"/> runs the two kernels first.
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
        return Compare(approximate, reference, exact.Name);
    }

    /// <summary>
    /// The one definition of the three figures: <paramref name="approximate"/> against <paramref name="exact"/>, element
    /// by element. <see cref="Measure"/> compares outputs with it; the Explorer's playground (and inspect) compare
    /// attention weights (B, H, Tq, Tk) with it.
    /// </summary>
    /// <param name="approximate">(N) any layout, the same as <paramref name="exact"/>'s</param>
    /// <param name="exact">(N)</param>
    /// <param name="exactName">the exact kernel <paramref name="exact"/> came from</param>
    /// <param name="meanOver">what <see cref="MeanAbs"/> divides the summed error by: N unless given. For weights under a
    /// mask, the number of visible cells: masked cells are 0 in both, so the mean is over the cells attention may use.</param>
    public static ApproximationError Compare(ReadOnlySpan<float> approximate, ReadOnlySpan<float> exact, string exactName, int? meanOver = null)
    {
        ArgumentNullException.ThrowIfNull(exactName);
        if (approximate.Length != exact.Length) throw new ArgumentException($"the approximation has {approximate.Length} values but the exact result {exact.Length}");
        double max = 0, sum = 0, sq = 0, refSq = 0;
        for (int i = 0; i < approximate.Length; i++)
        {
            double e = Math.Abs((double)approximate[i] - exact[i]);
            max = Math.Max(max, e);
            sum += e;
            sq += e * e;
            refSq += (double)exact[i] * exact[i];
        }
        int n = Math.Max(1, meanOver ?? approximate.Length);
        return new ApproximationError(max, sum / n, refSq > 0 ? Math.Sqrt(sq / refSq) : Math.Sqrt(sq), exactName);
    }
}
