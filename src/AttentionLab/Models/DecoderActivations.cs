namespace AttentionLab.Models;

/// <summary>
/// The CPU model's activations of one (B, T): the <see cref="ActivationLayout"/> and its floats, allocated once and
/// reused by every step with the same or a smaller B·T; inference allocates no saved state and no backward scratch.
/// </summary>
internal sealed class DecoderActivations : ActivationLayout
{
    /// <param name="reuse">an earlier arena to write into when it is large enough</param>
    public DecoderActivations(DecoderConfig config, int batch, int length, long savedPerBlock, bool training, float[]? reuse,
        int memoryLength = 0, long crossSavedPerBlock = 0)
        : base(config, batch, length, savedPerBlock, training, memoryLength, crossSavedPerBlock)
    {
        if (Count > Array.MaxLength) throw new OutOfMemoryException($"activations for B = {batch}, T = {length} do not fit one array");
        Data = reuse is not null && reuse.Length >= Count ? reuse : new float[Count];
        Tokens = new int[batch * length];
        Targets = new int[batch * length];
    }

    public float[] Data { get; }
    public int[] Tokens { get; }
    public int[] Targets { get; }

    public Span<float> this[Slot s] => Data.AsSpan(s.Offset, s.Length);
}
