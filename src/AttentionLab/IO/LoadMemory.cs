namespace AttentionLab.IO;

/// <summary>
/// What loading a checkpoint into float32 needs, against what the process may use.
/// <list type="bullet">
/// <item><see cref="WeightBytes"/>: every tensor as float32, the parameter arena they are copied into (a BF16 or F16
///   file takes twice its size);</item>
/// <item><see cref="WorkingSetBytes"/>: the bounded rest: one tensor in flight twice (its stored bytes and its
///   float32 copy, so at most 2 × the largest tensor as float32), plus <see cref="ReserveBytes"/> for the activations,
///   logits and KV cache of a short generation and the runtime itself.</item>
/// </list>
/// </summary>
/// <param name="AvailableBytes">GC.GetGCMemoryInfo().TotalAvailableMemoryBytes: the machine's memory, or the
/// container's limit.</param>
public sealed record LoadMemory(long WeightBytes, long WorkingSetBytes, string LargestTensor, long AvailableBytes)
{
    /// <summary>The fixed part of the working set: 256 MiB.</summary>
    public const long ReserveBytes = 256L << 20;

    /// <summary>The estimate for <paramref name="values"/> weights whose largest tensor holds
    /// <paramref name="largestTensorValues"/>, loaded into float32.</summary>
    public static LoadMemory Estimate(long values, long largestTensorValues, string largestTensor, long availableBytes) =>
        new(values * 4, 2 * largestTensorValues * 4 + ReserveBytes, largestTensor, availableBytes);

    /// <summary>Weights plus working set.</summary>
    public long RequiredBytes => WeightBytes + WorkingSetBytes;

    /// <summary>True when <see cref="RequiredBytes"/> ≤ <see cref="AvailableBytes"/>.</summary>
    public bool Fits => RequiredBytes <= AvailableBytes;

    /// <summary>"1.23 GiB" / "456.7 MiB".</summary>
    public static string Format(long bytes) => bytes >= 1L << 30
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F2} GiB")
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB");
}
