using System.Diagnostics;
using AttentionLab.Attention;
using AttentionLab.Models;
using AttentionLab.Training;

namespace AttentionLab.Diagnostics;

/// <summary>Time of one part of the step (the best step's breakdown).</summary>
public sealed record TrainPhaseTiming(DecoderPhase Phase, double Milliseconds, double Percent);

/// <summary>What one <see cref="TrainBenchmark"/> run measured.</summary>
/// <param name="BestMilliseconds">fastest full step (zero grad, forward, backward, AdamW)</param>
/// <param name="FlopsPerStep">tokens · (6·N + 12·L·C·T): matmul flops forward and backward (N excludes the
/// position table, which does no arithmetic) plus attention's q·kᵀ and p·v (PaLM appendix B)</param>
/// <param name="PercentOfPeak">achieved GFLOP/s over the FMA peak measured in the same run</param>
public sealed record TrainBenchmarkReport(string Name, DecoderConfig Config, int Batch, int Length, int Threads, string AttentionKernel,
    long Parameters, int Steps, double BestMilliseconds, double MedianMilliseconds, double TokensPerSecond,
    double FlopsPerStep, double Gflops, double PeakGflops, double PercentOfPeak,
    IReadOnlyList<TrainPhaseTiming> Phases, float FirstLoss, float LastLoss);

/// <summary>
/// Milliseconds per GPT-2 training step (<see cref="DecoderModel.Forward"/>, <see cref="DecoderModel.Backward"/> writing
/// the gradients rather than adding to them, so no ZeroGrad pass, and <see cref="AdamW.Step"/>) on random tokens, best of several steps after a
/// warm-up, with the per-phase breakdown of the best step and the fraction of the machine's FMA peak.
/// </summary>
public static class TrainBenchmark
{
    public static TrainBenchmarkReport Run(string name, DecoderConfig config, int batch, int length, int steps = 5, int warmup = 1,
        string attentionKernel = "fast", int seed = 1337, bool measurePeak = true)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, config.ContextLength);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(warmup);

        var model = new DecoderModel(config, AttentionKernels.Parse(attentionKernel));
        model.InitializeWeights(seed);
        var optimizer = new AdamW(model.Layout.Count, new AdamWOptions { LearningRate = 1e-4f, WeightDecay = 0.1f },
            model.Layout.Matrices.Select(v => (v.Offset, v.Length)));
        var random = new Random(seed);
        int n = batch * length;
        var tokens = new int[n + 1];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = random.Next(config.VocabSize);
        var x = tokens.AsSpan(0, n).ToArray();
        var y = tokens.AsSpan(1, n).ToArray();

        // The peak is measured before and after the steps and the better kept (FmaPeak.Better, as `bench gemm` does).
        var peakBefore = measurePeak ? FmaPeak.Measure(Environment.ProcessorCount, repeat: 3) : default;
        var timer = new DecoderPhaseTimes();
        var phases = Enum.GetValues<DecoderPhase>();
        var times = new List<double>();
        double best = double.MaxValue;
        var bestPhases = new double[phases.Length];
        float first = float.NaN, last = float.NaN;
        for (int s = 0; s < warmup + steps; s++)
        {
            model.Timer = s >= warmup ? timer : null;
            timer.Reset();
            long start = Stopwatch.GetTimestamp();
            // no ZeroGrad: Backward overwrites the gradients (no micro-batch accumulation here)
            float loss = model.Forward(x, batch, length, y);
            model.Backward(accumulate: false);
            long adam = Stopwatch.GetTimestamp();
            optimizer.Step(model.Parameters.Data, model.Gradients.Data);
            long end = Stopwatch.GetTimestamp();
            timer.Add(DecoderPhase.AdamW, end - adam);
            if (s == 0) first = loss;
            last = loss;
            if (s < warmup) continue;
            double ms = (end - start) * 1000.0 / Stopwatch.Frequency;
            times.Add(ms);
            if (ms < best)
            {
                best = ms;
                for (int p = 0; p < phases.Length; p++) bestPhases[p] = timer.Milliseconds(phases[p]);
            }
        }
        model.Timer = null;
        times.Sort();
        double median = times[times.Count / 2];
        double flops = FlopsPerStep(config, batch, length);
        double gflops = flops / (best / 1000) / 1e9;
        double peak = measurePeak
            ? FmaPeak.Better(peakBefore, FmaPeak.Measure(Environment.ProcessorCount, repeat: 3), Environment.ProcessorCount).AllThreads
            : double.NaN;
        var phaseList = phases.Select((p, i) => new TrainPhaseTiming(p, bestPhases[i], 100 * bestPhases[i] / best)).ToList();
        return new TrainBenchmarkReport(name, config, batch, length, Environment.ProcessorCount, attentionKernel, model.ParameterCount,
            steps, best, median, n / (best / 1000), flops, gflops, peak, 100 * gflops / peak, phaseList, first, last);
    }

    /// <summary>tokens · (6·N + 12·L·C·T), N without the position table.</summary>
    public static double FlopsPerStep(DecoderConfig c, int batch, int length)
    {
        double n = c.ParameterCount - (double)c.ContextLength * c.Channels;
        return (double)batch * length * (6 * n + 12.0 * c.Layers * c.Channels * length);
    }
}
