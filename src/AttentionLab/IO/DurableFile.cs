namespace AttentionLab.IO;

/// <summary>
/// Writes that survive a kill or a power cut: a file is written, flushed and fsynced before anyone renames it;
/// a directory is fsynced after a rename or creation inside it, so the new name is on disk too.
/// </summary>
public static class DurableFile
{
    /// <summary>Creates <paramref name="path"/> (which must not exist), writes it and fsyncs it.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        write(stream);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>fsync of a directory (a no-op where the platform offers none).</summary>
    public static void SyncDirectory(string directory) => NativeFile.SyncDirectory(directory);
}
