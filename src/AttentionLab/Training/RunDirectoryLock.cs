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

    /// <summary>
    /// A new, locked run directory under <paramref name="root"/>: root/20261123-091500 (then -2, -3, …). A name is
    /// taken only if it did not exist or is an empty directory whose lock we won, so two trainings started in the same
    /// second get two directories.
    /// </summary>
    /// <exception cref="IOException">no directory can be created under <paramref name="root"/></exception>
    public static RunDirectoryLock AcquireNew(string root = "runs")
    {
        ArgumentNullException.ThrowIfNull(root);
        var stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture);
        for (int k = 1; k < 10_000; k++)
        {
            var path = Path.Combine(root, k == 1 ? stamp : $"{stamp}-{k}");
            if (File.Exists(path)) continue;
            if (System.IO.Directory.Exists(path) && !HoldsOnlyLock(path)) continue;
            RunDirectoryLock? l;
            try { l = TryAcquire(path); }
            catch (IOException e) { throw new IOException($"cannot create a run directory under {root}: {e.Message}", e); }
            if (l is null) continue;
            // another run may have created and left the directory between our look and our lock
            if (HoldsOnlyLock(path)) return l;
            l.Dispose();
        }
        throw new IOException($"no free run directory name under {root}");
    }

    /// <summary>Deletes <paramref name="directory"/> when it holds nothing but a lock file (a start that failed before
    /// writing anything); anything else, or an error, leaves it as it is.</summary>
    public static void RemoveIfOnlyLock(string directory)
    {
        try
        {
            if (!System.IO.Directory.Exists(directory) || !HoldsOnlyLock(directory)) return;
            foreach (var e in System.IO.Directory.GetFileSystemEntries(directory)) File.Delete(e);
            System.IO.Directory.Delete(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    private static bool HoldsOnlyLock(string directory) =>
        System.IO.Directory.EnumerateFileSystemEntries(directory).All(e => Path.GetFileName(e) == FileName);

    public void Dispose() => _stream.Dispose();
}

/// <summary>A run directory is locked by another writer.</summary>
public sealed class RunDirectoryBusyException(string directory)
    : IOException($"{directory} is being written by another training (it holds {Path.Combine(directory, RunDirectoryLock.FileName)}); wait for it to finish or choose another --out")
{
    public string Directory { get; } = directory;
}

/// <summary>A new run's directory already holds files a checkpoint would overwrite.</summary>
/// <param name="existing">those files</param>
/// <param name="holdsModel">true when they are (part of) a saved model or run (<see cref="TrainingCheckpoint.HoldsModel"/>)</param>
public sealed class RunDirectoryOccupiedException(string directory, IReadOnlyList<string> existing, bool holdsModel)
    : IOException(holdsModel ? $"{directory} already holds a model" : $"{directory} holds {string.Join(", ", existing)}, which a checkpoint would overwrite")
{
    public string Directory { get; } = directory;
    public IReadOnlyList<string> Existing { get; } = existing;
    public bool HoldsModel { get; } = holdsModel;
}
