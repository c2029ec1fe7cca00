namespace AttentionLab.Attention;

/// <summary>
/// The attention kernels by name, for tests, benchmarks, models and the command line:
/// <c>AttentionKernels.Get("reference")</c>. Kernels are stateless and thread-safe, so one instance each is shared.
/// </summary>
public static class AttentionKernels
{
    /// <summary>The plain loops every other kernel is tested against.</summary>
    public static IAttentionKernel Reference { get; } = new ScaledDotProductAttention();

    /// <summary>The fast exact kernel (GEMM per head, SIMD softmax, parallel over heads).</summary>
    public static IAttentionKernel Fast { get; } = new FastAttention();

    /// <summary>What models use unless told otherwise: <see cref="Fast"/>.</summary>
    public static IAttentionKernel Default => Fast;

    private static readonly IAttentionKernel[] All = [Reference, Fast];

    /// <summary>Every registered name, in a stable order.</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(k => k.Name).ToArray();

    /// <summary>The kernel with this name (case-insensitive).</summary>
    /// <exception cref="ArgumentException">no kernel has that name; the message lists the known names</exception>
    public static IAttentionKernel Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var kernel in All)
            if (string.Equals(kernel.Name, name, StringComparison.OrdinalIgnoreCase)) return kernel;
        throw new ArgumentException($"unknown attention kernel '{name}'; known kernels: {string.Join(", ", Names)}", nameof(name));
    }

    /// <summary>Like <see cref="Get"/> but returns false instead of throwing.</summary>
    public static bool TryGet(string name, out IAttentionKernel kernel)
    {
        kernel = All.FirstOrDefault(k => string.Equals(k.Name, name, StringComparison.OrdinalIgnoreCase))!;
        return kernel is not null;
    }
}
