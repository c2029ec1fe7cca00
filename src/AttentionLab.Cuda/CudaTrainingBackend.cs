using AttentionLab.Models;
using AttentionLab.Training;

namespace AttentionLab.Cuda;

/// <summary>
/// The GPU <see cref="ITrainingBackend"/>: <see cref="Trainer"/>'s steps with every tensor on the device. Weights,
/// gradients, both AdamW moments and the activations live in <see cref="CudaDecoderModel"/> and <see cref="GpuAdamW"/>
/// (PyTorch's update, the same hyper-parameters and weight-decay ranges as the host optimizer); per step the host
/// uploads B·T token ids and targets and reads back two floats (the loss and the gradient norm). The host model and
/// <see cref="Optimizer"/> are the checkpoint's copies: built from them (so a resumed run continues on the device from
/// the saved state), written back to them by <see cref="SynchronizeHost"/>.
/// </summary>
public sealed class CudaTrainingBackend : ITrainingBackend, IDisposable
{
    private readonly DecoderModel _host;
    private float[]? _m, _v;

    /// <param name="gpu">the device (CUDA, or the CPU simulator in tests)</param>
    /// <param name="host">the CPU model whose weights start the run and receive the device's at each checkpoint</param>
    /// <param name="optimizer">the host AdamW (fresh, or restored from a checkpoint); its moments and step count are
    /// uploaded, its options and decayed ranges used</param>
    /// <param name="attention">the GPU kernel ("naive" or "flash"); null: the host model's kernel</param>
    /// <exception cref="ArgumentException">the kernel has no GPU version</exception>
    public CudaTrainingBackend(GpuContext gpu, DecoderModel host, AdamW optimizer, string? attention = null)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        _host = host ?? throw new ArgumentNullException(nameof(host));
        Optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        if (optimizer.FirstMoment.Length != host.Layout.Count)
            throw new ArgumentException($"the optimizer has {optimizer.FirstMoment.Length} moments; the model {host.Layout.Count} parameters");
        var model = new CudaDecoderModel(gpu, host.Config, attention ?? host.Attention.Name) { AttentionOptions = host.AttentionOptions };
        GpuAdamW? adamW = null;
        try
        {
            model.UploadParameters(host.Parameters);
            adamW = new GpuAdamW(gpu.Ops, host.Layout.Count, optimizer.Options, host.Layout.Matrices.Select(v => (v.Offset, v.Length)).ToArray());
            adamW.Restore(optimizer.FirstMoment.Span, optimizer.SecondMoment.Span, optimizer.StepCount);
        }
        catch
        {
            adamW?.Dispose();
            model.Dispose();
            throw;
        }
        Model = model;
        DeviceOptimizer = adamW;
    }

    /// <summary>The device-resident model.</summary>
    public CudaDecoderModel Model { get; }

    /// <summary>AdamW's moments on the device.</summary>
    public GpuAdamW DeviceOptimizer { get; }

    public AdamW Optimizer { get; }
    public string Device => "cuda";
    public int VocabSize => Model.Config.VocabSize;
    public int Context => Model.Config.ContextLength;

    public void ZeroGrad() => Model.ZeroGrad();

    public float Forward(ReadOnlySpan<int> tokens, int batch, int length, ReadOnlySpan<int> targets) =>
        Model.Forward(tokens, batch, length, targets);

    public void Backward() => Model.Backward();

    public float OptimizerStep(float maxNorm, float learningRate) =>
        DeviceOptimizer.Step(Model.Parameters, Model.Gradients, maxNorm, learningRate);

    public void SynchronizeHost()
    {
        Model.DownloadParameters(_host.Parameters);
        _m ??= new float[Model.Layout.Count];
        _v ??= new float[Model.Layout.Count];
        DeviceOptimizer.DownloadMoments(_m, _v);
        Optimizer.Restore(_m, _v, DeviceOptimizer.StepCount);
    }

    public void Dispose()
    {
        DeviceOptimizer.Dispose();
        Model.Dispose();
    }
}
