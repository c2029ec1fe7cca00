using System.Text.Json;
using AttentionLab.Cuda;
using AttentionLab.Tests.Cli;

namespace AttentionLab.Tests.Cuda;

/// <summary><c>attnlab devices</c> and <c>--device</c>: the CPU always listed; without a GPU, <c>--device cuda</c> is one
/// clear line and exit 2 on every command that takes it.</summary>
public class DeviceCliTests
{
    private static readonly GpuAvailability Cuda = GpuContext.Probe();

    [Fact]
    public void Devices_ListsCpuAndCudaWithNameOrReason()
    {
        var text = CliHarness.Ok("devices");
        Assert.Contains("cpu   available", text);
        Assert.Contains("cuda  ", text);
        Assert.Contains(Cuda.Description, text);
        using var json = JsonDocument.Parse(CliHarness.Ok("devices", "--json"));
        var rows = json.RootElement.EnumerateArray().ToArray();
        Assert.Equal(["cpu", "cuda"], rows.Select(r => r.GetProperty("name").GetString()));
        Assert.True(rows[0].GetProperty("available").GetBoolean());
        Assert.Equal(Cuda.IsAvailable, rows[1].GetProperty("available").GetBoolean());
    }

    [Theory]
    [InlineData("bench", "gemm", "--device", "cuda")]
    [InlineData("bench", "train", "--device", "cuda")]
    [InlineData("bench", "attention", "--device", "cuda", "--variants", "flash")]
    [InlineData("train", "--data", "missing.txt", "--device", "cuda")]
    [InlineData("generate", "--model", "missing", "--device", "cuda")]
    [InlineData("inspect", "--model", "missing", "--device", "cuda")]
    public void DeviceCuda_WithoutAGpu_IsOneLineAndExit2(params string[] args)
    {
        if (Cuda.IsAvailable) return; // on a GPU machine these commands run for real; CudaOnlyTests cover it
        var (code, stdout, stderr) = CliHarness.Run(args);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--device cuda: ", line);
        Assert.Contains(Cuda.Description, line);
    }

    [Fact]
    public void UnknownDevice_IsOneLineAndExit2()
    {
        var (code, _, stderr) = CliHarness.Run("bench", "gemm", "--device", "tpu");
        Assert.Equal(2, code);
        Assert.Contains("--device must be cpu or cuda, got 'tpu'", stderr);
    }
}
