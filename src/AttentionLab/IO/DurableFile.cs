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

    /// <summary>
    /// Replaces <paramref name="path"/> (or creates it) with what <paramref name="write"/> writes: into a hidden temporary
    /// file beside it (a fresh name, so no file of the user's is touched), fsynced, renamed over <paramref name="path"/>
    /// (atomic), then the directory fsynced. Readers see the old file or the new one, never a part; a failure leaves
    /// <paramref name="path"/> as it was and no temporary behind.
    /// </summary>
    public static void Replace(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            Write(temp, write);
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
        SyncDirectory(directory);
    }

    /// <summary><see cref="Replace(string, Action{Stream})"/> with UTF-8 text (no byte-order mark).</summary>
    public static void Replace(string path, string text) =>
        Replace(path, s => s.Write(System.Text.Encoding.UTF8.GetBytes(text)));

    /// <summary>fsync of a directory (a no-op where the platform offers none).</summary>
    public static void SyncDirectory(string directory) => NativeFile.SyncDirectory(directory);
}
