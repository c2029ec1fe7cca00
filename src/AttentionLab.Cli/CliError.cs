namespace AttentionLab.Cli;

/// <summary>
/// A problem with what the user gave us (arguments, files, data). Program prints its message as one
/// line on stderr and exits with <see cref="ExitCode"/> (2 for usage and input errors) — never a stack trace.
/// </summary>
public sealed class CliError(string message, int exitCode = 2) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
