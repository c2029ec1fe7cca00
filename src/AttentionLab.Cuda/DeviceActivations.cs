using AttentionLab.Models;

namespace AttentionLab.Cuda;

/// <summary>
/// The GPU model's activation arena: the CPU model's <see cref="ActivationLayout"/> (the same slots, with the
/// backward scratch, since the device trains) plus the one float the mean loss is reduced into. Only offsets: the
/// floats live in the model's device buffer.
/// </summary>
public sealed class DeviceActivations : ActivationLayout
{
    public DeviceActivations(DecoderConfig config, int batch, int length, long savedPerBlock)
        : base(config, batch, length, savedPerBlock, training: true)
    {
        MeanLoss = new Slot(Count, 1);
    }

    /// <summary>(1) the mean of <see cref="ActivationLayout.Losses"/>, read back as the step's loss.</summary>
    public Slot MeanLoss { get; }

    /// <summary>Floats the device buffer needs: the layout's and the mean loss.</summary>
    public long Floats => Count + 1;
}
