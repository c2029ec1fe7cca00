using Microsoft.Extensions.Logging;

namespace AttentionLab.Explorer;

/// <summary>
/// Log entries as lines on a <see cref="TextWriter"/> (<c>attnlab explore</c>: stderr), from
/// <paramref name="minimum"/> up. An entry with an exception is followed by the exception in full: its stack trace is
/// for whoever runs the server, while the page gets one line (<see cref="ExplorerApi.ToError"/>).
/// </summary>
public sealed class TextWriterLoggerProvider(TextWriter writer, LogLevel minimum = LogLevel.Warning) : ILoggerProvider
{
    private readonly TextWriter _writer = writer ?? throw new ArgumentNullException(nameof(writer));
    private readonly LogLevel _minimum = minimum;
    private readonly object _lock = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private sealed class Logger(TextWriterLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= owner._minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            lock (owner._lock)
            {
                owner._writer.WriteLine($"{category}: {logLevel.ToString().ToLowerInvariant()}: {formatter(state, exception)}");
                if (exception is not null) owner._writer.WriteLine(exception);
                owner._writer.Flush();
            }
        }
    }
}
