using System.Text.Json.Nodes;

namespace AttentionLab.Tests.Cli;

public class ExperimentCommandTests
{
    [Fact]
    public void InitLossJsonHasTheRunsAndWritesThePlot()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"attnlab-experiment-{Guid.NewGuid():N}");
        try
        {
            var data = Path.Combine(RepoRoot.Path, "data", "tinyshakespeare.txt");
            var json = JsonNode.Parse(CliHarness.Ok("experiment", "init-loss", "--json", "--out", dir, "--data", data))!;
            Assert.Equal("init-loss", (string)json["experiment"]!);
            var runs = json["runs"]!.AsArray();
            Assert.NotEmpty(runs);
            foreach (var run in runs)
            {
                Assert.NotNull(run!["setting"]);
                Assert.Equal(0, (int)run["steps"]!);
                Assert.InRange((double)run["val_loss"]! - (double)run["ln_vocab"]!, -0.1, 0.1);
                Assert.NotNull(run["train_loss"]);
            }
            Assert.StartsWith("<svg", File.ReadAllText(Path.Combine(dir, "init-loss.svg")));
            Assert.True(File.Exists(Path.Combine(dir, "init-loss.json")));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("experiment")]
    [InlineData("experiment", "dropout")]
    [InlineData("experiment", "scaling", "--budget", "soon")]
    [InlineData("experiment", "scaling", "--budget", "-5s")]
    [InlineData("experiment", "scaling", "--steps", "0")]
    [InlineData("experiment", "scaling", "--steps", "10", "--budget", "5s")]
    [InlineData("experiment", "scaling", "--colour")]
    [InlineData("experiment", "scaling", "--data", "/no/such/file.txt")]
    public void BadInputIsOneLineAndExitTwo(params string[] args)
    {
        var r = CliHarness.Run(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StderrLines);
        Assert.StartsWith("attnlab experiment:", r.Stderr);
    }

    [Fact]
    public void HelpListsTheExperiments()
    {
        var text = CliHarness.Ok("experiment", "--help");
        foreach (var name in new[] { "init-loss", "scaling", "causal-mask", "heads", "positions", "gqa", "attention-vs-rnn" }) Assert.Contains(name, text);
    }
}
