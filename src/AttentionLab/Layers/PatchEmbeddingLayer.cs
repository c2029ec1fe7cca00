using AttentionLab.Hooks;
using AttentionLab.Models;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AttentionLab.Layers;

/// <summary>
/// ViT's input (Dosovitskiy et al. 2021, eq. 1): images to the residual stream.
/// <code>
/// patches = patchify(images)                   (B, N, P²)   N = (S/P)², row-major over the patch grid, pixels (ky, kx)
/// x[b, 1..N] = patches[b]·W + b                (B, N, C)    W (P², C): PyTorch's Conv2d(1, C, P, stride=P) weight
///                                                           (C, 1, P, P) flattened and transposed
/// x[b, 0] = cls_token                          (C)          the same learned vector for every image
/// x = x + pos_embed                            (B, T, C)    T = N + 1, learned positions, [CLS] first
/// </code>
/// hook_embed sees [CLS] and the projected patches, hook_pos_embed what the positions add. Forward and backward
/// side by side; the (B, N, P²) patches are the backward's saved input.
/// </summary>
internal sealed class PatchEmbeddingLayer(ParameterView weight, ParameterView bias, ParameterView classToken, ParameterView positions,
    int imageSize, int patchSize, int channels)
{
    public ParameterView Weight { get; } = weight;
    public ParameterView Bias { get; } = bias;
    public ParameterView ClassToken { get; } = classToken;
    public ParameterView Positions { get; } = positions;
    public int ImageSize { get; } = imageSize;
    public int PatchSize { get; } = patchSize;
    public int Patches => (ImageSize / PatchSize) * (ImageSize / PatchSize);
    private int PatchDim => PatchSize * PatchSize;

    /// <summary>Cuts images into flattened patches.</summary>
    /// <param name="images">(B, S·S) row-major pixels</param>
    /// <param name="patches">(B, N, P²), overwritten</param>
    public static void Patchify(ReadOnlySpan<float> images, int batch, int imageSize, int patchSize, Span<float> patches)
    {
        int side = imageSize / patchSize, n = side * side, pp = patchSize * patchSize;
        for (int b = 0; b < batch; b++)
            for (int py = 0; py < side; py++)
                for (int px = 0; px < side; px++)
                {
                    int patch = (b * n + py * side + px) * pp;
                    for (int ky = 0; ky < patchSize; ky++)
                        images.Slice(b * imageSize * imageSize + (py * patchSize + ky) * imageSize + px * patchSize, patchSize)
                            .CopyTo(patches.Slice(patch + ky * patchSize, patchSize));
                }
    }

    /// <summary>The inverse of <see cref="Patchify"/> (each pixel lies in exactly one patch).</summary>
    /// <param name="patches">(B, N, P²)</param>
    /// <param name="images">(B, S·S), overwritten</param>
    public static void Unpatchify(ReadOnlySpan<float> patches, int batch, int imageSize, int patchSize, Span<float> images)
    {
        int side = imageSize / patchSize, n = side * side, pp = patchSize * patchSize;
        for (int b = 0; b < batch; b++)
            for (int p = 0; p < n; p++)
                for (int ky = 0; ky < patchSize; ky++)
                    patches.Slice((b * n + p) * pp + ky * patchSize, patchSize)
                        .CopyTo(images.Slice(b * imageSize * imageSize + ((p / side) * patchSize + ky) * imageSize + (p % side) * patchSize, patchSize));
    }

    /// <param name="images">(B, S·S)</param>
    /// <param name="patches">(B, N, P²), overwritten: kept for <see cref="Backward"/></param>
    /// <param name="output">(B, T, C), overwritten</param>
    public void Forward(LayerRun run, ReadOnlySpan<float> images, Span<float> patches, Slot output, HookRun? hooks)
    {
        var a = run.Activations;
        int batch = a.Batch, t = a.Length, n = Patches, pp = PatchDim, c = channels;
        var x = run[output];
        using (run.Phase(DecoderPhase.Embedding))
        {
            Patchify(images, batch, ImageSize, PatchSize, patches);                           // (B, N, P²)
            for (int b = 0; b < batch; b++)
            {
                var image = x.Slice(b * t * c, t * c);                                         // (T, C)
                run[ClassToken].CopyTo(image);                                                 // [CLS] at position 0
                var tokens = image.Slice(c, n * c);                                            // (N, C) positions 1..N
                Ops.Bias.Fill(run[Bias], tokens);
                run.Device.MatMul(patches.Slice(b * n * pp, n * pp), run[Weight], tokens, n, c, pp, accumulate: true);
            }
        }
        hooks?.Call(HookPoint.Embed, 0, run.Memory(output), batch, t, c);
        var table = run[Positions];                                                            // (T, C)
        if (hooks is not null && hooks.Wants(HookPoint.PosEmbed))
        {
            var added = new float[batch * t * c];                                              // (B, T, C), the table per image
            for (int b = 0; b < batch; b++) table.CopyTo(added.AsSpan(b * t * c, t * c));
            hooks.Call(HookPoint.PosEmbed, 0, added, batch, t, c);
            TensorPrimitives.Add(x, added, x);
            return;
        }
        for (int b = 0; b < batch; b++)
        {
            var image = x.Slice(b * t * c, t * c);
            TensorPrimitives.Add(image, table, image);                                         // + pos_embed
        }
    }

    /// <summary>
    /// Adds dpos = Σ_b dx[b], dcls = Σ_b dx[b, 0], dW = Σ_b patches[b]ᵀ·dx[b, 1..N] and db = Σ dx[b, 1..N] to the
    /// gradient arena. With <paramref name="dImages"/> also the pixel gradient dx[b, 1..N]·Wᵀ, unpatchified (training
    /// needs none; parity tests and saliency maps do).
    /// </summary>
    /// <param name="dOutput">(B, T, C)</param>
    /// <param name="patches">(B, N, P²) the forward's patches</param>
    /// <param name="dImages">(B, S·S), overwritten, or empty to skip</param>
    public void Backward(LayerRun run, Slot dOutput, ReadOnlySpan<float> patches, Span<float> dImages = default)
    {
        using var _ = run.Phase(DecoderPhase.BackwardOther);
        var a = run.Activations;
        int batch = a.Batch, t = a.Length, n = Patches, pp = PatchDim, c = channels;
        var dx = run[dOutput];
        var dPositions = run.Gradient(Positions);
        var dClass = run.Gradient(ClassToken);
        var dWeight = run.Gradient(Weight);
        var dBias = run.Gradient(Bias);
        float[]? dPatches = dImages.IsEmpty ? null : new float[batch * n * pp];
        for (int b = 0; b < batch; b++)
        {
            var image = dx.Slice(b * t * c, t * c);                                           // (T, C)
            TensorPrimitives.Add(dPositions, image, dPositions);
            TensorPrimitives.Add(dClass, image[..c], dClass);
            var tokens = image.Slice(c, n * c);                                                // (N, C)
            run.Device.MatMul(patches.Slice(b * n * pp, n * pp), tokens, dWeight, pp, c, n, transposeA: true, accumulate: true);
            Ops.Bias.Backward(tokens, dBias);
            if (dPatches is not null)
                run.Device.MatMul(tokens, run[Weight], dPatches.AsSpan(b * n * pp, n * pp), n, pp, c, transposeB: true);
        }
        if (dPatches is not null) Unpatchify(dPatches, batch, ImageSize, PatchSize, dImages);
    }
}
