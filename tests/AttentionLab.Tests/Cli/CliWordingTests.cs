using AttentionLab.Cli;

namespace AttentionLab.Tests.Cli;

/// <summary>One option, one meaning, in every command; errors are one line that names the subcommand.</summary>
public sealed class CliWordingTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"attnlab-wording-{Guid.NewGuid():N}");

    public CliWordingTests() => Directory.CreateDirectory(_root);

    public void Dispose() { if (Directory.Exists(_root)) Directory.Delete(_root, true); }

    [Fact]
    public void ABareCommandIsAnErrorOnStderr()
    {
        var r = CliHarness.Run();
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.StartsWith("attnlab: missing command", r.Stderr);
        Assert.Contains("usage:", r.Stderr);
        var bench = CliHarness.Run("bench");
        Assert.Equal(2, bench.ExitCode);
        Assert.Equal("", bench.Stdout);
        Assert.StartsWith("attnlab bench: missing benchmark name", bench.Stderr);
    }

    [Fact]
    public void VersionIsPrinted()
    {
        var text = CliHarness.Ok("--version");
        Assert.StartsWith("attnlab ", text);
        Assert.Matches(@"^attnlab \d+\.\d+", text);
    }

    [Fact]
    public void SpellingsOfOneOptionAreTheSameOption()
    {
        Assert.Equal("hi", new Args(["--text", "hi"]).String("prompt"));
        Assert.Equal("hi", new Args(["--prompt", "hi"]).String("text"));
        Assert.Equal(7, new Args(["--seq-len", "7"]).Int("context", 0));
        Assert.Equal(7, new Args(["--length=7"]).Int("seq-len", 0));
        Assert.Contains("same option", Assert.Throws<CliError>(() => new Args(["--prompt", "a", "--text", "b"])).Message);
        // messages use the spelling the user typed
        var unknown = new Args(["--seq-len", "3"]);
        Assert.Equal("unknown option --seq-len", Assert.Throws<CliError>(unknown.EnsureAllUsed).Message);
        Assert.Contains("--length must be", Assert.Throws<CliError>(() => new Args(["--length", "x"]).Int("context", 0)).Message);
        // shapes reads --seq-len; --context gives the same table
        Assert.Equal(CliHarness.Ok("shapes", "--seq-len", "5", "--json"), CliHarness.Ok("shapes", "--context", "5", "--json"));
    }

    [Fact]
    public void BenchGenerateNamesItsPromptLengthApart()
    {
        var r = CliHarness.Run("bench", "generate", "--prompt", "5");
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("attnlab bench generate: ", r.Stderr);
        Assert.Contains("--prompt-tokens", r.Stderr);
        Assert.Contains("--prompt-tokens", CliHarness.Ok("bench", "generate", "--help"));
    }

    [Fact]
    public void NoDotNetParameterSuffixes()
    {
        var data = Path.Combine(_root, "d.txt");
        File.WriteAllText(data, string.Concat(Enumerable.Repeat("to be or not to be, that is the question. ", 200)));
        foreach (var args in new[]
                 {
                     new[] { "train", "--data", data, "--preset", "bogus" },
                     new[] { "train", "--data", data, "--out", "" },
                     new[] { "bench", "train", "--preset", "bogus" },
                     new[] { "bench", "generate", "--preset", "bogus" },
                 })
        {
            var r = CliHarness.Run(args);
            Assert.Equal(2, r.ExitCode);
            Assert.Single(r.StderrLines);
            Assert.DoesNotContain("(Parameter", r.Stderr);
        }
        Assert.Equal("unknown GPT-2 preset 'x'", AttentionLab.Cli.Cli.OneLine("unknown GPT-2 preset 'x' (Parameter 'name')"));
        Assert.Equal("a b", AttentionLab.Cli.Cli.OneLine("a\n  b\r\n"));
    }

    [Fact]
    public void ABatchTimesContextThatCannotFitSaysSo()
    {
        var data = Path.Combine(_root, "d.txt");
        File.WriteAllText(data, string.Concat(Enumerable.Repeat("to be or not to be, that is the question. ", 200)));
        var r = CliHarness.Run("train", "--data", data, "--batch", "65536", "--context", "65536", "--out", Path.Combine(_root, "big"));
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StderrLines);
        Assert.Contains("lower the batch or the context", r.Stderr);
        Assert.False(Directory.Exists(Path.Combine(_root, "big")));
    }

    [Fact]
    public void AModelPathThatIsAFileSaysSo()
    {
        var file = Path.Combine(_root, "model.safetensors");
        File.WriteAllText(file, "x");
        var r = CliHarness.Run("generate", "--model", file, "--prompt", "a");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("is a file", r.Stderr);
    }

    [Fact]
    public void TrainHelpSaysStepsIsTheTotal()
    {
        var help = CliHarness.Ok("train", "--help");
        Assert.Contains("TOTAL", help);
        Assert.Contains("cosine", help);
    }
}
