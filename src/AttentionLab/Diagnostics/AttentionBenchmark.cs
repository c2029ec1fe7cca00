using System.Diagnostics;
using AttentionLab.Attention;

namespace AttentionLab.Diagnostics;

/// <summary>How each figure of a <see cref="AttentionBenchmarkResult"/> was obtained.</summary>
public enum AttentionMeasurement
{
    /// <summary>Timed in this run.</summary>
    Measured,
    /// <summary>Estimated from this variant's largest measured length, scaled by its cost law (T² for the
    /// materializing kernels), because running it would exceed the time budget.</summary>
    Extrapolated,
    /// <summary>Not run: its buffers cannot be held in memory (estimated before allocating anything); the time is
    /// extrapolated as above when a smaller length was measured.</summary>
    TooLarge,
}

/// <summary>One variant at one sequence length.</summary>
/// <param name="Variant">the kernel's name (<see cref="IAttentionKernel.Name"/>)</param>
/// <param name="ForwardMs">best forward time in ms (null when neither measured nor extrapolated)</param>
/// <param name="ForwardBackwardMs">best forward + backward time in ms</param>
/// <param name="PeakBytes">bytes the forward + backward needs at once: inputs, output, saved state, gradients and
/// scratch (see <see cref="AttentionBenchmark"/>); for a variant too large to run, the estimate</param>
/// <param name="MaxAbsError">max |output − exact output| against <see cref="ErrorBaseline"/> (null when not run)</param>
/// <param name="ErrorBaseline">the exact kernel the error is measured against</param>
public sealed record AttentionBenchmarkResult(string Variant, int SequenceLength, double? ForwardMs, double? ForwardBackwardMs,
    long PeakBytes, double? MaxAbsError, string? ErrorBaseline, AttentionMeasurement Measurement, bool IsExact)
{
    /// <summary>This variant's forward + backward time / naive's at the same length (null without both).</summary>
    public double? SpeedupOverNaive { get; init; }

    /// <summary>naive's peak bytes / this variant's at the same length.</summary>
    public double? MemoryRatioToNaive { get; init; }

    /// <summary>The attention's own memory: <see cref="PeakBytes"/> less the eight (B, H, T, D) buffers every variant
    /// needs (q, k, v, o, dO, dq, dk, dv) — the saved state and scratch, O(T²) for materializing kernels, O(T) for Flash.</summary>
    public long StateBytes { get; init; }
}

/// <summary>What to run.</summary>
/// <param name="Variants">kernel names as <see cref="AttentionKernels.Parse"/> reads them; "naive" is the baseline</param>
/// <param name="SequenceLengths">T (self-attention: Tq = Tk = T)</param>
/// <param name="Repeat">timed runs per point after an untimed cold run, best kept (runs over 2 s are not repeated, and a cold
/// run over 2 s is used as the timing)</param>
/// <param name="TimeBudgetSeconds">a point whose estimated forward + backward time exceeds this is extrapolated, not run</param>
/// <param name="MemoryBudgetBytes">a point whose estimated peak exceeds this is reported as too large, not run</param>
/// <param name="InputStd">standard deviation of the random q and k entries (v is standard normal): Performer's error grows
/// with |q|·|k|, so its error curve depends on it</param>
public sealed record AttentionBenchmarkOptions(IReadOnlyList<string> Variants, IReadOnlyList<int> SequenceLengths,
    int Batch = 1, int Heads = 8, int HeadDim = 64, bool Causal = false, int Repeat = 3,
    double TimeBudgetSeconds = 20, long MemoryBudgetBytes = 0, int Seed = 1, double InputStd = 1);

/// <summary>
/// Times attention kernels over sequence lengths — forward, and forward + backward — and counts the memory each
/// needs, so that O(T²), O(T·W) and O(T·F) costs are visible side by side (<c>attnlab bench attention</c>).
/// <para>
/// Peak memory is <b>explicit accounting</b>, not a process measurement (the process's working set mixes in the
/// runtime, the JIT and other variants' pooled buffers): q, k, v, output, dO, dq, dk, dv (each B·H·T·D floats),
/// the kernel's saved state (<see cref="IAttentionKernel.SavedLength"/> floats) and the managed bytes the calls
/// allocate (<see cref="GC.GetTotalAllocatedBytes(bool)"/> across all threads, first call, so buffers rented from
/// the shared pools are counted when they are first created; the counter is process-wide, so the benchmark must be the
/// only thing running, as it is under <c>attnlab bench attention</c>). Kernels that allocate nothing but pooled tile
/// scratch show their tiles' size only on their first call.
/// </para>
/// Points that would run too long are extrapolated from the variant's largest measured length by T² (by T for window and
/// performer, <see cref="CostExponent"/>); points
/// whose buffers cannot be held are reported, not run. The error is the forward output's max absolute difference
/// from an exact kernel on the same inputs: naive where it ran, else fast, else flash.
/// </summary>
public static class AttentionBenchmark
{
    /// <summary>The budget when none is given: 60% of the memory the runtime says is available.</summary>
    public static long DefaultMemoryBudget => (long)(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes * 0.6);

