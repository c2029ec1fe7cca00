namespace AttentionLab.Cli.Commands;

/// <summary>
/// Ctrl+C as a request to stop a training early (the model trained so far is kept) instead of killing the process,
/// for as long as this lives: it cancels <see cref="Token"/>, which the library's <see cref="AttentionLab.Training.RunPolicy"/>
/// checks after each step. Only when the output is the console: output captured by a test registers nothing.
/// </summary>
internal sealed class CtrlCStop : IDisposable
{
    private readonly bool _registered;
    private readonly CancellationTokenSource _cancel = new();

    public CtrlCStop(TextWriter stdout)
    {
        _registered = ReferenceEquals(stdout, Console.Out);
        if (_registered) Console.CancelKeyPress += OnCancel;
    }

    /// <summary>Cancelled once Ctrl+C was pressed.</summary>
    public CancellationToken Token => _cancel.Token;

    private void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        e.Cancel = true;
        _cancel.Cancel();
    }

    public void Dispose()
    {
        if (_registered) Console.CancelKeyPress -= OnCancel;
        _cancel.Dispose();
    }
}
