using System.Diagnostics;
using AttentionLab.Cli;

namespace AttentionLab.Tests.Cli;

/// <summary>Runs a command in-process, as Program does, and captures what it writes.</summary>
public static class CliHarness
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public static Result Run(params string[] args)
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        int code = AttentionLab.Cli.Cli.Run(args, stdout, stderr);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs and asserts success with nothing on stderr.</summary>
    public static string Ok(params string[] args)
    {
        var r = Run(args);
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
        Assert.Equal("", r.Stderr);
        Assert.DoesNotContain('\u001b', r.Stdout); // no terminal escape codes in captured output
        return r.Stdout;
    }

    /// <summary>Starts attnlab as a separate process (stdout and stderr redirected), for what needs a second process:
    /// a kill, or a writer that holds an OS lock while the test runs another.</summary>
    public static Process Start(params string[] args) => StartIn(null, args);

    /// <summary>As <see cref="Start"/>, in <paramref name="workingDirectory"/> (null: this process's).</summary>
    public static Process StartIn(string? workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "attnlab.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["DOTNET_TieredPGO"] = "0";
        return Process.Start(info)!;
    }
}
