using AttentionLab.Tensors;

namespace AttentionLab.Models;

/// <summary>
/// Activation buffers kept between calls: a layer asks for a tensor of a shape and gets its old one back when the
/// shape has not changed (every training step of a fixed-size batch), so the hot loop does not allocate.
/// The contents are not cleared.
/// </summary>
internal static class Reuse
{
    public static Tensor Like(Tensor? slot, int[] shape) =>
        slot is not null && slot.Shape.AsSpan().SequenceEqual(shape) ? slot : new Tensor(shape);

    public static Tensor Get(Tensor? slot, params int[] shape) => Like(slot, shape);

    /// <summary>A zero-filled buffer of this shape (reused when it fits).</summary>
    public static Tensor Zeros(Tensor? slot, params int[] shape)
    {
        var t = Like(slot, shape);
        t.Span.Clear();
        return t;
    }
}
