using AttentionLab.Attention;
using AttentionLab.Models;
using AttentionLab.Text;
using AttentionLab.Training;

namespace AttentionLab.Tests.Training;

/// <summary>The one run policy every training uses: a checkpoint after each validation and at the end, a final
/// validation when it stops between two, cancellation after the current step, no save after a diverged loss.</summary>
public class RunPolicyTests
{
    /// <summary>A run of <c>steps</c> steps that validates every <c>every</c> and records what the policy asked.</summary>
    private sealed class ScriptedRun(int steps, int every, int divergeAt = -1) : ITrainingRun
    {
        public List<string> Calls { get; } = [];
        public int CompletedSteps { get; private set; }
        public int PlannedSteps => steps;
        public bool IsFinished => CompletedSteps >= steps;

        public StepReport Step()
        {
            if (CompletedSteps == divergeAt) throw new TrainingDivergedException(float.NaN, CompletedSteps);
            CompletedSteps++;
            double? validation = CompletedSteps % every == 0 || IsFinished ? 10.0 / CompletedSteps : null;
            Calls.Add(validation is null ? $"step {CompletedSteps}" : $"step {CompletedSteps} val");
            return new StepReport(CompletedSteps, steps, 1.0 / CompletedSteps, validation, 1e-3, 1, 0, TimeSpan.Zero, TimeSpan.Zero);
        }

        public double? Validate() { Calls.Add("validate"); return 0.5; }
        public void Checkpoint() => Calls.Add("checkpoint");
    }

    private sealed class Collect : IProgress<StepReport>
    {
        public List<StepReport> Reports { get; } = [];
        public void Report(StepReport value) => Reports.Add(value);
    }

    [Fact]
    public void ChecksPointsAfterEachValidationAndAtTheEnd()
    {
        var run = new ScriptedRun(5, 2);
        var progress = new Collect();
        var result = RunPolicy.Run(run, progress, CancellationToken.None);
        Assert.Equal(["step 1", "step 2 val", "checkpoint", "step 3", "step 4 val", "checkpoint", "step 5 val", "checkpoint", "checkpoint"], run.Calls);
        Assert.Equal(5, progress.Reports.Count);
        Assert.False(result.Interrupted);
        Assert.Equal(5, result.Last!.Step);
        Assert.Equal(2.0, result.Last.ValidationLoss);
        Assert.DoesNotContain(progress.Reports, r => r.ValidationOnly);
    }

    [Fact]
    public void AStopBetweenValidationsValidatesOnceMoreAndSaves()
    {
        var run = new ScriptedRun(10, 4);
        var progress = new Collect();
        var result = RunPolicy.Run(run, progress, CancellationToken.None, r => r.Step == 3);
        Assert.Equal(["step 1", "step 2", "step 3", "validate", "checkpoint"], run.Calls);
        Assert.Equal(4, progress.Reports.Count);
        Assert.True(progress.Reports[^1].ValidationOnly);
        Assert.Equal(3, progress.Reports[^1].Step);
        Assert.Equal(0.5, result.Last!.ValidationLoss);
        Assert.False(result.Interrupted);
    }

    [Fact]
    public void CancellationStopsAfterTheCurrentStepAndSaves()
    {
        using var cancel = new CancellationTokenSource();
        var run = new ScriptedRun(10, 4);
        var result = RunPolicy.Run(run, new Progress(r => { if (r.Step == 2) cancel.Cancel(); }), cancel.Token);
        Assert.Equal(["step 1", "step 2", "validate", "checkpoint"], run.Calls);
        Assert.True(result.Interrupted);
        Assert.Equal(2, result.Last!.Step);
    }

    [Fact]
    public void AlreadyCancelledRunsNothingAndSavesNothing()
    {
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var run = new ScriptedRun(10, 4);
        var result = RunPolicy.Run(run, null, cancel.Token);
        Assert.Empty(run.Calls);
        Assert.Null(result.Last);
        Assert.True(result.Interrupted);
    }

    [Fact]
    public void ADivergedLossPropagatesWithoutASave()
    {
        var run = new ScriptedRun(10, 2, divergeAt: 3);
        var e = Assert.Throws<TrainingDivergedException>(() => RunPolicy.Run(run, null, CancellationToken.None));
        Assert.Contains("the loss became NaN at step 3", e.Message);
        Assert.Equal(["step 1", "step 2 val", "checkpoint", "step 3"], run.Calls);
    }

