using System.Text.Json;
using AttentionLab.Tests.Cli;
using AttentionLab.Training;

namespace AttentionLab.Tests.Training;

/// <summary>train, generate, inspect and demo end to end on tiny models (a few seconds in all).</summary>
public class TrainCliTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"attnlab-cli-{Guid.NewGuid():N}");
    private readonly string _data;

    public TrainCliTests()
    {
        Directory.CreateDirectory(_root);
        _data = Path.Combine(_root, "small.txt");
        File.WriteAllText(_data, File.ReadAllText(Path.Combine(RepoRoot.Path, "data", "tinyshakespeare.txt"))[..20_000]);
    }

    public void Dispose() { if (Directory.Exists(_root)) Directory.Delete(_root, true); }

    private string Train(string name, params string[] extra)
    {
        var dir = Path.Combine(_root, name);
        CliHarness.Ok(["train", "--data", _data, "--preset", "tiny", "--steps", "6", "--eval-every", "3", "--eval-batches", "2", "--out", dir, .. extra]);
        return dir;
    }

    [Fact]
    public void TrainWritesACompleteRunAndRefusesToOverwriteIt()
    {
        var dir = Train("run");
        foreach (var f in new[] { "config.json", "model.safetensors", "attnlab_tokenizer.json", "training_state.json", "optimizer.safetensors", "loss_curve.svg" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        var before = File.ReadAllBytes(Path.Combine(dir, "model.safetensors"));
        var again = CliHarness.Run("train", "--data", _data, "--preset", "tiny", "--steps", "2", "--out", dir);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("already holds a model", again.Stderr);
        Assert.Single(again.StderrLines);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(dir, "model.safetensors")));
        CliHarness.Ok("train", "--data", _data, "--preset", "tiny", "--steps", "2", "--out", dir, "--force");
        Assert.Equal(2, TrainingCheckpoint.LoadState(dir).State.Step);
    }

    [Fact]
    public void ResumeExtendsARun()
    {
        var dir = Train("resume");
        var output = CliHarness.Ok("train", "--out", dir, "--resume", "--steps", "9", "--json");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(7, JsonDocument.Parse(lines[0]).RootElement.GetProperty("step").GetInt32());
        Assert.Equal(9, TrainingCheckpoint.LoadState(dir).State.Step);
        var r = CliHarness.Run("train", "--out", dir, "--resume", "--lr", "0.1");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("cannot change when resuming", r.Stderr);
        Assert.Equal(2, CliHarness.Run("train", "--out", dir, "--resume").ExitCode); // already finished
    }

    [Fact]
    public void JsonProgressIsOneObjectPerStep()
    {
        var dir = Path.Combine(_root, "json");
        var output = CliHarness.Ok("train", "--data", _data, "--preset", "tiny", "--steps", "4", "--eval-every", "2", "--eval-batches", "1", "--out", dir, "--json");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(5, lines.Count);
        Assert.True(lines[1].TryGetProperty("val_loss", out _));
        Assert.InRange(lines[0].GetProperty("loss").GetDouble(), Math.Log(58) - 0.1, Math.Log(58) + 0.1); // ≈ ln V at the start
        Assert.True(lines[^1].GetProperty("done").GetBoolean());
    }

    [Fact]
    public void BadDataIsAOneLineError()
    {
        var binary = Path.Combine(_root, "binary.bin");
        File.WriteAllBytes(binary, [1, 2, 0, 3]);
        var empty = Path.Combine(_root, "empty.txt");
        File.WriteAllText(empty, "");
        var small = Path.Combine(_root, "small2.txt");
        File.WriteAllText(small, "to be or not to be");
        foreach (var (file, message) in new[] { (Path.Combine(_root, "missing.txt"), "does not exist"), (binary, "binary"), (empty, "empty"), (small, "context + 1") })
        {
            var dir = Path.Combine(_root, "bad");
            var r = CliHarness.Run("train", "--data", file, "--preset", "tiny", "--out", dir);
            Assert.Equal(2, r.ExitCode);
            Assert.Single(r.StderrLines);
            Assert.Contains(message, r.Stderr);
            Assert.False(Directory.Exists(dir));
        }
        Assert.Contains("--tokenizer", CliHarness.Run("train", "--data", _data, "--tokenizer", "bpe").Stderr);
        Assert.Contains("must divide", CliHarness.Run("train", "--data", _data, "--d-model", "30", "--heads", "4").Stderr);
    }

    [Fact]
    public void GenerateStreamsAndReportsJson()
    {
        var dir = Train("gen");
        var text = CliHarness.Ok("generate", "--model", dir, "--prompt", "ROMEO:", "--max-tokens", "20", "--temperature", "0");
        Assert.StartsWith("ROMEO:", text);
        var json = JsonDocument.Parse(CliHarness.Ok("generate", "--model", dir, "--ids", "1,2,3", "--max-tokens", "5", "--json")).RootElement;
        var ids = json.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal(8, ids.Length);
        Assert.Equal(new[] { 1, 2, 3 }, ids[..3]);
        // same seed, same text; the cache does not change the tokens
        var a = CliHarness.Ok("generate", "--model", dir, "--prompt", "Citizen", "--max-tokens", "30", "--seed", "9", "--top-k", "10", "--json");
        var b = CliHarness.Ok("generate", "--model", dir, "--prompt", "Citizen", "--max-tokens", "30", "--seed", "9", "--top-k", "10", "--json", "--no-kv-cache");
        Assert.Equal(a, b);
        // a prompt longer than the 16-token context is cropped with a warning
        var longPrompt = CliHarness.Run("generate", "--model", dir, "--prompt", "First Citizen: Before we proceed any further", "--max-tokens", "3");
        Assert.Equal(0, longPrompt.ExitCode);
        Assert.Contains("warning", longPrompt.Stderr);
    }

    [Fact]
    public void GenerateAndInspectRejectBadInput()
    {
        var dir = Train("bad-input");
        foreach (var (args, message) in new (string[], string)[]
        {
            (["generate", "--model", dir, "--prompt", "zebra ☃"], "'☃'"),
            (["generate", "--model", dir, "--ids", "1,999"], "outside"),
            (["generate", "--model", dir, "--ids", "1,x"], "--ids"),
            (["generate", "--model", dir], "exactly one of"),
            (["generate", "--model", Path.Combine(_root, "nope"), "--ids", "1"], "does not exist"),
            (["inspect", "--model", dir, "--text", "abc", "--layer", "7"], "--layer"),
        })
        {
            var r = CliHarness.Run(args);
            Assert.Equal(2, r.ExitCode);
            Assert.Single(r.StderrLines);
            Assert.Contains(message, r.Stderr);
        }
    }

    [Fact]
    public void InspectJsonHasTheDocumentedShapes()
    {
        var dir = Train("inspect");
        var json = JsonDocument.Parse(CliHarness.Ok("inspect", "--model", dir, "--text", "To be", "--json")).RootElement;
        Assert.Equal(5, json.GetProperty("tokens").GetArrayLength());
        var logits = json.GetProperty("logits");
        Assert.Equal(5, logits.GetArrayLength());
        Assert.Equal(58, logits[0].GetArrayLength()); // T × V
        var attention = json.GetProperty("attention");
        Assert.Equal(2, attention.GetArrayLength());          // L
        Assert.Equal(4, attention[0].GetArrayLength());       // H
        Assert.Equal(5, attention[0][0].GetArrayLength());    // T
        Assert.Equal(5, attention[0][0][0].GetArrayLength()); // T
        Assert.Equal(0, attention[1][3][0][4].GetDouble());   // causal
        Assert.Equal(4, json.GetProperty("entropy")[0].GetArrayLength());
        var text = CliHarness.Ok("inspect", "--model", dir, "--text", "To be", "--layer", "1", "--head", "2");
        Assert.Contains("layer 1 head 2", text);
        Assert.DoesNotContain("layer 0 head 0:", text);
        Assert.Contains("next token", text);
    }

    [Fact]
    public void DemoRunsEndToEndOnATinyPreset()
    {
        var dir = Path.Combine(_root, "demo");
        var output = CliHarness.Ok("demo", "--preset", "tiny", "--steps", "3", "--out", dir);
        Assert.Contains("sample before training", output);
        Assert.Contains("sample after 3 steps", output);
        Assert.Contains("attention of layer 1", output);
        Assert.True(File.Exists(Path.Combine(dir, "loss_curve.svg")));
        Assert.True(File.Exists(Path.Combine(dir, "model.safetensors")));
        var again = CliHarness.Run("demo", "--preset", "tiny", "--steps", "3", "--out", dir);
        Assert.Equal(2, again.ExitCode); // never overwrites
    }

    [Fact]
    public void DemoFitsItsStepsToTheTimeBudget()
    {
        // a 3-second budget leaves nothing after the reserve, so the plan shrinks to the step after 40
        // (or the hard stop at 1.1 × the budget ends it sooner on a slow machine)
        var dir = Path.Combine(_root, "demo-budget");
        var output = CliHarness.Ok("demo", "--preset", "tiny", "--minutes", "0.05", "--out", dir, "--json");
        var summary = JsonDocument.Parse(output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;
        Assert.InRange(summary.GetProperty("steps").GetInt32(), 1, 41);
        Assert.True(File.Exists(Path.Combine(dir, "model.safetensors")));
        Assert.True(summary.GetProperty("done").GetBoolean());
    }
}
