using System.Globalization;
using System.Text.Json;
using AttentionLab.Diagnostics;
using AttentionLab.Models;

namespace AttentionLab.Cli.Commands;

/// <summary><c>attnlab bench train</c>: ms per GPT-2 training step with a per-phase breakdown and % of FMA peak.</summary>
public static class BenchTrainCommand
{
    public const string Summary = "GPT-2 training step: ms/step, phases, tokens/s, % of FMA peak [--preset gpt2-124m|char] [--batch B] [--context T] [--steps S] [--json]";

    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        var args = new Args(argv);
        if (args.Help)
        {
            stdout.WriteLine("usage: attnlab bench train [--preset NAME] [--batch B] [--context T] [--steps S] [--warmup W] [--attention NAME] [--json]");
            stdout.WriteLine("  --preset NAME  gpt2-124m (default: B 4, T 64) or char (nanoGPT's CPU config: B 12, T 64); also gpt2-medium, tiny");
            stdout.WriteLine("  --batch B      sequences per step");
            stdout.WriteLine("  --context T    tokens per sequence (≤ the preset's context; --seq-len and --length are the same option)");
            stdout.WriteLine("  --steps S      timed steps, best kept (default 5)");
            stdout.WriteLine("  --warmup W     untimed steps first (default 1)");
            stdout.WriteLine($"  --attention NAME  attention kernel ({string.Join(", ", AttentionLab.Attention.AttentionKernels.Names)}; default fast; --kernel is the same)");
            stdout.WriteLine(CommandSupport.DeviceHelp);
            return 0;
        }
        string preset = args.String("preset") ?? "gpt2-124m";
        DecoderConfig config;
        try { config = DecoderConfig.Preset(preset); }
        catch (ArgumentException e) { throw new CliError(Cli.OneLine(e.Message)); }
        bool isChar = config.VocabSize < 1000;
        int batch = args.Int("batch", isChar ? 12 : 4, 1, 4096);
        int length = args.Int("context", Math.Min(64, config.ContextLength), 1, config.ContextLength); // --length, --seq-len: the same option
        int steps = args.Int("steps", 5, 1, 10_000);
        int warmup = args.Int("warmup", 1, 0, 10_000);
        if (args.Has("kernel") && args.Has("attention")) throw new CliError("give --attention or --kernel, not both");
        string kernel = CommandSupport.Kernel(args.String("attention") ?? args.String("kernel")).Name;
        bool json = args.Json;
        string device = CommandSupport.Device(args.String("device"));
        args.EnsureAllUsed();
        if (device == "cuda") return CudaCommands.BenchTrain(preset, config, batch, length, steps, warmup, kernel, json, stdout);

        var r = TrainBenchmark.Run(preset, config, batch, length, steps, warmup, kernel);
        if (json) WriteJson(r, stdout); else WriteTable(r, stdout);
        return 0;
    }

    private static void WriteTable(TrainBenchmarkReport r, TextWriter w)
    {
        var inv = CultureInfo.InvariantCulture;
        var c = r.Config;
        w.WriteLine(string.Create(inv, $"GPT-2 '{r.Name}' training step: {r.Parameters:N0} parameters (L {c.Layers}, C {c.Channels}, H {c.Heads}, V {c.VocabSize}), B {r.Batch} × T {r.Length}, {r.Threads} thread(s), attention '{r.AttentionKernel}'"));
        w.WriteLine(string.Create(inv, $"best {r.BestMilliseconds:F1} ms/step (median {r.MedianMilliseconds:F1} of {r.Steps}), {r.TokensPerSecond:F0} tokens/s"));
        w.WriteLine(string.Create(inv, $"{r.FlopsPerStep / 1e9:F2} GFLOP/step → {r.Gflops:F1} GFLOP/s = {r.PercentOfPeak:F1}% of the measured FMA peak {r.PeakGflops:F1} GFLOP/s"));
        w.WriteLine(string.Create(inv, $"loss {r.FirstLoss:F4} → {r.LastLoss:F4}"));
        w.WriteLine();
        w.WriteLine($"{"phase",-24} {"ms",9} {"%",6}");
        foreach (var p in r.Phases.Where(p => p.Milliseconds > 0))
            w.WriteLine(string.Create(inv, $"{p.Phase,-24} {p.Milliseconds,9:F2} {p.Percent,5:F1}%"));
        w.WriteLine();
        double Sum(params DecoderPhase[] phases) => r.Phases.Where(p => phases.Contains(p.Phase)).Sum(p => p.Milliseconds);
        double forward = Sum(DecoderPhase.Embedding, DecoderPhase.LayerNorm, DecoderPhase.Matmul, DecoderPhase.Attention, DecoderPhase.Gelu, DecoderPhase.Residual, DecoderPhase.LmHead, DecoderPhase.Loss);
        double backward = Sum(DecoderPhase.BackwardLossAndLmHead, DecoderPhase.BackwardMatmul, DecoderPhase.BackwardAttention, DecoderPhase.BackwardLayerNorm, DecoderPhase.BackwardGelu, DecoderPhase.BackwardOther);
        double matmul = Sum(DecoderPhase.Matmul, DecoderPhase.LmHead, DecoderPhase.BackwardMatmul, DecoderPhase.BackwardLossAndLmHead);
        w.WriteLine(string.Create(inv, $"forward {forward:F1} ms, backward {backward:F1} ms, optimizer {Sum(DecoderPhase.ZeroGrad, DecoderPhase.AdamW):F1} ms; matrix multiplies (lm head included) {matmul:F1} ms = {100 * matmul / r.BestMilliseconds:F0}% of the step"));
    }

    private static void WriteJson(TrainBenchmarkReport r, TextWriter w)
    {
        var o = new
        {
            preset = r.Name,
            parameters = r.Parameters,
            batch = r.Batch, context = r.Length, threads = r.Threads, attention = r.AttentionKernel, steps = r.Steps,
            ms_per_step = r.BestMilliseconds, median_ms_per_step = r.MedianMilliseconds, tokens_per_s = r.TokensPerSecond,
            gflop_per_step = r.FlopsPerStep / 1e9, gflops = r.Gflops, peak_gflops = r.PeakGflops, percent_of_peak = r.PercentOfPeak,
            first_loss = r.FirstLoss, last_loss = r.LastLoss,
            phases = r.Phases.ToDictionary(p => p.Phase.ToString(), p => p.Milliseconds),
        };
        w.WriteLine(JsonSerializer.Serialize(o, new JsonSerializerOptions { WriteIndented = true }));
    }
}