    /// <summary>A synchronous IProgress (System.Progress posts to the thread pool).</summary>
    private sealed class Progress(Action<StepReport> report) : IProgress<StepReport>
    {
        public void Report(StepReport value) => report(value);
    }

    [Fact]
    public void AGpt2RunUnderThePolicyComputesTheLossesOfTheHandWrittenLoop()
    {
        var text = File.ReadAllText(Path.Combine(RepoRoot.Path, "data", "tinyshakespeare.txt"))[..20_000];
        var config = new DecoderConfig { VocabSize = 65, ContextLength = 16, Layers = 1, Channels = 16, Heads = 2 };
        var options = new TrainingOptions { BatchSize = 2, Steps = 6, WarmupSteps = 1, EvalEvery = 4, EvalBatches = 1, Seed = 3 };
        var root = Path.Combine(Path.GetTempPath(), $"attnlab-policy-{Guid.NewGuid():N}");
        try
        {
            var corpus = Corpus.FromText(text, CharTokenizer.FromCorpus(text));
            using var byHand = DecoderTrainingRun.Start(corpus, "text", config, options, Path.Combine(root, "a"), AttentionKernels.Default);
            while (!byHand.Trainer.IsFinished) byHand.Trainer.Step();

            string dir;
            using (var run = DecoderTrainingRun.StartNew(corpus, "text", config, options, directory: null, AttentionKernels.Default, runsRoot: root))
            {
                dir = run.Directory;
                var result = run.Run(null, CancellationToken.None);
                Assert.Equal(byHand.Trainer.State.TrainLosses, run.Trainer.State.TrainLosses);
                Assert.Equal(byHand.Trainer.State.ValidationLosses, run.Trainer.State.ValidationLosses);
                Assert.Equal(6, result.Last!.Step);
            }
            Assert.Equal(root, Path.GetDirectoryName(dir));
            Assert.True(TrainingCheckpoint.HoldsModel(dir));
            using var again = RunDirectoryLock.Acquire(dir); // released by Dispose
        }
        finally { if (Directory.Exists(root)) Directory.Delete(root, true); }
    }

    [Fact]
    public void StartNewRefusesADirectoryWithCheckpointFilesAndRemovesOneItMade()
    {
        var text = File.ReadAllText(Path.Combine(RepoRoot.Path, "data", "tinyshakespeare.txt"))[..20_000];
        var config = new DecoderConfig { VocabSize = 65, ContextLength = 16, Layers = 1, Channels = 16, Heads = 2 };
        var options = new TrainingOptions { BatchSize = 2, Steps = 2, WarmupSteps = 0, EvalEvery = 2, EvalBatches = 1 };
        var root = Path.Combine(Path.GetTempPath(), $"attnlab-policy-{Guid.NewGuid():N}");
        try
        {
            var corpus = Corpus.FromText(text, CharTokenizer.FromCorpus(text));
            var occupied = Path.Combine(root, "occupied");
            Directory.CreateDirectory(occupied);
            File.WriteAllText(Path.Combine(occupied, TrainingCheckpoint.LossCurveFile), "mine");
            var e = Assert.Throws<RunDirectoryOccupiedException>(() =>
                DecoderTrainingRun.StartNew(corpus, "text", config, options, occupied, AttentionKernels.Default));
            Assert.False(e.HoldsModel);
            Assert.Equal([TrainingCheckpoint.LossCurveFile], e.Existing);
            Assert.Equal("mine", File.ReadAllText(Path.Combine(occupied, TrainingCheckpoint.LossCurveFile)));

            // a start that fails after the lock (here: a context the corpus is too short for is refused before it) leaves no folder
            var fresh = Path.Combine(root, "fresh");
            Assert.Throws<InvalidDataException>(() =>
                DecoderTrainingRun.StartNew(Corpus.FromText(text[..40], CharTokenizer.FromCorpus(text)), "text", config, options, fresh, AttentionKernels.Default));
            Assert.False(Directory.Exists(fresh));
        }
        finally { if (Directory.Exists(root)) Directory.Delete(root, true); }
    }
}
