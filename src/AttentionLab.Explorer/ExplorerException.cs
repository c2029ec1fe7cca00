namespace AttentionLab.Explorer;

/// <summary>A bad request, answered with this HTTP status and a one-line <c>{"error": message}</c>.</summary>
public sealed class ExplorerException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}
