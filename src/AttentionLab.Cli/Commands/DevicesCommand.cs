using System.Text.Json.Nodes;
using AttentionLab.Cuda;
using AttentionLab.Kernels;

namespace AttentionLab.Cli.Commands;

/// <summary><c>attnlab devices</c>: what <c>--device</c> can pick on this machine: the CPU always; CUDA with the GPU's name,
/// or the reason it is unavailable.</summary>
internal static class DevicesCommand
{
    public const string Summary = "list the devices --device can pick (cpu; cuda with the GPU's name or why it is unavailable)";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var a = new Args(args);
        if (a.Help)
        {
            stdout.WriteLine("usage: attnlab devices [--json]");
            stdout.WriteLine("Lists the devices train, generate, inspect and bench can run on with --device NAME.");
            return 0;
        }
        bool json = a.Json;
        a.EnsureAllUsed();
        var cuda = GpuContext.Probe();
        if (json)
        {
            stdout.WriteLine(new JsonArray(
                new JsonObject { ["name"] = "cpu", ["available"] = true, ["description"] = ComputeDevice.Cpu.Description },
                new JsonObject { ["name"] = "cuda", ["available"] = cuda.IsAvailable, ["description"] = cuda.Description }).ToJsonString());
            return 0;
        }
        stdout.WriteLine($"cpu   available    {ComputeDevice.Cpu.Description}");
        stdout.WriteLine($"cuda  {(cuda.IsAvailable ? "available  " : "unavailable")}  {cuda.Description}");
        return 0;
    }
}
