namespace AttentionLab.Attention;

/// <summary>
/// Registers the kernel families beyond naive and fast with <see cref="AttentionKernels"/>: one line each, so adding
/// a kernel touches only its own file and this list.
/// </summary>
internal static class AttentionKernelRegistrations
{
    public static void RegisterAll()
    {
        AttentionKernels.Register("flash", "flash[,tile:N]", FlashAttention.FromSpec);
        AttentionKernels.Register("window", "window:W[,global:G][,two-sided:1]", WindowAttention.FromSpec);
        AttentionKernels.Register("performer", "performer:F[,seed:S]", PerformerAttention.FromSpec);
    }
}
