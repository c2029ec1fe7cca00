using AttentionLab.Explorer;
using AttentionLab.Models;
using AttentionLab.Tests.Training;
using AttentionLab.Training;

namespace AttentionLab.Tests.Explorer;

/// <summary>The page's demo training runs under the library's run policy and gives its run directory back when done.</summary>
public class DemoTrainingTests
{
    [Fact]
    public async Task AFinishedDemoTrainingReleasesItsDirectoryAndCanTrainAgain()
    {
        var root = Path.Combine(Path.GetTempPath(), $"attnlab-demo-{Guid.NewGuid():N}");
        try
        {
            var runs = Path.Combine(root, "runs");
            var data = Path.Combine(root, "data.txt");
            Directory.CreateDirectory(root);
            File.WriteAllText(data, File.ReadAllText(Path.Combine(RepoRoot.Path, "data", "tinyshakespeare.txt"))[..20_000]);
            var spec = new DemoTrainingSpec(new DecoderConfig { VocabSize = 65, ContextLength = 16, Layers = 1, Channels = 16, Heads = 2 },
                new TrainingOptions { BatchSize = 2, Steps = 5, WarmupSteps = 1, EvalEvery = 2, EvalBatches = 1 }, data, TimeSpan.FromMinutes(5));
            var training = new DemoTraining(new ModelCatalog([], runs), spec);
            Assert.True(training.Available);

            var first = training.Start();
            await training.Completion!.WaitAsync(TimeSpan.FromMinutes(2));
            var status = training.Status();
            Assert.Null((string?)status["error"]);
            Assert.True((bool)status["done"]!);
            Assert.Equal(5, (int)status["step"]!);
            Assert.NotNull((double?)status["val_loss"]);
            var dir = Path.Combine(runs, Path.GetFileName((string)first["model"]!));
            Assert.True(TrainingCheckpoint.HoldsModel(dir));

            // the lock is released: the directory can be locked, and its run continued
            using (RunDirectoryLock.Acquire(dir)) { }
            using (var resumed = DecoderTrainingRun.Resume(dir, null, 7, null))
            {
                Assert.Equal(5, resumed.Trainer.State.Step);
                resumed.Run(null, CancellationToken.None);
                Assert.Equal(7, resumed.Trainer.State.Step);
            }

            // and the page can train again, into a new directory
            var second = training.Start();
            await training.Completion!.WaitAsync(TimeSpan.FromMinutes(2));
            Assert.True((bool)training.Status()["done"]!);
            Assert.NotEqual((string)first["model"]!, (string)second["model"]!);
        }
        finally { if (Directory.Exists(root)) Directory.Delete(root, true); }
    }
}
