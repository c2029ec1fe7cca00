using System.Diagnostics;

namespace AttentionLab.Tests.Cli;

/// <summary>Bad input gives exactly one clear line on stderr, exit code 2, nothing on stdout, never a stack trace.</summary>
public class CliErrorTests
{
    private const string Q = "[[1,0],[0,1],[1,1]]", V = "[[1,2],[3,4],[5,6]]";

    public static TheoryData<string[], string> BadInputs => new()
    {
        { ["attention", "--q", "[[1,0]", "--k", Q, "--v", V], "--q: not valid JSON" },
        { ["attention", "--q", "[[1,0],[1]]", "--k", Q, "--v", V], "--q: ragged matrix: row 1 has 2 entries but row 2 has 1" },
        { ["attention", "--q", "[]", "--k", Q, "--v", V], "--q: the matrix is empty" },
        { ["attention", "--q", "[[]]", "--k", Q, "--v", V], "--q: row 1 is empty" },
        { ["attention", "--q", "[1,0]", "--k", Q, "--v", V], "got a flat list" },
        { ["attention", "--q", Q, "--k", "[[1,\"x\"],[0,1],[1,1]]", "--v", V], "--k: row 1, column 2 is the string \"x\", not a number" },
        { ["attention", "--q", Q, "--k", Q, "--v", "[[1,NaN],[3,4],[5,6]]"], "--v: not valid JSON: JSON has no NaN or Infinity" },
        { ["attention", "--q", Q, "--k", Q, "--v", "[[1,Infinity],[3,4],[5,6]]"], "JSON has no NaN or Infinity" },
        { ["attention", "--q", "[[1e999,0],[0,1],[1,1]]", "--k", Q, "--v", V], "--q: row 1, column 1 (1e999) is not a finite double" },
        { ["attention", "--q", "{\"a\":1}", "--k", Q, "--v", V], "--q: expected a matrix" },
        { ["attention", "--q", "[[1,0,0]]", "--k", Q, "--v", V], "--q rows have 3 numbers but --k rows have 2" },
        { ["attention", "--q", Q, "--k", Q, "--v", "[[1,2],[3,4]]"], "--k has 3 rows but --v has 2" },
        { ["attention", "--q", Q, "--k", Q, "--v", V, "--mask", "[[1,1],[1,1]]"], "--mask is 2×2 but must be Tq×Tk = 3×3" },
        { ["attention", "--q", Q, "--k", Q, "--v", V, "--mask", "[[1,1,1],[1,0.5,1],[1,1,1]]"], "a mask holds only 0 (hidden) and 1 (attend)" },
        { ["attention", "--q", Q, "--k", Q, "--v", V, "--scale", "2", "--no-scale"], "either --scale S or --no-scale" },
        { ["attention", "--q", Q, "--k", Q, "--v", V, "--scale", "abc"], "--scale must be a finite number" },
        { ["attention", "--q", "@/no/such/dir/q.json", "--k", Q, "--v", V], "--q: file '/no/such/dir/q.json' not found" },
        { ["attention", "--q", Q, "--k", Q], "missing required option --v" },
        { ["attention", "--q", Q, "--k", Q, "--v", V, "--heads", "2"], "--q/--k/--v are single-head attention's inputs" },
        { ["attention", "--q", Q, "--k", Q, "--v", V, "--layers", "2"], "unknown option --layers" },
        { ["attention", "--q", "[[1e200]]", "--k", "[[1e200]]", "--v", "[[1]]"], "overflows double" },
        { ["shapes", "--d-model", "8", "--heads", "3"], "--heads 3 does not divide --d-model 8" },
        { ["shapes", "--d-model", "0"], "--d-model must be at least 1, got 0" },
        { ["shapes", "--seq-len", "-4"], "--seq-len must be at least 1, got -4" },
        { ["shapes", "--seq-len", "5", "--max-len", "4"], "--seq-len 5 is longer than --max-len 4" },
        { ["shapes", "--vocab", "many"], "--vocab must be an integer" },
        { ["shapes", "--colour", "red"], "unknown option --colour" },
        { ["params", "--arch", "gpt4"], "--arch must be one of seed, gpt2, gpt3, smollm2-135m" },   // gpt3 is a preset since issue 15
        { ["params", "--d-model", "256", "--heads", "5"], "--heads 5 does not divide --d-model 256" },
        { ["params", "--layers", "2"], "--layers applies to --arch gpt2 and gpt3 only" },
        { ["params", "--arch", "gpt2", "--layers", "0"], "--layers must be at least 1, got 0" },
        { ["params", "--arch", "gpt2", "--vocab", "2000000000", "--d-model", "2000000000", "--heads", "1"], "does not fit in 64 bits" },
        { ["params", "--json", "--json"], "option --json given twice" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInput_OneLine_ExitTwo(string[] args, string expected)
    {
        var r = CliHarness.Run(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        var line = Assert.Single(r.StderrLines);
        Assert.StartsWith($"attnlab {args[0]}: ", line);
        Assert.Contains(expected, line);
        Assert.DoesNotContain("   at ", r.Stderr); // no stack frame
        Assert.DoesNotContain("Exception", r.Stderr);
    }

    [Fact]
    public void UnknownCommand_ExitTwo()
    {
        var r = CliHarness.Run("atention");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unknown command 'atention'", Assert.Single(r.StderrLines));
    }

    /// <summary>The same contract at the process level: the built attnlab, real exit code, real stderr.</summary>
    [Fact]
    public void Process_BadInput_ExitCodeTwo_OneStderrLine()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "attnlab.dll");
        Assert.True(File.Exists(dll), $"{dll} not built");
        // DOTNET_HOST_PATH is set by the dotnet CLI for the processes it starts (dotnet test included).
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

        (int code, string stdout, string stderr) Run(params string[] args)
        {
            var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(dll);
            foreach (var a in args) start.ArgumentList.Add(a);
            using var p = Process.Start(start)!;
            var err = p.StandardError.ReadToEndAsync();
            var output = p.StandardOutput.ReadToEnd();
            Assert.True(p.WaitForExit(60_000), "attnlab did not exit within 60 s");
            return (p.ExitCode, output, err.Result);
        }

        var bad = Run("attention", "--q", "[[1,0],[0,1]", "--k", Q, "--v", V);
        Assert.Equal(2, bad.code);
        Assert.Equal("", bad.stdout);
        var line = Assert.Single(bad.stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("attnlab attention: --q: not valid JSON", line);

        var good = Run("params", "--vocab", "50", "--d-model", "8", "--heads", "2", "--max-len", "4", "--json");
        Assert.Equal(0, good.code);
        Assert.Equal("", good.stderr);
        Assert.Contains("\"total\": 1120", good.stdout);
    }
}
