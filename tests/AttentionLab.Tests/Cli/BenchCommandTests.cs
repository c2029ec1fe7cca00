using AttentionLab.Cli;
using AttentionLab.Cli.Commands;

namespace AttentionLab.Tests.Cli;

/// <summary>The <c>attnlab bench</c> dispatcher (the benchmarks themselves are too slow for unit tests).</summary>
public class BenchCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        int code = AttentionLab.Cli.Cli.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void ListsSubcommandsOnHelp()
    {
        var (code, stdout, _) = Run("bench", "--help");
        Assert.Equal(0, code);
        foreach (var name in BenchCommand.Subcommands.Keys) Assert.Contains(name, stdout);
    }

    [Fact]
    public void UnknownBenchmarkOrOptionIsAUsageError()
    {
        var (code, _, stderr) = Run("bench", "nope");
        Assert.Equal(2, code);
        Assert.Contains("unknown benchmark 'nope'", stderr);

        (code, _, stderr) = Run("bench", "gemm", "--threads", "0");
        Assert.Equal(2, code);
        Assert.Contains("--threads", stderr);

        (code, _, stderr) = Run("bench", "gemm", "--frobnicate");
        Assert.Equal(2, code);
        Assert.Contains("--frobnicate", stderr);
    }

    [Fact]
    public void GemmHelpDescribesOptions()
    {
        var (code, stdout, _) = Run("bench", "gemm", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--repeat", stdout);
    }
}
