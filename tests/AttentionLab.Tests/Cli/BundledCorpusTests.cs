using System.Text.Json;
using AttentionLab.Datasets;
using AttentionLab.Tests.Training;
using AttentionLab.Training;

namespace AttentionLab.Tests.Cli;

/// <summary>Tiny Shakespeare ships inside attnlab: the commands that train on it by default work from any directory.</summary>
public sealed class BundledCorpusTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"attnlab-bundled-{Guid.NewGuid():N}");

    public BundledCorpusTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public void TheEmbeddedTextIsTheRepositorysFile()
    {
        Assert.Equal(File.ReadAllBytes(Path.Combine(RepoRoot.Path, "data", "tinyshakespeare.txt")), TinyShakespeare.Utf8.ToArray());
        Assert.Equal(File.ReadAllText(Path.Combine(RepoRoot.Path, "data", "tinyshakespeare.txt")), Corpus.ReadText(TinyShakespeare.Source));
    }

    private (int Code, string Stdout, string Stderr) RunOutside(params string[] args)
    {
        using var p = CliHarness.StartIn(_root, args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(3)), "attnlab did not finish");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void TrainWithoutDataRunsFromOutsideTheRepositoryAndResumes()
    {
        Assert.False(File.Exists(Path.Combine(_root, "data", "tinyshakespeare.txt")));
        var (code, stdout, stderr) = RunOutside("train", "--preset", "tiny", "--steps", "2", "--batch", "2", "--eval-every", "2", "--eval-batches", "1",
            "--out", "run", "--json");
        Assert.True(code == 0, $"exit {code}: {stderr}");
        Assert.Equal("", stderr);
        var last = JsonDocument.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;
        Assert.Equal(2, last.GetProperty("step").GetInt32());
        var dir = Path.Combine(_root, "run");
        Assert.True(TrainingCheckpoint.HoldsModel(dir));
        Assert.Equal(TinyShakespeare.Source, TrainingCheckpoint.LoadStateWithFiles(dir).Run.Data);

        // the run records the bundled text by name, so it resumes from anywhere (here: the test's directory)
        var resumed = CliHarness.Ok("train", "--out", dir, "--resume", "--steps", "3", "--json");
        Assert.Equal(3, JsonDocument.Parse(resumed.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement.GetProperty("step").GetInt32());
    }

    [Fact]
    public void BertWithoutDataRunsFromOutsideTheRepository()
    {
        var (code, stdout, stderr) = RunOutside("bert", "--d-model", "16", "--heads", "2", "--layers", "1", "--max-length", "32", "--held-out", "1",
            "--steps", "2", "--batch", "2", "--input", "to b_", "--out", "bert");
        Assert.True(code == 0, $"exit {code}: {stderr}");
        Assert.StartsWith($"data {TinyShakespeare.Source}: 1,115,394 characters", stdout); // not a file found near the executable
        Assert.True(File.Exists(Path.Combine(_root, "bert", "model.safetensors")));
    }
}
