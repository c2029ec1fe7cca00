using AttentionLab.Cli.Commands;
using AttentionLab.IO;
using AttentionLab.Training;

namespace AttentionLab.Tests.Cli;

/// <summary>
/// The --out folder of seq2seq, bert and vit: one writer at a time (a second one gets one line and exit 2 while the
/// first trains, and may write once the first is gone, even killed), and nothing the user keeps there is lost to bad
/// input, to a refusal or to a failed run.
/// </summary>
public sealed class ModelOutputFolderTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"attnlab-model-out-{Guid.NewGuid():N}");
    private readonly string _data;

    public ModelOutputFolderTests()
    {
        Directory.CreateDirectory(_root);
        _data = Path.Combine(_root, "data.txt");
        File.WriteAllText(_data, File.ReadAllText(Path.Combine(RepoRoot.Path, "data", "tinyshakespeare.txt"))[..20_000]);
    }

    public void Dispose() { if (Directory.Exists(_root)) Directory.Delete(_root, true); }

    /// <summary>The command with a tiny model: a step takes milliseconds.</summary>
    private string[] Tiny(string command) => command switch
    {
        "seq2seq" => ["seq2seq", "--task", "reverse", "--d-model", "16", "--heads", "2", "--layers", "1", "--held-out", "10"],
        "bert" => ["bert", "--data", _data, "--d-model", "16", "--heads", "2", "--layers", "1", "--max-length", "32", "--held-out", "1", "--input", "to b_"],
        "vit" => ["vit", "--d-model", "16", "--heads", "2", "--layers", "1", "--held-out", "12"],
        _ => throw new ArgumentException(command),
    };

    private static string SvgFile(string command) => command switch
    {
        "seq2seq" => Seq2SeqCommand.SvgFile,
        "bert" => BertCommand.SvgFile,
        _ => VitCommand.SvgFile,
    };

    /// <summary>Files a user keeps in the folder, by path relative to it.</summary>
    private static Dictionary<string, byte[]> Plant(string dir, params string[] names)
    {
        var random = new Random(7);
        var files = new Dictionary<string, byte[]>();
        foreach (var name in names)
        {
            var bytes = new byte[1000];
            random.NextBytes(bytes);
            var path = Path.Combine(dir, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
            files[name] = bytes;
        }
        return files;
    }

    private static void AssertKept(string dir, Dictionary<string, byte[]> files)
    {
        foreach (var (name, bytes) in files) Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(dir, name)));
    }

    private static void AssertRefused(CliHarness.Result r, string message)
    {
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StderrLines);
        Assert.Contains(message, r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [Theory]
    [InlineData("seq2seq")]
    [InlineData("bert")]
    [InlineData("vit")]
    public void ASecondWriterGetsOneLineAndExit2WhileTheFirstTrains(string command)
    {
        if (OperatingSystem.IsWindows()) return; // the kill below is what releases the first writer
        var dir = Path.Combine(_root, command);
        Directory.CreateDirectory(dir);
        var mine = Plant(dir, "notes.txt", Path.Combine("sub", "data.bin"));

        // the first writer: a real training in another process, with steps enough to outlast the test
        using var first = CliHarness.Start([.. Tiny(command), "--steps", "1000000", "--time-budget", "300", "--out", dir]);
        try
        {
            // its header line comes after it locked the folder and before its first step
            if (first.StandardOutput.ReadLine() is null) Assert.Fail($"the first writer stopped: {first.StandardError.ReadToEnd()}");
            foreach (var extra in new[] { new[] { "--steps", "2" }, ["--steps", "2", "--force"], ["--steps", "2", "--force", "--json"] })
                AssertRefused(CliHarness.Run([.. Tiny(command), .. extra, "--out", dir]), "being written by another training");
            Assert.False(first.HasExited, "the first writer must still hold the folder while the second is refused");
        }
        finally
        {
            first.Kill();
            first.WaitForExit();
        }
        AssertKept(dir, mine);
        Assert.False(ModelFolder.Exists(dir)); // killed before it saved: nothing half-written either
        Assert.False(Directory.Exists(Path.Combine(dir, ModelFolder.StagingDirectory)));

        // the OS dropped the killed writer's lock: the next one writes, and the user's files are still there
        CliHarness.Ok([.. Tiny(command), "--steps", "2", "--out", dir, "--json"]);
        Assert.True(ModelFolder.Exists(dir) && File.Exists(Path.Combine(dir, SvgFile(command))));
        AssertKept(dir, mine);
    }

    [Theory]
    [InlineData("seq2seq")]
    [InlineData("bert")]
    [InlineData("vit")]
    public void NothingTheUserHasInOutIsLostToBadInputOrARefusal(string command)
    {
        var dir = Path.Combine(_root, command);
        Directory.CreateDirectory(dir);
        var mine = Plant(dir, "notes.txt", SvgFile(command));
        var before = Directory.GetFileSystemEntries(dir, "*", SearchOption.AllDirectories).Order().ToList();

        // bad input is refused before the folder is touched at all
        AssertRefused(CliHarness.Run([.. Tiny(command), "--batch", "0", "--out", dir]), "--batch must be");
        AssertRefused(CliHarness.Run([.. Tiny(command), "--steps", "x", "--out", dir]), "--steps");
        Assert.Equal(before, Directory.GetFileSystemEntries(dir, "*", SearchOption.AllDirectories).Order().ToList());

        // a file of the user's with the name of one the save writes is never overwritten without --force
        AssertRefused(CliHarness.Run([.. Tiny(command), "--steps", "2", "--out", dir]), $"holds {SvgFile(command)}, which saving the model would overwrite");
        AssertKept(dir, mine);
        Assert.False(ModelFolder.Exists(dir));

        // with --force it is replaced, and only it
        CliHarness.Ok([.. Tiny(command), "--steps", "2", "--force", "--out", dir, "--json"]);
        Assert.Equal(mine["notes.txt"], File.ReadAllBytes(Path.Combine(dir, "notes.txt")));
        Assert.StartsWith("<svg", File.ReadAllText(Path.Combine(dir, SvgFile(command))), StringComparison.Ordinal);
        Assert.Equal(new[] { RunDirectoryLock.FileName, ModelFolder.ConfigFile, ModelFolder.WeightsFile, "notes.txt", SvgFile(command) }.Order(StringComparer.Ordinal),
            Directory.GetFileSystemEntries(dir).Select(e => Path.GetFileName(e)).Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public void AFolderTheRunMadeIsRemovedWhenItFailsBeforeSavingAndAUsersFolderIsKept()
    {
        // made by this run (with its parents) and left with nothing saved: removed, up to the folder that existed
        var made = Path.Combine(_root, "new", "deeper", "out");
        using (var folder = ModelOutputFolder.Lock(made, force: false, "x.svg"))
            Assert.True(File.Exists(Path.Combine(made, RunDirectoryLock.FileName)));
        Assert.False(Directory.Exists(Path.Combine(_root, "new")));
        Assert.True(Directory.Exists(_root));

        // the user's own (empty) folder stays, whatever happens
        var users = Path.Combine(_root, "users");
        Directory.CreateDirectory(users);
        using (ModelOutputFolder.Lock(users, force: false, "x.svg")) { }
        Assert.True(Directory.Exists(users));

        // a folder that now holds a model stays
        var saved = Path.Combine(_root, "saved");
        using (var folder = ModelOutputFolder.Lock(saved, force: false, "x.svg"))
            new AttentionLab.Models.VisionTransformer(new AttentionLab.Models.VitConfig { Channels = 8, Heads = 2, Layers = 1 }).Save(folder.Directory);
        Assert.True(ModelFolder.Exists(saved));
    }

    [Fact]
    public void ARefusedOutIsOneLine()
    {
        var file = Path.Combine(_root, "a-file");
        File.WriteAllText(file, "x");
        AssertRefused(CliHarness.Run([.. Tiny("vit"), "--out", file]), "is a file");
        Assert.Equal("x", File.ReadAllText(file));
        AssertRefused(CliHarness.Run([.. Tiny("vit"), "--out", ""]), "--out needs a path");
    }
}
