using AttentionLab.Ops;
using AttentionLab.Tensors;

namespace AttentionLab.Models;

/// <summary>
/// ViT's patch embedding (Dosovitskiy et al. 2021, eq. 1): cut the image into P × P patches, flatten each, project
/// it to C dimensions. The same as PyTorch's <c>nn.Conv2d(1, C, kernel_size=P, stride=P)</c> followed by
/// <c>.flatten(2).transpose(1, 2)</c>: the Linear weight (C, P²) is the convolution's (C, 1, P, P) flattened.
/// <code>
/// patches = patchify(images)      (B, N, P²)   N = (H/P)·(W/P), row-major over the patch grid, pixels (ky, kx)
/// tokens  = proj(patches)         (B, N, C)
/// </code>
/// </summary>
public sealed class PatchEmbedding
{
    public int ImageSize { get; }
    public int PatchSize { get; }
    public int Channels { get; }
    public Linear Proj { get; }

    private Tensor? _patches, _y;

    public PatchEmbedding(int imageSize, int patchSize, int channels, Random random)
    {
        if (patchSize < 1 || imageSize % patchSize != 0) throw new ArgumentException($"patch size {patchSize} must divide image size {imageSize}");
        ImageSize = imageSize; PatchSize = patchSize; Channels = channels;
        Proj = new Linear(patchSize * patchSize, channels, bias: true, random);
    }

    public int Patches => (ImageSize / PatchSize) * (ImageSize / PatchSize);

    public IEnumerable<(string Name, Tensor Value, Tensor Grad)> NamedParameters(string prefix) => Proj.NamedParameters(prefix + "proj.");

    /// <summary>Cuts images into flattened patches.</summary>
    /// <param name="images">(B, H·W) row-major pixels</param>
    /// <param name="patches">(B, N, P²), overwritten</param>
    public static void Patchify(ReadOnlySpan<float> images, int batch, int imageSize, int patchSize, Span<float> patches)
    {
        int side = imageSize / patchSize, n = side * side, pp = patchSize * patchSize;
        if (images.Length != batch * imageSize * imageSize) throw new ArgumentException($"images need (B, H·W) = ({batch}, {imageSize * imageSize}) values");
        if (patches.Length != batch * n * pp) throw new ArgumentException($"patches need (B, N, P²) = ({batch}, {n}, {pp}) values");
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

    /// <param name="images">(B, H·W)</param>
    /// <returns>(B, N, C); the layer's own buffer</returns>
    public Tensor Forward(ReadOnlySpan<float> images, int batch)
    {
        _patches = Reuse.Get(_patches, batch, Patches, PatchSize * PatchSize);
        Patchify(images, batch, ImageSize, PatchSize, _patches.Data);             // (B, N, P²)
        _y = Reuse.Get(_y, batch, Patches, Channels);
        Proj.Forward(_patches.Data, _y.Data, batch * Patches);                    // (B, N, C)
        return _y;
    }

    /// <summary>Adds dL/dW and dL/db; writes dL/d(images) too when <paramref name="dImages"/> is given (training
    /// needs no pixel gradient; parity tests and saliency maps do).</summary>
    /// <param name="dy">(B, N, C)</param>
    /// <param name="dImages">(B, H·W), overwritten, or empty to skip</param>
    public void Backward(ReadOnlySpan<float> dy, Span<float> dImages = default)
    {
        if (_patches is null) throw new InvalidOperationException("Backward needs a Forward call first");
        int batch = _patches.Dim(0), pp = PatchSize * PatchSize, side = ImageSize / PatchSize;
        Proj.Backward(_patches.Data, dy, default, batch * Patches);
        if (dImages.IsEmpty) return;
        var dPatches = new float[batch * Patches * pp];
        Linear.Backward(_patches.Data, Proj.Weight.Data, dy, dPatches, default, default, batch * Patches, pp, Channels, accumulate: false);
        for (int b = 0; b < batch; b++)                                           // the inverse of Patchify
            for (int p = 0; p < Patches; p++)
                for (int ky = 0; ky < PatchSize; ky++)
                    dPatches.AsSpan((b * Patches + p) * pp + ky * PatchSize, PatchSize)
                        .CopyTo(dImages.Slice(b * ImageSize * ImageSize + ((p / side) * PatchSize + ky) * ImageSize + (p % side) * PatchSize, PatchSize));
    }
}
