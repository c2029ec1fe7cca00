namespace AttentionLab.Cuda;

/// <summary>An (offset, length) slot in the device activation arena (long: GPT-2 124M at 8 × 1024 needs billions).</summary>
public readonly record struct DeviceSlot(long Offset, long Length);

/// <summary>The forward activations one block keeps for its backward pass on the device. N = B·T.</summary>
public sealed record DeviceBlockActivations(
    DeviceSlot Norm1, DeviceSlot Norm1Mean, DeviceSlot Norm1Rstd,   // (N, C), (N), (N)
    DeviceSlot Qkv,                                                // (N, 3C)
    DeviceSlot Q, DeviceSlot K, DeviceSlot V,                      // (B, H, T, D) each
    DeviceSlot AttentionOutput,                                    // (B, H, T, D)
    DeviceSlot AttentionSaved,                                     // the kernel's saved state (weights or log-sum-exp)
    DeviceSlot AttentionMerged,                                    // (N, C)
    DeviceSlot Residual2,                                          // (N, C)
    DeviceSlot Norm2, DeviceSlot Norm2Mean, DeviceSlot Norm2Rstd,   // (N, C), (N), (N)
    DeviceSlot Fc, DeviceSlot FcGelu,                              // (N, 4C) each
    DeviceSlot Residual3);                                         // (N, C) block output

/// <summary>
/// The layout of every activation of one (B, T) in one device arena, as the CPU model's DecoderActivations: the same
/// slots, plus the backward scratch shared by all blocks. Only offsets: the floats live in the model's buffer.
/// </summary>
public sealed class DeviceActivations
{
    public DeviceActivations(Models.DecoderConfig config, int batch, int length, long savedPerBlock)
    {
        Batch = batch; Length = length; SavedPerBlock = savedPerBlock;
        long n = (long)batch * length, c = config.Channels;
        long offset = 0;
        DeviceSlot Take(long count) { var s = new DeviceSlot(offset, count); offset += count; return s; }
        Encoded = Take(n * c);
        var blocks = new DeviceBlockActivations[config.Layers];
        for (int l = 0; l < blocks.Length; l++)
            blocks[l] = new DeviceBlockActivations(Take(n * c), Take(n), Take(n), Take(3 * n * c), Take(n * c), Take(n * c), Take(n * c),
                Take(n * c), Take(savedPerBlock), Take(n * c), Take(n * c), Take(n * c), Take(n), Take(n), Take(4 * n * c), Take(4 * n * c), Take(n * c));
        Blocks = blocks;
        FinalNorm = Take(n * c); FinalNormMean = Take(n); FinalNormRstd = Take(n);
        Logits = Take(n * config.VocabSize);
        Losses = Take(n); LogSumExp = Take(n); MeanLoss = Take(1);
        DResidual = Take(n * c); DNorm = Take(n * c); DQkv = Take(3 * n * c);
        DQ = Take(n * c); DK = Take(n * c); DV = Take(n * c);
        DAttention = Take(n * c); DMerged = Take(n * c); DFc = Take(4 * n * c);
        Count = offset;
    }

    public int Batch { get; }
    public int Length { get; }
    public long SavedPerBlock { get; }

    /// <summary>Floats in the arena.</summary>
    public long Count { get; }

    public DeviceSlot Encoded { get; }
    public IReadOnlyList<DeviceBlockActivations> Blocks { get; }
    public DeviceSlot FinalNorm { get; }
    public DeviceSlot FinalNormMean { get; }
    public DeviceSlot FinalNormRstd { get; }
    public DeviceSlot Logits { get; }
    public DeviceSlot Losses { get; }
    public DeviceSlot LogSumExp { get; }
    public DeviceSlot MeanLoss { get; }
    public DeviceSlot DResidual { get; }
    public DeviceSlot DNorm { get; }
    public DeviceSlot DQkv { get; }
    public DeviceSlot DQ { get; }
    public DeviceSlot DK { get; }
    public DeviceSlot DV { get; }
    public DeviceSlot DAttention { get; }
    public DeviceSlot DMerged { get; }
    public DeviceSlot DFc { get; }
}