    /// <summary>Bytes of one point's buffers before running it (no scratch): the estimate behind "too large".</summary>
    public static long EstimateBytes(IAttentionKernel kernel, AttentionShape shape)
    {
        long io = 8L * shape.QueryElements * sizeof(float);             // q, k, v, o, dO, dq, dk, dv
        long saved = kernel.SavedLength(shape) * sizeof(float);
        // naive and fast also allocate a (B, H, Tq, Tk) weight buffer when backward recomputes or materializes
        return io + saved;
    }

    /// <summary>Whether an array of this many floats can exist at all (.NET arrays hold at most Array.MaxLength).</summary>
    private static bool Addressable(IAttentionKernel kernel, AttentionShape shape) =>
        kernel.SavedLength(shape) <= Array.MaxLength && (long)shape.QueryElements <= Array.MaxLength;

    public static IReadOnlyList<AttentionBenchmarkResult> Run(AttentionBenchmarkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Variants.Count == 0) throw new ArgumentException("give at least one attention variant");
        if (options.SequenceLengths.Count == 0 || options.SequenceLengths.Any(t => t < 1))
            throw new ArgumentException("sequence lengths must be at least 1");
        if (options.Batch < 1 || options.Heads < 1 || options.HeadDim < 1) throw new ArgumentException("batch, heads and head dimension must be at least 1");
        var kernels = options.Variants.Select(AttentionKernels.Parse).ToList(); // throws on unknown names, before any work
        long memoryBudget = options.MemoryBudgetBytes > 0 ? options.MemoryBudgetBytes : DefaultMemoryBudget;
        var attention = new AttentionOptions { IsCausal = options.Causal };

