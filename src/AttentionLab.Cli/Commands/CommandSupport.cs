using System.Globalization;

namespace AttentionLab.Cli.Commands;

/// <summary>Small helpers shared by the commands.</summary>
internal static class CommandSupport
{
    /// <summary>True when output goes to an interactive terminal (live progress, colours).</summary>
    public static bool IsTerminal(TextWriter stdout) =>
        ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("TERM") != "dumb";

    /// <summary>The kernel <c>--attention NAME</c> names (null: the default), or one clear error listing the known ones.</summary>
    public static AttentionLab.Attention.IAttentionKernel Kernel(string? name)
    {
        if (name is null) return AttentionLab.Attention.AttentionKernels.Default;
        try { return AttentionLab.Attention.AttentionKernels.Parse(name); }
        catch (ArgumentException e) { throw new CliError($"--attention: {e.Message}"); }
    }

    /// <summary>One help line for <c>--device</c>, shared by every command that takes it.</summary>
    public const string DeviceHelp = "  --device cpu|cuda  where the arithmetic runs (default cpu; 'attnlab devices' lists what this machine has)";

    /// <summary>The device <c>--device NAME</c> names: "cpu" (also when absent) or "cuda" — or, when the GPU or its driver
    /// is missing, one clear error (exit 2) saying why, before any work starts.</summary>
    /// <summary>The device object for a checked <c>--device</c> name: the CPU, or the process's GPU.</summary>
    public static Kernels.ComputeDevice OpenDevice(string device) => device == "cuda" ? CudaCommands.ComputeDevice() : Kernels.ComputeDevice.Cpu;

    public static string Device(string? name)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case null or "cpu": return "cpu";
            case "cuda" or "gpu":
                if (CudaCommands.TestGpu.Value is not null) return "cuda";
                var probe = AttentionLab.Cuda.GpuContext.Probe();
                if (!probe.IsAvailable) throw new CliError($"--device cuda: {probe.Description}");
                return "cuda";
            default: throw new CliError($"--device must be cpu or cuda, got '{name}'");
        }
    }

    /// <summary>Parses <c>--ids 1,2,3</c>.</summary>
    /// <summary>One <c>--dtype</c> value: f32, bf16, f16 or q8_0.</summary>
    public static Kernels.WeightFormat WeightFormat(string name)
    {
        try { return Kernels.WeightFormats.Parse(name.Trim()); }
        catch (ArgumentException e) { throw new CliError($"--dtype: {e.Message}"); }
    }

    /// <summary>A comma-separated <c>--dtype</c> list (bench generate).</summary>
    public static Kernels.WeightFormat[] WeightFormats(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(WeightFormat).Distinct().ToArray() is { Length: > 0 } formats
            ? formats : throw new CliError("--dtype: give at least one of f32, bf16, f16, q8_0");

    public static int[] ParseIds(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out ids[i]))
                throw new CliError($"--ids must be comma-separated non-negative integers, got '{parts[i]}'");
        return ids;
    }

    /// <summary>Fails now, not after an hour of training, when the run directory cannot be written.</summary>
    public static void EnsureWritable(string directory)
    {
        if (File.Exists(directory)) throw new CliError($"--out {directory} is a file, not a directory");
        var parent = Path.GetDirectoryName(Path.GetFullPath(directory)) ?? directory;
        try
        {
            Directory.CreateDirectory(parent);
            var probe = Path.Combine(parent, $".attnlab-probe-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliError($"cannot write to {parent}: {e.Message}");
        }
    }

    /// <summary>m:ss or h:mm:ss.</summary>
    public static string Clock(TimeSpan t) =>
        t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);

    public static string F(double v, string format = "0.0000") => v.ToString(format, CultureInfo.InvariantCulture);
}
