using System.Text.Json;
using AttentionLab.Attention;
using AttentionLab.Cli.Commands;
using AttentionLab.Cuda;
using AttentionLab.Kernels;
using AttentionLab.Models;
using AttentionLab.Tests.Cli;
using AttentionLab.Training;

namespace AttentionLab.Tests.Cuda;

/// <summary>
/// <c>train --device cuda</c> through the one training loop (<see cref="Trainer"/> on a <see cref="CudaTrainingBackend"/>),
/// on ILGPU's CPU simulator: every step's loss and every validation loss equal the CPU run's to float32 rounding
/// (1e-5 relative: the device sums in another order, and scatters dwte with atomic adds), a checkpoint written from the
/// device and resumed on it continues as the CPU run and as the uninterrupted device run (same tolerance), and the CLI
/// path (progress, checkpoints, --resume) gives the CPU command's losses.
/// </summary>
[Collection("Gpu")]
public sealed class CudaTrainingLoopTests(GpuFixture gpu) : IDisposable
{
    /// <summary>Relative tolerance on losses: float32 rounding of a sum over B·T positions computed in another order.</summary>
    private const double LossTolerance = 1e-5;

    private static readonly DecoderConfig Config = new() { ContextLength = 8, Layers = 2, Channels = 16, Heads = 2 };
    private static readonly TrainingOptions Options = new()
    {
        BatchSize = 2, Steps = 6, WarmupSteps = 1, LearningRate = 1e-2, MinLearningRate = 1e-3, EvalEvery = 3, EvalBatches = 1, GradientClip = 0.5,
    };

    private readonly string _root = Path.Combine(Path.GetTempPath(), $"attnlab-cuda-loop-{Guid.NewGuid():N}");

    public void Dispose() { if (Directory.Exists(_root)) Directory.Delete(_root, true); }

    private string Data()
    {
        Directory.CreateDirectory(_root);
        var path = Path.Combine(_root, "data.txt");
        File.WriteAllText(path, File.ReadAllText(Path.Combine(RepoRoot.Path, "data", "tinyshakespeare.txt"))[..4000]);
        return path;
    }

    private ComputeDevice OnDevice => new CudaComputeDevice(gpu.Gpu);

    private static void Close(double actual, double expected, string what) =>
        Assert.True(Math.Abs(actual - expected) <= LossTolerance * Math.Abs(expected), $"{what}: {actual} vs {expected}");

    private static List<StepReport> Steps(DecoderTrainingRun run, int count) => Enumerable.Range(0, count).Select(_ => run.Trainer.Step()).ToList();

    [Fact]
    public void DeviceRun_CheckpointedAndResumed_FollowsTheCpuRun()
    {
        var data = Data();
        var corpus = Corpus.Load(data, "char");
        var flash = AttentionKernels.Parse("flash");
        List<StepReport> cpu, straight, resumed;
        using (var run = DecoderTrainingRun.Start(corpus, data, Config, Options, Path.Combine(_root, "cpu"), flash))
            cpu = Steps(run, 6);
        using (var run = DecoderTrainingRun.Start(corpus, data, Config, Options, Path.Combine(_root, "straight"), flash, device: OnDevice))
        {
            Assert.Equal("cuda", run.Trainer.Backend.Device);
            straight = Steps(run, 6);
        }
        var dir = Path.Combine(_root, "resumed");
        using (var run = DecoderTrainingRun.Start(corpus, data, Config, Options, dir, flash, device: OnDevice))
        {
            resumed = Steps(run, 3);
            run.Checkpoint(); // weights and moments come back from the device into the shared checkpoint format
        }
        var saved = TrainingCheckpoint.LoadState(dir);
        Assert.Equal(3, saved.State.Step);
        Assert.Equal(3, saved.OptimizerStep);
        using (var run = DecoderTrainingRun.Resume(dir, null, null, null, OnDevice))
        {
            Assert.IsType<CudaTrainingBackend>(run.Trainer.Backend);
            resumed.AddRange(Steps(run, 3));
            Assert.True(run.Trainer.IsFinished);
        }
        for (int s = 0; s < 6; s++)
        {
            Close(straight[s].Loss, cpu[s].Loss, $"step {s + 1} loss, device vs CPU");
            Close(resumed[s].Loss, cpu[s].Loss, $"step {s + 1} loss, resumed device vs CPU");
            Close(resumed[s].Loss, straight[s].Loss, $"step {s + 1} loss, resumed vs uninterrupted device");
            Assert.Equal(cpu[s].ValidationLoss.HasValue, resumed[s].ValidationLoss.HasValue);
            if (cpu[s].ValidationLoss is double v) Close(resumed[s].ValidationLoss!.Value, v, $"validation after step {s + 1}");
        }
    }

