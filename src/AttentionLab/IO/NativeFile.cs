using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace AttentionLab.IO;

/// <summary>
/// The few POSIX calls .NET does not expose: opening a path without blocking (a FIFO blocks a plain open until a
/// writer appears), asking what kind of file a descriptor is (regular, directory, FIFO, device), and fsync of a
/// directory (so a rename inside it survives a power cut). Linux x64/arm64 only; elsewhere the callers fall back
/// to managed calls (<see cref="IsSupported"/> is false).
/// </summary>
internal static class NativeFile
{
    private const int ORdOnly = 0, ONonBlock = 0x800, OCloExec = 0x80000;
    private const uint SIfMt = 0xF000, SIfReg = 0x8000, SIfDir = 0x4000;

    /// <summary>Offset of st_mode in glibc's struct stat: after st_dev, st_ino, st_nlink on x64; after st_dev, st_ino on arm64.</summary>
    private static readonly int ModeOffset = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 24,
        Architecture.Arm64 => 16,
        _ => -1,
    };

    public static bool IsSupported { get; } = OperatingSystem.IsLinux() && ModeOffset >= 0 && Probe();

    public enum Kind { Regular, Directory, Other }

    [DllImport("libc", SetLastError = true, EntryPoint = "open")]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true, EntryPoint = "fstat")]
    private static extern unsafe int FStat(int fd, byte* buffer);

    [DllImport("libc", SetLastError = true, EntryPoint = "fsync")]
    private static extern int FSync(int fd);

    [DllImport("libc", SetLastError = true, EntryPoint = "close")]
    private static extern int Close(int fd);

    private static bool Probe()
    {
        try
        {
            int fd = Open("/", ORdOnly | OCloExec);
            if (fd < 0) return false;
            try { return KindOf(fd) == Kind.Directory; }
            finally { Close(fd); }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }

    private static unsafe Kind KindOf(int fd)
    {
        byte* buffer = stackalloc byte[512]; // struct stat is 144 bytes on x64, 128 on arm64
        if (FStat(fd, buffer) != 0) throw new IOException($"fstat failed (errno {Marshal.GetLastPInvokeError()})");
        uint mode = *(uint*)(buffer + ModeOffset) & SIfMt;
        return mode == SIfReg ? Kind.Regular : mode == SIfDir ? Kind.Directory : Kind.Other;
    }

    /// <summary>Opens <paramref name="path"/> for reading without blocking and says what it is. The handle is
    /// returned only for a regular file (null otherwise, already closed).</summary>
    /// <returns>null handle and the kind when the path is not a regular file; throws FileNotFoundException when it is missing.</returns>
    public static (SafeFileHandle? Handle, Kind Kind) OpenForReading(string path)
    {
        int fd = Open(path, ORdOnly | ONonBlock | OCloExec);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw errno switch
            {
                2 or 20 => new FileNotFoundException($"{path} does not exist", path),   // ENOENT, ENOTDIR
                13 or 1 => new UnauthorizedAccessException($"{path}: permission denied"), // EACCES, EPERM
                40 => new IOException($"{path}: too many levels of symbolic links"),      // ELOOP
                _ => new IOException($"{path}: cannot open (errno {errno})"),
            };
        }
        Kind kind;
        try { kind = KindOf(fd); }
        catch { Close(fd); throw; }
        if (kind != Kind.Regular) { Close(fd); return (null, kind); }
        return (new SafeFileHandle(fd, ownsHandle: true), kind);
    }

    /// <summary>fsync of a directory: makes the renames and creations inside it durable. A no-op where unsupported.</summary>
    public static void SyncDirectory(string directory)
    {
        if (!IsSupported) return;
        int fd = Open(directory, ORdOnly | OCloExec);
        if (fd < 0) throw new IOException($"{directory}: cannot open to sync (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (FSync(fd) != 0) throw new IOException($"{directory}: fsync failed (errno {Marshal.GetLastPInvokeError()})");
        }
        finally { Close(fd); }
    }
}
