using AttentionLab.Attention;
using AttentionLab.IO;
using AttentionLab.Models;
using AttentionLab.Tests.Cli;
using AttentionLab.Training;

namespace AttentionLab.Tests.Training;

/// <summary>
/// Nothing the user has is lost: a kill at any instant of a checkpoint leaves a loadable one (the previous or the
/// new) and resumes exactly; files in --out that are not the checkpoint's keep every byte; one writer per directory.
/// </summary>
public sealed class CheckpointSafetyTests : IDisposable
{
    private static readonly DecoderConfig Tiny = new() { VocabSize = 65, ContextLength = 16, Layers = 2, Channels = 32, Heads = 4 };
    private static readonly TrainingOptions Options = new()
    {
        BatchSize = 2, Steps = 6, LearningRate = 3e-3, MinLearningRate = 3e-4, WarmupSteps = 1, EvalEvery = 1, EvalBatches = 1, Seed = 3,
    };

    private readonly string _root = Path.Combine(Path.GetTempPath(), $"attnlab-safe-{Guid.NewGuid():N}");
    private readonly string _data;

    public CheckpointSafetyTests()
    {
        Directory.CreateDirectory(_root);
        _data = Path.Combine(_root, "data.txt");
        File.WriteAllText(_data, File.ReadAllText(Path.Combine(RepoRoot.Path, "data", "tinyshakespeare.txt"))[..20_000]);
    }

    public void Dispose() { if (Directory.Exists(_root)) Directory.Delete(_root, true); }

