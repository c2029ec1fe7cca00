using AttentionLab.Text;
using AttentionLab.Training;

namespace AttentionLab.Tests.Training;

public class TrainerTests
{
    private const string Text = "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n" +
        "The slings and arrows of outrageous fortune,\nOr to take arms against a sea of troubles\nAnd by opposing end them.\n";

    private static Corpus SmallCorpus() => Corpus.FromText(string.Concat(Enumerable.Repeat(Text, 10)), CharTokenizer.FromCorpus(Text));

    private static readonly TrainingOptions Options = new()
    {
        BatchSize = 4, Steps = 10, LearningRate = 0.1, MinLearningRate = 0.01, WarmupSteps = 2, EvalEvery = 3, EvalBatches = 2, Seed = 11,
    };

    private static string TempDir() => Path.Combine(Path.GetTempPath(), $"attnlab-test-{Guid.NewGuid():N}");

    [Fact]
    public void InitialLossOfAnUninformedModelIsLnV()
    {
        // exercise Q31: uniform predictions over V tokens cost −ln(1/V) = ln V nats per token
        var corpus = SmallCorpus();
        var model = new BigramModel(corpus.Tokenizer.VocabSize, 8);
        var trainer = new Trainer(model, corpus, Options);
        Assert.Equal(Math.Log(corpus.Tokenizer.VocabSize), trainer.EstimateLoss(corpus.Validation), 5);
        var first = trainer.Step();
        Assert.Equal(Math.Log(corpus.Tokenizer.VocabSize), first.Loss, 5);
    }

    [Fact]
    public void TrainingLowersTheLoss()
    {
        var corpus = SmallCorpus();
        var model = new BigramModel(corpus.Tokenizer.VocabSize, 8);
        var trainer = new Trainer(model, corpus, Options with { Steps = 60, EvalEvery = 60 });
        StepReport last = null!;
        while (!trainer.IsFinished) last = trainer.Step();
        Assert.True(last.ValidationLoss < Math.Log(corpus.Tokenizer.VocabSize) - 0.5, $"validation loss {last.ValidationLoss}");
        Assert.Single(trainer.State.ValidationLosses);
    }

    [Fact]
    public void ReplanChangesTheScheduleLength()
    {
        var corpus = SmallCorpus();
        var t = new Trainer(new BigramModel(corpus.Tokenizer.VocabSize, 8), corpus, Options with { Steps = 100, WarmupSteps = 20 });
        t.Step();
        t.Replan(50);                       // during warmup: warmup shrinks to a tenth of the new plan
        Assert.Equal((50, 5), (t.Options.Steps, t.Options.WarmupSteps));
        for (int i = 0; i < 10; i++) t.Step();
        t.Replan(30);                       // after warmup: only the length changes
        Assert.Equal((30, 5), (t.Options.Steps, t.Options.WarmupSteps));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Replan(11));
        while (!t.IsFinished) t.Step();
        Assert.Equal(30, t.State.Step);
    }

    [Fact]
    public void ResumeContinuesExactly()
    {
        var corpus = SmallCorpus();
        // uninterrupted: 10 steps
        var straight = new BigramModel(corpus.Tokenizer.VocabSize, 8);
        var a = new Trainer(straight, corpus, Options);
        while (!a.IsFinished) a.Step();

        // interrupted: 5 steps, checkpoint to disk, a new process's worth of objects, 5 more
        var dir = TempDir();
        try
        {
            var first = new BigramModel(corpus.Tokenizer.VocabSize, 8);
            var b = new Trainer(first, corpus, Options);
            for (int i = 0; i < 5; i++) b.Step();
            TrainingCheckpoint.Save(dir, d => File.WriteAllBytes(Path.Combine(d, "model.bin"), System.Runtime.InteropServices.MemoryMarshal.AsBytes(first.Parameters.AsSpan()).ToArray()),
                corpus.Tokenizer, new TrainingCheckpoint.RunInfo("text", Options), b.State, b.Optimizer, "test");

            var (run, state, optimizerStep) = TrainingCheckpoint.LoadState(dir);
            Assert.Equal(Options, run.Options);
            var second = new BigramModel(corpus.Tokenizer.VocabSize, 8);
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(dir, "model.bin"))).CopyTo(second.Parameters);
            var optimizer = Trainer.CreateOptimizer(second, run.Options);
            TrainingCheckpoint.LoadOptimizer(dir, optimizer, optimizerStep);
            var c = new Trainer(second, Corpus.FromText(string.Concat(Enumerable.Repeat(Text, 10)), Tokenizers.Load(dir)), run.Options, state, optimizer);
            while (!c.IsFinished) c.Step();

            Assert.Equal(a.State.TrainLosses, c.State.TrainLosses);          // bitwise: LossPoint compares doubles exactly
            Assert.Equal(a.State.ValidationLosses, c.State.ValidationLosses);
            Assert.Equal(straight.Parameters, second.Parameters);
            Assert.True(File.Exists(Path.Combine(dir, TrainingCheckpoint.LossCurveFile)));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void SavingAgainSwapsTheWholeCheckpointAndKeepsForeignFiles()
    {
        var corpus = SmallCorpus();
        var model = new BigramModel(corpus.Tokenizer.VocabSize, 8);
        var t = new Trainer(model, corpus, Options);
        var dir = TempDir();
        try
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "notes.txt"), "mine");
            Assert.False(TrainingCheckpoint.HoldsModel(dir));
            var run = new TrainingCheckpoint.RunInfo("text", Options);
            TrainingCheckpoint.Save(dir, _ => { }, corpus.Tokenizer, run, t.State, t.Optimizer, "x");
            Assert.True(TrainingCheckpoint.HoldsModel(dir));
            t.Step();
            Assert.Throws<InvalidOperationException>(() =>
                TrainingCheckpoint.Save(dir, _ => throw new InvalidOperationException("disk full"), corpus.Tokenizer, run, t.State, t.Optimizer, "x"));
            Assert.Equal(0, TrainingCheckpoint.LoadState(dir).State.Step);             // the failed save changed nothing
            TrainingCheckpoint.Save(dir, _ => { }, corpus.Tokenizer, run, t.State, t.Optimizer, "x");
            Assert.Equal(1, TrainingCheckpoint.LoadState(dir).State.Step);
            Assert.Equal("mine", File.ReadAllText(Path.Combine(dir, "notes.txt")));
            Assert.DoesNotContain(Directory.GetDirectories(Path.GetDirectoryName(dir)!), d => Path.GetFileName(d).StartsWith(Path.GetFileName(dir) + ".", StringComparison.Ordinal));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
