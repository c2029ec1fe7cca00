using ILGPU;
using ILGPU.Runtime;

namespace AttentionLab.Cuda;

/// <summary>Sizes, scale and masks of one device attention call. Window −1 = no window; padding 0 = none.</summary>
internal readonly record struct AttentionArgs(int Batch, int Heads, int QueryLength, int KeyLength, int HeadDim, float Scale,
    int Causal, int WindowBefore, int WindowAfter, int HasPadding)
{
    /// <summary>The masking rule of <see cref="Attention.AttentionOptions.Allows"/> for causal, window and key padding.</summary>
    public bool Allows(ArrayView<int> padding, int b, int i, int j)
    {
        // the query's position on the key axis (bottom-right aligned): Attention.AttentionOptions.AlignedPosition, the one
        // definition, repeated inline because ILGPU compiles this kernel on its own; causal is j ≤ p (CausalAllows)
        int p = i + KeyLength - QueryLength;
        if (Causal != 0 && j > p) return false;
        if (WindowBefore >= 0 && (j < p - WindowBefore || j > p + WindowAfter)) return false;
        if (HasPadding != 0 && padding[(long)b * KeyLength + j] == 0) return false;
        return true;
    }
}

/// <summary>
/// Materializing ("naive") attention on the device: S = scale·Q·Kᵀ and O = P·V as batched GEMMs over the B·H heads,
/// the masks and the row softmax as kernels; backward through dP = dO·Vᵀ, dV = Pᵀ·dO, dS = P ⊙ (dP − rowsum(dP ⊙ P)),
/// dQ = scale·dS·K, dK = scale·dSᵀ·Q. Memory O(T²) per head: what Flash avoids.
/// </summary>
public sealed partial class GpuOps
{
    private Action<Index1D, ArrayView<float>, ArrayView<int>, AttentionArgs>? _mask;

    /// <param name="weights">(B, H, Tq, Tk) the probabilities P, written (saved for backward)</param>
    /// <param name="output">(B, H, Tq, D)</param>
    internal void NaiveAttentionForward(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, AttentionArgs a, ArrayView<int> padding,
        ArrayView<float> output, ArrayView<float> weights)
    {
        int bh = a.Batch * a.Heads, tq = a.QueryLength, tk = a.KeyLength, d = a.HeadDim;
        MatMul(q, k, weights, tq, tk, d, transposeB: true, alpha: a.Scale, batch: bh, strideA: (long)tq * d, strideB: (long)tk * d, strideC: (long)tq * tk);
        MaskScores(weights, a, padding);
        SoftmaxForward(weights, weights, bh * tq, tk);
        MatMul(weights, v, output, tq, d, tk, batch: bh, strideA: (long)tq * tk, strideB: (long)tk * d, strideC: (long)tq * d);
    }

    /// <param name="weights">(B, H, Tq, Tk) from forward</param>
    /// <param name="scratch">(B, H, Tq, Tk) room for dP and dS</param>
    internal void NaiveAttentionBackward(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> weights,
        ArrayView<float> dOutput, AttentionArgs a, ArrayView<float> scratch, ArrayView<float> dq, ArrayView<float> dk, ArrayView<float> dv)
    {
        int bh = a.Batch * a.Heads, tq = a.QueryLength, tk = a.KeyLength, d = a.HeadDim;
        long sQ = (long)tq * d, sK = (long)tk * d, sW = (long)tq * tk;
        MatMul(dOutput, v, scratch, tq, tk, d, transposeB: true, batch: bh, strideA: sQ, strideB: sK, strideC: sW);          // dP
        MatMul(weights, dOutput, dv, tk, d, tq, transposeA: true, batch: bh, strideA: sW, strideB: sQ, strideC: sK);          // dV = Pᵀ·dO
        SoftmaxBackward(weights, scratch, scratch, bh * tq, tk);                                                               // dS
        MatMul(scratch, k, dq, tq, d, tk, alpha: a.Scale, batch: bh, strideA: sW, strideB: sK, strideC: sQ);                   // dQ
        MatMul(scratch, q, dk, tk, d, tq, transposeA: true, alpha: a.Scale, batch: bh, strideA: sW, strideB: sQ, strideC: sK); // dK
    }

    /// <summary>Masked scores become −∞ (softmax then gives them 0).</summary>
    internal void MaskScores(ArrayView<float> scores, AttentionArgs a, ArrayView<int> padding)
    {
        if (a.Causal == 0 && a.WindowBefore < 0 && a.HasPadding == 0) return;
        _mask ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, AttentionArgs>(MaskKernel);
        _mask((int)scores.Length, scores, padding, a);
    }

    private static void MaskKernel(Index1D index, ArrayView<float> s, ArrayView<int> padding, AttentionArgs a)
    {
        int j = index % a.KeyLength, row = index / a.KeyLength, i = row % a.QueryLength, b = row / a.QueryLength / a.Heads;
        if (!a.Allows(padding, b, i, j)) s[index] = float.NegativeInfinity;
    }
}
