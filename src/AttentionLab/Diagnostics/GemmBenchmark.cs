using System.Diagnostics;
using AttentionLab.Kernels;

namespace AttentionLab.Diagnostics;

/// <summary>One GEMM problem to time: C[m×n] = op(A)·op(B) in the given transpose form.</summary>
/// <param name="Name">What the shape is in a model, e.g. "attn.c_attn fwd".</param>
public sealed record GemmShape(string Name, int M, int N, int K, bool TransposeA, bool TransposeB)
{
    /// <summary>NN, NT, TN or TT.</summary>
    public string Form => $"{(TransposeA ? 'T' : 'N')}{(TransposeB ? 'T' : 'N')}";

    public double Flops => 2.0 * M * N * K;
}

/// <summary>The best of several timed runs of one shape.</summary>
public sealed record GemmTiming(GemmShape Shape, double Milliseconds, double Gflops, double PercentOfPeak);

/// <summary>Everything one benchmark run measured: the machine's peak, the baseline ratio and every shape.</summary>
/// <param name="PeakGflops">FMA peak on <paramref name="Threads"/> threads, measured in this run.</param>
/// <param name="BaselineShape">The small shape on which <see cref="GemmReference"/> was timed.</param>
/// <param name="SpeedupOverReference">Reference time / fast time on <paramref name="BaselineShape"/>.</param>
public sealed record GemmBenchmarkReport(string Isa, int Threads, double PeakGflops, double PeakGflopsSingleThread,
    GemmShape BaselineShape, double ReferenceMilliseconds, double SpeedupOverReference, IReadOnlyList<GemmTiming> Shapes);

/// <summary>
/// Times <see cref="Gemm.Multiply(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, bool, bool, bool, int)"/>
/// on the shapes a GPT-2 124M training step (B·T = 256 tokens) and a tiny model produce, against the FMA
/// peak measured in the same run and against the plain <see cref="GemmReference"/> on a small shape.
/// Best-of-<c>repeat</c>: the minimum is the run least disturbed by whatever else shares the cores.
/// </summary>
public static class GemmBenchmark
{
    /// <summary>GPT-2 124M with 256 tokens per step (C = 768, vocabulary 50257), forward and backward,
    /// then a tiny model (C = 128) and an attention-sized product.</summary>
    public static IReadOnlyList<GemmShape> DefaultShapes { get; } =
    [
        new("qkv fwd x·Wᵀ", 256, 2304, 768, false, true),
        new("qkv fwd x·W", 256, 2304, 768, false, false),
        new("fc fwd x·Wᵀ", 256, 3072, 768, false, true),
        new("proj fwd x·Wᵀ", 256, 768, 3072, false, true),
        new("attn.proj fwd x·Wᵀ", 256, 768, 768, false, true),
        new("lm_head fwd x·Wᵀ", 256, 50257, 768, false, true),
        new("fc bwd dX=dY·W", 256, 768, 3072, false, false),
        new("qkv bwd dX=dY·W", 256, 768, 2304, false, false),
        new("fc bwd dW=dYᵀ·X", 3072, 768, 256, true, false),
        new("proj bwd dW=dYᵀ·X", 768, 3072, 256, true, false),
        new("qkv bwd dW=dYᵀ·X", 2304, 768, 256, true, false),
        new("lm_head bwd dX=dL·E", 256, 768, 50257, false, false),
        new("lm_head bwd dE=dLᵀ·X", 50257, 768, 256, true, false),
        new("tiny qkv x·Wᵀ", 768, 384, 128, false, true),
        new("tiny proj x·Wᵀ", 768, 128, 128, false, true),
        new("tiny fc x·Wᵀ", 768, 512, 128, false, true),
        new("attention q·kᵀ", 64, 64, 32, false, true),
        new("generate x·Wᵀ", 1, 3072, 768, false, true),
        new("generate x·W", 1, 3072, 768, false, false),
    ];

    /// <summary>The shape the slow reference is timed on (it runs ~100× slower than the fast kernel).</summary>
    public static GemmShape BaselineShape { get; } = new("baseline", 128, 128, 128, false, true);

    public static GemmBenchmarkReport Run(IReadOnlyList<GemmShape> shapes, int threads, int repeat)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeat, 1);
        // The peak is measured before and after the shapes and the better kept: on a shared machine a
        // single short measurement can land in a busy moment and make every "% of peak" look too good.
        var (peakOne, peakAll) = FmaPeak.Measure(threads);

        var results = new List<GemmTiming>(shapes.Count);
        foreach (var shape in shapes)
        {
            double ms = Time(shape, repeat, threads, reference: false);
            double gflops = shape.Flops / (ms * 1e6);
            results.Add(new GemmTiming(shape, ms, gflops, 0));
        }
        (peakOne, double peak) = FmaPeak.Better((peakOne, peakAll), FmaPeak.Measure(threads), threads);
        for (int i = 0; i < results.Count; i++) results[i] = results[i] with { PercentOfPeak = 100 * results[i].Gflops / peak };
        double referenceMs = Time(BaselineShape, Math.Min(repeat, 3), threads, reference: true);
        double fastMs = Time(BaselineShape, repeat, threads, reference: false);
        return new GemmBenchmarkReport(Gemm.Isa.ToString(), threads, peak, peakOne, BaselineShape, referenceMs, referenceMs / fastMs, results);
    }

    /// <summary>Best time in milliseconds over <paramref name="repeat"/> timed batches (after one warm-up),
    /// each batch long enough (≥ ~20 ms) for the clock to resolve it.</summary>
    private static double Time(GemmShape s, int repeat, int threads, bool reference)
    {
        var random = new Random(1234);
        var a = RandomArray(random, s.M * s.K);
        var b = RandomArray(random, s.K * s.N);
        var c = new float[s.M * s.N];
        void Once()
        {
            if (reference) GemmReference.Multiply(a, b, c, s.M, s.N, s.K, s.TransposeA, s.TransposeB);
            else Gemm.Multiply(a, b, c, s.M, s.N, s.K, s.TransposeA, s.TransposeB, maxThreads: threads);
        }
        Once(); // compile, touch the pages, grow the pack buffers
        var clock = Stopwatch.StartNew();
        Once();
        double first = clock.Elapsed.TotalMilliseconds;
        int batch = (int)Math.Clamp(20.0 / Math.Max(first, 1e-3), 1, 10_000);
        double best = double.MaxValue;
        for (int r = 0; r < repeat; r++)
        {
            clock.Restart();
            for (int i = 0; i < batch; i++) Once();
            best = Math.Min(best, clock.Elapsed.TotalMilliseconds / batch);
        }
        return best;
    }

    private static float[] RandomArray(Random random, int length)
    {
        var x = new float[length];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        return x;
    }
}
