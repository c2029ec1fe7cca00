namespace AttentionLab.Cli.Commands;

/// <summary>
/// Ctrl+C as a request to stop a training early (the model trained so far is kept) instead of killing the process,
/// for as long as this lives. Only when the output is the console: output captured by a test registers nothing.
/// </summary>
internal sealed class CtrlCStop : IDisposable
{
    private readonly bool _registered;
    private volatile bool _requested;

    public CtrlCStop(TextWriter stdout)
    {
        _registered = ReferenceEquals(stdout, Console.Out);
        if (_registered) Console.CancelKeyPress += OnCancel;
    }

    /// <summary>True once Ctrl+C was pressed.</summary>
    public bool Requested => _requested;

    private void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        e.Cancel = true;
        _requested = true;
    }

    public void Dispose()
    {
        if (_registered) Console.CancelKeyPress -= OnCancel;
    }
}
