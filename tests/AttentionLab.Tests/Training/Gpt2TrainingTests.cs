using AttentionLab.Attention;
using AttentionLab.IO;
using AttentionLab.Models;
using AttentionLab.Text;
using AttentionLab.Training;

namespace AttentionLab.Tests.Training;

public class Gpt2TrainingTests
{
    private static readonly DecoderConfig Tiny = new() { VocabSize = 65, ContextLength = 16, Layers = 2, Channels = 32, Heads = 4 };

    private static readonly TrainingOptions Options = new()
    {
        BatchSize = 4, Steps = 10, LearningRate = 3e-3, MinLearningRate = 3e-4, WarmupSteps = 2, EvalEvery = 4, EvalBatches = 2, Seed = 5,
    };

    private static string Shakespeare(int chars) =>
        File.ReadAllText(Path.Combine(RepoRoot.Path, "data", "tinyshakespeare.txt"))[..chars];

    private static string TempFile(string text)
    {
        var path = Path.Combine(Path.GetTempPath(), $"attnlab-{Guid.NewGuid():N}.txt");
        File.WriteAllText(path, text);
        return path;
    }

    private static string TempDir() => Path.Combine(Path.GetTempPath(), $"attnlab-run-{Guid.NewGuid():N}");

    [Fact]
    public void InitialLossIsAboutLnVocab()
    {
        // exercise Q31: small random weights give near-uniform predictions, so the loss starts near ln V
        var corpus = Corpus.FromText(Shakespeare(20_000), CharTokenizer.FromCorpus(Shakespeare(20_000)));
        var dir = TempDir();
        try
        {
            using var run = DecoderTrainingRun.Start(corpus, "text", Tiny, Options, dir, AttentionKernels.Default);
            double lnV = Math.Log(corpus.Tokenizer.VocabSize);
            Assert.InRange(run.Trainer.EstimateLoss(corpus.Validation), lnV - 0.05, lnV + 0.05);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void ResumeGivesBitwiseTheLossesOfAnUninterruptedRun()
    {
        var data = TempFile(Shakespeare(20_000));
        var dirA = TempDir(); var dirB = TempDir();
        try
        {
            using var a = DecoderTrainingRun.Start(Corpus.Load(data, "char"), data, Tiny, Options, dirA, AttentionKernels.Default);
            while (!a.Trainer.IsFinished) a.Trainer.Step();

            var b = DecoderTrainingRun.Start(Corpus.Load(data, "char"), data, Tiny, Options, dirB, AttentionKernels.Default);
            for (int i = 0; i < 5; i++) b.Trainer.Step();
            b.Checkpoint();
            b.Dispose(); // releases the directory's lock, as the process ending would
            using var c = DecoderTrainingRun.Resume(dirB, null, null, AttentionKernels.Default);
            Assert.Equal(5, c.Trainer.State.Step);
            while (!c.Trainer.IsFinished) c.Trainer.Step();

            Assert.Equal(a.Trainer.State.TrainLosses, c.Trainer.State.TrainLosses);
            Assert.Equal(a.Trainer.State.ValidationLosses, c.Trainer.State.ValidationLosses);
            Assert.Equal(a.Model.Parameters.Data, c.Model.Parameters.Data);
            Assert.True(a.Trainer.State.TrainLosses[^1].Loss < a.Trainer.State.TrainLosses[0].Loss);
        }
        finally
        {
            File.Delete(data);
            foreach (var d in new[] { dirA, dirB }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }

    [Fact]
    public void ResumeRefusesDifferentData()
    {
        var data = TempFile(Shakespeare(5_000));
        var other = TempFile(Shakespeare(4_000)); // same characters, different text
        var dir = TempDir();
        try
        {
            var run = DecoderTrainingRun.Start(Corpus.Load(data, "char"), data, Tiny, Options, dir, AttentionKernels.Default);
            run.Trainer.Step();
            run.Checkpoint();
            run.Dispose();
            var e = Assert.Throws<InvalidDataException>(() => DecoderTrainingRun.Resume(dir, other, null, AttentionKernels.Default));
            Assert.Contains("not the data", e.Message);
        }
        finally
        {
            File.Delete(data); File.Delete(other);
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