        var results = new List<AttentionBenchmarkResult>();
        // the largest measured (T, fwd ms, fwd+bwd ms) of each variant, for extrapolation
        var lastMeasured = new Dictionary<string, (int T, double Fwd, double FwdBwd)>();
        foreach (int T in options.SequenceLengths.Order())
        {
            var shape = AttentionShape.Self(options.Batch, options.Heads, T, options.HeadDim);
            if ((long)shape.QueryElements > Array.MaxLength)
                throw new ArgumentException($"B·H·T·D = {(long)shape.QueryElements} floats is more than one array can hold");
            var random = new Random(options.Seed + T);
            var q = Normal(random, shape.QueryElements, options.InputStd);
            var k = Normal(random, shape.KeyElements, options.InputStd);
            var v = Normal(random, shape.KeyElements);
            var dO = Normal(random, shape.QueryElements);
            float[]? exact = null;
            string? exactName = null;
            var rows = new List<AttentionBenchmarkResult>();

            // exact baselines first (naive, fast, flash) so the approximations have a reference output
            foreach (var kernel in kernels.OrderBy(BaselineRank))
            {
                string name = kernel.Name;
                long estimate = EstimateBytes(kernel, shape);
                bool fits = Addressable(kernel, shape) && estimate <= memoryBudget;
                lastMeasured.TryGetValue(name, out var last);
                double growth = last.T > 0 ? Math.Pow((double)T / last.T, CostExponent(kernel)) : double.NaN;
                double? predicted = last.T > 0 ? last.FwdBwd * growth : null;
                bool tooSlow = predicted is { } p && p > options.TimeBudgetSeconds * 1000;
                if (!fits || tooSlow)
                {
                    double scale = growth;
                    rows.Add(new AttentionBenchmarkResult(name, T,
                        last.T > 0 ? last.Fwd * scale : null, last.T > 0 ? last.FwdBwd * scale : null,
                        estimate, null, null, fits ? AttentionMeasurement.Extrapolated : AttentionMeasurement.TooLarge, kernel.IsExact));
                    continue;
                }
                (double, double, long, float[]) measured;
                try { measured = Measure(kernel, q, k, v, dO, shape, attention, options.Repeat); }
                catch (OutOfMemoryException)
                {
                    rows.Add(new AttentionBenchmarkResult(name, T, null, null, estimate, null, null, AttentionMeasurement.TooLarge, kernel.IsExact));
                    continue;
                }
                var (fwd, fwdBwd, bytes, output) = measured;
                double? error = null;
                if (exact is not null) error = MaxAbsDifference(output, exact);
                else if (kernel.IsExact) { exact = output; exactName = name; error = 0; }
                rows.Add(new AttentionBenchmarkResult(name, T, fwd, fwdBwd, bytes, error, error is null ? null : exactName,
                    AttentionMeasurement.Measured, kernel.IsExact));
                lastMeasured[name] = (T, fwd, fwdBwd);
            }
            // report in the order asked, with ratios to naive
            var naive = rows.FirstOrDefault(r => r.Variant == "naive");
            foreach (var kernel in kernels)
            {
                var r = rows.First(x => x.Variant == kernel.Name);
                if (naive is not null)
                    r = r with
                    {
                        SpeedupOverNaive = naive.ForwardBackwardMs is { } n && r.ForwardBackwardMs is { } m && m > 0 ? n / m : null,
                        MemoryRatioToNaive = r.PeakBytes > 0 ? (double)naive.PeakBytes / r.PeakBytes : null,
                    };
                results.Add(r with { StateBytes = Math.Max(0, r.PeakBytes - 8L * shape.QueryElements * sizeof(float)) });
            }
        }
        return results;
    }

    /// <summary>naive first (the yardstick), then the other exact kernels, then approximations.</summary>
    private static int BaselineRank(IAttentionKernel k) => k.Name == "naive" ? 0 : k.Name == "fast" ? 1 : k.IsExact ? 2 : 3;

    /// <summary>How time grows with T: linearly for window (O(T·W)) and Performer (O(T·F·D)), quadratically for the rest.</summary>
    public static int CostExponent(IAttentionKernel kernel) => kernel is WindowAttention or PerformerAttention ? 1 : 2;

    private static (double Fwd, double FwdBwd, long Bytes, float[] Output) Measure(IAttentionKernel kernel,
        float[] q, float[] k, float[] v, float[] dO, AttentionShape shape, AttentionOptions options, int repeat)
    {
        var output = new float[shape.QueryElements];
        var dq = new float[shape.QueryElements];
        var dk = new float[shape.KeyElements];
        var dv = new float[shape.KeyElements];
        long savedLength = kernel.SavedLength(shape);

        // first (cold) call, untimed (it pays for the JIT): count what it allocates beyond the buffers it was given
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var saved = new float[savedLength];
        var sw = Stopwatch.StartNew();
        kernel.Forward(q, k, v, shape, options, output, saved);
        double coldFwd = sw.Elapsed.TotalMilliseconds;
        kernel.Backward(q, k, v, output, saved, dO, shape, options, dq, dk, dv);
        double cold = sw.Elapsed.TotalMilliseconds;
        long scratch = GC.GetTotalAllocatedBytes(precise: true) - before - savedLength * sizeof(float);
        long bytes = 8L * shape.QueryElements * sizeof(float) + savedLength * sizeof(float) + Math.Max(0, scratch);

        // then the timed runs: at least one, more while a run takes under 2 s; a cold run over 2 s is timed as it is
        // (the JIT's share is negligible there) rather than run again
        if (cold >= 2000) return (coldFwd, cold, bytes, output);
        double fwd = double.PositiveInfinity, fwdBwd = double.PositiveInfinity;
        for (int r = 0; r < repeat && (r == 0 || fwdBwd < 2000); r++)
        {
            sw.Restart();
            kernel.Forward(q, k, v, shape, options, output, saved);
            double f = sw.Elapsed.TotalMilliseconds;
            kernel.Backward(q, k, v, output, saved, dO, shape, options, dq, dk, dv);
            double fb = sw.Elapsed.TotalMilliseconds;
            fwd = Math.Min(fwd, f);
            fwdBwd = Math.Min(fwdBwd, fb);
        }
        return (fwd, fwdBwd, bytes, output);
    }

    private static double MaxAbsDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        return max;
    }

    private static float[] Normal(Random random, int count, double std = 1)
    {
        var data = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            data[i] = (float)(std * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return data;
    }
}