    /// <summary>Files a user keeps in the run directory: they must come out byte for byte.</summary>
    private static Dictionary<string, byte[]> PlantForeignFiles(string dir)
    {
        var random = new Random(11);
        byte[] Bytes(int n) { var b = new byte[n]; random.NextBytes(b); return b; }
        var files = new Dictionary<string, byte[]>
        {
            ["notes.txt"] = "my notes\n"u8.ToArray(),
            [".hidden"] = Bytes(100),
            ["model.safetensors.bak"] = Bytes(3000),
            [Path.Combine("sub", "data.bin")] = Bytes(5000),
            [".attnlab-staging-not-ours"] = Bytes(10),
        };
        foreach (var (name, bytes) in files)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(dir, name))!);
            File.WriteAllBytes(Path.Combine(dir, name), bytes);
        }
        return files;
    }

    private static void AssertForeignFilesKept(string dir, Dictionary<string, byte[]> files)
    {
        foreach (var (name, bytes) in files) Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(dir, name)));
    }

    private static readonly string[] FaultPoints =
    [
        "staging", "staged", "committed",
        .. TrainingCheckpoint.FileNames.Order(StringComparer.Ordinal).Select(f => "published:" + f),
    ];

    [Fact]
    public void AFaultAtEveryStepOfASaveLeavesALoadableCheckpointThatResumesExactly()
    {
        // the uninterrupted run
        var straightDir = Path.Combine(_root, "straight");
        (List<LossPoint>, List<LossPoint>) expected;
        using (var straight = DecoderTrainingRun.Start(Corpus.Load(_data, "char"), _data, Tiny, Options, straightDir, AttentionKernels.Default))
        {
            while (!straight.Trainer.IsFinished) straight.Trainer.Step();
            expected = (straight.Trainer.State.TrainLosses, straight.Trainer.State.ValidationLosses);
        }

        foreach (var point in FaultPoints)
        {
            var dir = Path.Combine(_root, "fault-" + point.Replace(':', '-'));
            Directory.CreateDirectory(dir);
            var foreign = PlantForeignFiles(dir);
            using (var run = DecoderTrainingRun.Start(Corpus.Load(_data, "char"), _data, Tiny, Options, dir, AttentionKernels.Default))
            {
                run.Trainer.Step(); run.Trainer.EvaluateAndRecord(); run.Checkpoint();   // checkpoint of step 1
                run.Trainer.Step(); run.Trainer.EvaluateAndRecord();
                TrainingCheckpoint.FaultPoint = p => { if (p == point) throw new IOException("killed at " + p); };
                try { Assert.Throws<IOException>(run.Checkpoint); }
                finally { TrainingCheckpoint.FaultPoint = null; }
            }
            // as a reader that does not recover sees it (attnlab generate): every file is whole
            DecoderFolder.Load(dir);
            AssertForeignFilesKept(dir, foreign);
            // a resume recovers: the old checkpoint before the commit point, the new one after it
            bool committed = point != "staging" && point != "staged";
            using (var resumed = DecoderTrainingRun.Resume(dir, null, null, AttentionKernels.Default))
                Assert.Equal(committed ? 2 : 1, resumed.Trainer.State.Step);
            Assert.False(Directory.Exists(Path.Combine(dir, TrainingCheckpoint.StagingDirectory)), point);
            Assert.False(Directory.Exists(Path.Combine(dir, TrainingCheckpoint.CommitDirectory)), point);
            var (train, validation) = RunToEnd(dir);
            Assert.Equal(expected.Item1, train);
            Assert.Equal(expected.Item2, validation);
            AssertForeignFilesKept(dir, foreign);
        }
    }

    /// <summary>Resumes, runs to the end, checkpoints and returns the loss history.</summary>
    private static (List<LossPoint> Train, List<LossPoint> Validation) RunToEnd(string dir)
    {
        using var run = DecoderTrainingRun.Resume(dir, null, null, AttentionKernels.Default);
        while (!run.Trainer.IsFinished) run.Trainer.Step();
        run.Checkpoint();
        return (run.Trainer.State.TrainLosses, run.Trainer.State.ValidationLosses);
    }

    [Fact]
    public void ASecondWriterIsRefusedAndTheFirstIsUntouched()
    {
        var dir = Path.Combine(_root, "two");
        using var first = DecoderTrainingRun.Start(Corpus.Load(_data, "char"), _data, Tiny, Options, dir, AttentionKernels.Default);
        first.Trainer.Step();
        first.Checkpoint();
        var before = File.ReadAllBytes(Path.Combine(dir, "model.safetensors"));
        Assert.Throws<RunDirectoryBusyException>(() => DecoderTrainingRun.Start(Corpus.Load(_data, "char"), _data, Tiny, Options, dir, AttentionKernels.Default));
        Assert.Throws<RunDirectoryBusyException>(() => DecoderTrainingRun.Resume(dir, null, null, AttentionKernels.Default));
        foreach (var args in new[]
                 {
                     new[] { "train", "--data", _data, "--preset", "tiny", "--steps", "2", "--out", dir, "--force" },
                     new[] { "train", "--out", dir, "--resume", "--steps", "9" },
                 })
        {
            var r = CliHarness.Run(args);
            Assert.Equal(2, r.ExitCode);
            Assert.Single(r.StderrLines);
            Assert.Contains("being written by another training", r.Stderr);
        }
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(dir, "model.safetensors")));
        first.Trainer.Step();
        first.Checkpoint(); // the first writer carries on
        first.Dispose();
        using var after = DecoderTrainingRun.Resume(dir, null, null, AttentionKernels.Default); // released: the next one may write
        Assert.Equal(2, after.Trainer.State.Step);
    }

    [Fact]
    public void AnOutDirectoryWithTheUsersFilesKeepsThemByteForByte()
    {
        var dir = Path.Combine(_root, "mine");
        Directory.CreateDirectory(dir);
        var foreign = PlantForeignFiles(dir);
        CliHarness.Ok("train", "--data", _data, "--preset", "tiny", "--batch", "2", "--steps", "4", "--eval-every", "1", "--eval-batches", "1", "--out", dir);
        CliHarness.Ok("train", "--out", dir, "--resume", "--steps", "6");
        AssertForeignFilesKept(dir, foreign);
        Assert.Equal(foreign.Keys.Select(k => k.Split(Path.DirectorySeparatorChar)[0]).Concat(TrainingCheckpoint.FileNames).Append(RunDirectoryLock.FileName).Order(),
            Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order()!);
        Assert.DoesNotContain(Directory.GetFileSystemEntries(_root), e => Path.GetFileName(e).StartsWith("mine.", StringComparison.Ordinal));

        // a user's file with a checkpoint's name (their own loss_curve.svg) is never overwritten without --force
        var other = Path.Combine(_root, "curve");
        Directory.CreateDirectory(other);
        File.WriteAllText(Path.Combine(other, TrainingCheckpoint.LossCurveFile), "<svg>mine</svg>");
        var r = CliHarness.Run("train", "--data", _data, "--preset", "tiny", "--steps", "2", "--out", other);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(TrainingCheckpoint.LossCurveFile, r.Stderr);
        Assert.Equal("<svg>mine</svg>", File.ReadAllText(Path.Combine(other, TrainingCheckpoint.LossCurveFile)));
    }

    [Fact]
    public void UnwritableOutputIsRefusedBeforeTraining()
    {
        var file = Path.Combine(_root, "a-file");
        File.WriteAllText(file, "x");
        var r = CliHarness.Run("train", "--data", _data, "--preset", "tiny", "--steps", "2", "--out", file);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("is a file", r.Stderr);
        Assert.Equal("x", File.ReadAllText(file));
        var empty = CliHarness.Run("train", "--data", _data, "--out", "");
        Assert.Equal(2, empty.ExitCode);
        Assert.DoesNotContain("(Parameter", empty.Stderr);
        if (OperatingSystem.IsWindows() || Environment.UserName == "root") return; // root writes anywhere
        var locked = Path.Combine(_root, "readonly");
        Directory.CreateDirectory(locked);
        File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            var ro = CliHarness.Run("train", "--data", _data, "--preset", "tiny", "--steps", "2", "--out", locked);
            Assert.Equal(2, ro.ExitCode);
            Assert.Contains(locked, ro.Stderr);
            Assert.Empty(Directory.GetFileSystemEntries(locked));
        }
        finally { File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); }
    }

    /// <summary>
    /// The real thing: a training process killed with SIGKILL at several moments (most of its time is spent
    /// checkpointing, one per step), resumed each time; every kill leaves a loadable directory, no debris piles up,
    /// the user's files survive, and the final losses equal an uninterrupted run's bit for bit.
    /// </summary>
    [Fact]
    public void KillNineAtRandomMomentsLosesNothingAndResumesExactly()
    {
        if (OperatingSystem.IsWindows()) return;
        string[] common = ["--preset", "tiny", "--batch", "2", "--steps", "30", "--eval-every", "1", "--eval-batches", "1", "--seed", "9"];
        var straight = Path.Combine(_root, "k-straight");
        CliHarness.Ok(["train", "--data", _data, "--out", straight, .. common]);
        var expected = TrainingCheckpoint.LoadState(straight).State;

        var dir = Path.Combine(_root, "killed");
        Directory.CreateDirectory(dir);
        var foreign = PlantForeignFiles(dir);
        var random = new Random(5);
        int kills = 0;
        for (int attempt = 0; attempt < 5; attempt++)
        {
            bool started = TrainingCheckpoint.HoldsModel(dir) && File.Exists(Path.Combine(dir, TrainingCheckpoint.StateFile));
            string[] args = started ? ["train", "--out", dir, "--resume", "--json"] : ["train", "--data", _data, "--out", dir, "--force", "--json", .. common];
            using var process = CliHarness.Start(args);
            // wait for a few steps to be reported, then a random moment more, then SIGKILL
            int steps = 0;
            var lines = process.StandardOutput;
            while (steps < 2 && lines.ReadLine() is string line) if (line.Contains("\"step\"", StringComparison.Ordinal)) steps++;
            Thread.Sleep(random.Next(0, 120));
            if (process.HasExited) break; // finished before the kill
            process.Kill();
            process.WaitForExit();
            kills++;

            // after every kill: the model loads as is, the state is consistent after recovery, user files are intact
            DecoderFolder.Load(dir);
            AssertForeignFilesKept(dir, foreign);
            Assert.True(Directory.GetDirectories(dir).Length <= 3, string.Join(", ", Directory.GetDirectories(dir))); // sub + at most staging/commit
        }
        Assert.True(kills >= 3, $"only {kills} kills landed");
        var finish = CliHarness.Run("train", "--out", dir, "--resume");
        Assert.True(finish.ExitCode is 0 or 2, finish.Stderr); // 2 when the last process had already finished
        var state = TrainingCheckpoint.LoadState(dir).State;
        Assert.Equal(expected.TrainLosses, state.TrainLosses);
        Assert.Equal(expected.ValidationLosses, state.ValidationLosses);
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, "model.safetensors")), File.ReadAllBytes(Path.Combine(dir, "model.safetensors")));
        AssertForeignFilesKept(dir, foreign);
        Assert.False(Directory.Exists(Path.Combine(dir, TrainingCheckpoint.StagingDirectory)));
        Assert.False(Directory.Exists(Path.Combine(dir, TrainingCheckpoint.CommitDirectory)));
    }
}