    [Fact]
    public void TrainDeviceCuda_ThroughTheCli_GivesTheCpuLossesAndResumes()
    {
        var data = Data();
        string[] common = ["--data", data, "--layers", "2", "--d-model", "16", "--heads", "2", "--context", "8", "--batch", "2",
            "--steps", "4", "--eval-every", "2", "--eval-batches", "1", "--attention", "flash", "--json"];
        string cpuDir = Path.Combine(_root, "cli-cpu"), gpuDir = Path.Combine(_root, "cli-gpu");
        var cpu = Lines(CliHarness.Ok(["train", "--out", cpuDir, .. common]));
        var cpuResumed = Lines(CliHarness.Ok("train", "--out", cpuDir, "--resume", "--steps", "6", "--json"));
        CudaCommands.TestGpu.Value = gpu.Gpu;
        try
        {
            var device = Lines(CliHarness.Ok(["train", "--out", gpuDir, "--device", "cuda", .. common]));
            Assert.Equal("cuda", device[^1].GetProperty("device").GetString());
            Assert.Equal("cpu", cpu[^1].GetProperty("device").GetString());
            CompareSteps(device, cpu);
            Assert.Equal(4, TrainingCheckpoint.LoadState(gpuDir).State.Step);
            var text = CliHarness.Ok("train", "--out", gpuDir, "--resume", "--steps", "6", "--device", "cuda");
            Assert.Contains("resuming", text);
            Assert.Contains("steps on cuda", text);
            var (run, state, optimizerStep) = TrainingCheckpoint.LoadState(gpuDir);
            Assert.Equal(6, state.Step);
            Assert.Equal(6, optimizerStep);
            var cpuState = TrainingCheckpoint.LoadState(cpuDir).State;
            for (int s = 0; s < 6; s++) Close(state.TrainLosses[s].Loss, cpuState.TrainLosses[s].Loss, $"step {s + 1} loss in the checkpoints");
            Assert.Equal(cpuState.ValidationLosses.Select(p => p.Step), state.ValidationLosses.Select(p => p.Step));
            for (int i = 0; i < state.ValidationLosses.Count; i++)
                Close(state.ValidationLosses[i].Loss, cpuState.ValidationLosses[i].Loss, $"validation at step {state.ValidationLosses[i].Step}");
            Assert.Equal(2, cpuResumed.Count(l => l.TryGetProperty("loss", out _)));
        }
        finally { CudaCommands.TestGpu.Value = null; }
    }

    [Fact]
    public void TrainDeviceCuda_WithAKernelTheGpuLacks_IsOneLineAndExit2_AndLeavesNoDirectory()
    {
        var data = Data();
        var dir = Path.Combine(_root, "window");
        CudaCommands.TestGpu.Value = gpu.Gpu;
        try
        {
            var r = CliHarness.Run("train", "--data", data, "--layers", "1", "--d-model", "16", "--heads", "2", "--context", "8",
                "--steps", "2", "--attention", "window:4", "--out", dir, "--device", "cuda");
            Assert.Equal(2, r.ExitCode);
            var line = Assert.Single(r.StderrLines);
            Assert.Contains("--device cuda: attention kernel 'window", line);
            Assert.Contains("the GPU has naive and flash", line);
            Assert.False(Directory.Exists(dir), "the refused run left its directory behind");
        }
        finally { CudaCommands.TestGpu.Value = null; }
    }

    private static List<JsonElement> Lines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    private static void CompareSteps(List<JsonElement> actual, List<JsonElement> expected)
    {
        var a = actual.Where(l => l.TryGetProperty("loss", out _)).ToList();
        var e = expected.Where(l => l.TryGetProperty("loss", out _)).ToList();
        Assert.Equal(e.Count, a.Count);
        for (int i = 0; i < e.Count; i++)
        {
            Assert.Equal(e[i].GetProperty("step").GetInt32(), a[i].GetProperty("step").GetInt32());
            Close(a[i].GetProperty("loss").GetDouble(), e[i].GetProperty("loss").GetDouble(), $"step {i + 1} loss");
            Assert.Equal(e[i].TryGetProperty("val_loss", out var ev), a[i].TryGetProperty("val_loss", out var av));
            if (ev.ValueKind == JsonValueKind.Number) Close(av.GetDouble(), ev.GetDouble(), $"validation after step {i + 1}");
        }
    }
}
