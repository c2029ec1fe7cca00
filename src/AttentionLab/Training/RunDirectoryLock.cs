namespace AttentionLab.Training;

/// <summary>
/// One writer per run directory: an exclusive OS lock on <see cref="FileName"/> inside it (flock on Linux and
/// macOS, a share-mode lock on Windows), held for as long as a training writes there. The OS drops the lock when
/// the process ends, however it ends, so a killed run never leaves the directory locked; the file itself stays
/// (deleting a lock file would let a third process lock a different file of the same name).
/// </summary>
public sealed class RunDirectoryLock : IDisposable
{
    public const string FileName = ".attnlab-lock";

    private readonly FileStream _stream;

    private RunDirectoryLock(string directory, FileStream stream) { Directory = directory; _stream = stream; }

    /// <summary>The locked directory.</summary>
    public string Directory { get; }

    /// <summary>Creates <paramref name="directory"/> if needed and locks it.</summary>
    /// <exception cref="RunDirectoryBusyException">another process (or another run in this one) holds the lock</exception>
    /// <exception cref="IOException">the directory cannot be created or written (the message names it)</exception>
    public static RunDirectoryLock Acquire(string directory) =>
        TryAcquire(directory) ?? throw new RunDirectoryBusyException(directory);

    /// <summary>Like <see cref="Acquire"/>, but null when another writer holds the lock.</summary>
    public static RunDirectoryLock? TryAcquire(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (directory.Length == 0) throw new IOException("the run directory path is empty");
        if (File.Exists(directory)) throw new IOException($"{directory} is a file, not a directory");
        string path;
        try
        {
            System.IO.Directory.CreateDirectory(directory);
            path = Path.Combine(directory, FileName);
        }
        catch (UnauthorizedAccessException e) { throw new IOException($"cannot create {directory}: {e.Message}", e); }
        FileStream stream;
        try { stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (UnauthorizedAccessException e) { throw new IOException($"cannot write in {directory}: {e.Message}", e); }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException and not PathTooLongException)
        {
            if (!File.Exists(path)) throw new IOException($"cannot write in {directory}: {e.Message}", e);
            return null; // a sharing violation: the lock is held
        }
        try
        {
            // who holds it, for a person looking at the directory (readers never need this)
            stream.SetLength(0);
            stream.Write(System.Text.Encoding.UTF8.GetBytes($"pid {Environment.ProcessId}\n"));
            stream.Flush();
        }
        catch (IOException e) { stream.Dispose(); throw new IOException($"cannot write in {directory}: {e.Message}", e); }
        return new RunDirectoryLock(directory, stream);
    }

    public void Dispose() => _stream.Dispose();
}

/// <summary>A run directory is locked by another writer.</summary>
public sealed class RunDirectoryBusyException(string directory)
    : IOException($"{directory} is being written by another training (it holds {Path.Combine(directory, RunDirectoryLock.FileName)}); wait for it to finish or choose another --out")
{
    public string Directory { get; } = directory;
}
