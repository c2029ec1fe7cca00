using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace AttentionLab.Cuda;

/// <summary>What <see cref="GpuContext.Probe"/> found: a CUDA GPU's name, or why there is none.</summary>
/// <param name="IsAvailable">true when a CUDA device can be opened</param>
/// <param name="Description">the GPU's name and memory, or the reason it is unavailable (one line)</param>
public sealed record GpuAvailability(bool IsAvailable, string Description);

/// <summary>The GPU is not there (no device, no driver, or the driver refused): one line saying which.</summary>
public sealed class GpuUnavailableException(string message) : Exception(message);

/// <summary>
/// One ILGPU context and accelerator, and the compiled kernels (<see cref="Ops"/>). <see cref="CreateCuda"/> opens
/// the first CUDA GPU (kernels compiled to PTX at run time; only the NVIDIA driver is needed);
/// <see cref="CreateCpuSimulator"/> runs the very same kernels on ILGPU's CPU accelerator, which simulates groups,
/// shared memory and barriers with threads: slow, but it is how CI (no GPU) checks every kernel against the CPU path.
/// </summary>
public sealed class GpuContext : IDisposable
{
    private readonly Context _context;
    private GpuOps? _ops;

    private GpuContext(Context context, Accelerator accelerator)
    {
        _context = context;
        Accelerator = accelerator;
    }

    public Accelerator Accelerator { get; }

    /// <summary>True on a real CUDA device, false on the CPU simulator.</summary>
    public bool IsCuda => Accelerator.AcceleratorType == AcceleratorType.Cuda;

    /// <summary>The device's name as the driver reports it (e.g. "NVIDIA H200").</summary>
    public string Name => Accelerator.Name;

    /// <summary>One line: name, memory, compute capability (CUDA) or the simulator's shape.</summary>
    public string Description => Accelerator is CudaAccelerator cuda
        ? $"{cuda.Name}, {cuda.MemorySize / (1024.0 * 1024 * 1024):0.0} GiB, compute capability {cuda.Architecture}, driver {cuda.DriverVersion}"
        : $"ILGPU CPU simulator ({Accelerator.MaxNumThreadsPerGroup} threads per group)";

    /// <summary>The kernels, compiled on first use of each.</summary>
    public GpuOps Ops => _ops ??= new GpuOps(Accelerator);

    /// <summary>
    /// Looks for a CUDA GPU without keeping it open. Never throws: a missing driver library, a driver too old for
    /// ILGPU's PTX, or no device each give a one-line reason.
    /// </summary>
    public static GpuAvailability Probe()
    {
        try
        {
            using var context = Context.Create(b => b.Cuda());
            var devices = context.GetCudaDevices();
            if (devices.Count == 0) return new(false, NoDeviceReason());
            var d = devices[0];
            return new(true, $"{d.Name}, {d.MemorySize / (1024.0 * 1024 * 1024):0.0} GiB, compute capability {d.Architecture}");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new(false, $"the CUDA driver could not be used: {FirstLine(e.Message)}");
        }
    }

    /// <summary>Opens the first CUDA GPU, or throws <see cref="GpuUnavailableException"/> with the reason.</summary>
    public static GpuContext CreateCuda()
    {
        Context? context = null;
        try
        {
            context = Context.Create(b => b.Cuda().EnableAlgorithms().Math(MathMode.Fast32BitOnly).Optimize(OptimizationLevel.O2));
            var devices = context.GetCudaDevices();
            if (devices.Count == 0) throw new GpuUnavailableException(NoDeviceReason());
            return new GpuContext(context, devices[0].CreateAccelerator(context));
        }
        catch (GpuUnavailableException) { context?.Dispose(); throw; }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            context?.Dispose();
            throw new GpuUnavailableException($"the CUDA driver could not be used: {FirstLine(e.Message)}");
        }
    }

    /// <summary>
    /// ILGPU's CPU accelerator shaped like a small GPU: one multiprocessor, two warps of 32, up to 64 threads per group
    /// (the largest group these kernels launch). Same kernels, same results to float rounding.
    /// </summary>
    public static GpuContext CreateCpuSimulator()
    {
        var device = new CPUDevice(numThreadsPerWarp: 32, numWarpsPerMultiprocessor: 2, numMultiprocessors: 1);
        var context = Context.Create(b => b.CPU(device).EnableAlgorithms().Math(MathMode.Fast32BitOnly));
        return new GpuContext(context, context.GetCPUDevice(0).CreateAccelerator(context));
    }

    /// <summary>Waits for every launched kernel (timing, and before reading results on the host).</summary>
    public void Synchronize() => Accelerator.Synchronize();

    public void Dispose()
    {
        _ops = null;
        Accelerator.Dispose();
        _context.Dispose();
    }

    private static string NoDeviceReason() =>
        OperatingSystem.IsLinux() && !File.Exists("/proc/driver/nvidia/version")
            ? "no NVIDIA driver is loaded (/proc/driver/nvidia/version is missing)"
            : "no CUDA device was found";

    private static string FirstLine(string text)
    {
        int i = text.IndexOfAny(['\r', '\n']);
        return i < 0 ? text : text[..i];
    }
}
