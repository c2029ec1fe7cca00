namespace AttentionLab.Models;

/// <summary>
/// Sizes of a small vision transformer (<see cref="VisionTransformer"/>); saved as its config.json. The defaults
/// (16×16 images, 4×4 patches → 16 tokens + [CLS]) train on <see cref="Datasets.ShapeImages"/> in well under two
/// minutes on two cores.
/// </summary>
public sealed record VitConfig
{
    /// <summary>Images are ImageSize × ImageSize, one channel.</summary>
    public int ImageSize { get; init; } = 16;
    /// <summary>Patches are PatchSize × PatchSize; must divide ImageSize.</summary>
    public int PatchSize { get; init; } = 4;
    public int Channels { get; init; } = 64;
    public int Heads { get; init; } = 4;
    public int Layers { get; init; } = 2;
    /// <summary>Class names, in label order.</summary>
    public string[] ClassNames { get; init; } = [.. Datasets.ShapeImages.Classes];
    public int Seed { get; init; } = 1;

    public int PatchesPerSide => ImageSize / PatchSize;
    /// <summary>N, the number of patch tokens.</summary>
    public int Patches => PatchesPerSide * PatchesPerSide;
    /// <summary>P², the values in one patch.</summary>
    public int PatchDim => PatchSize * PatchSize;

    public void Validate()
    {
        if (ImageSize < 1 || ImageSize > 1024) throw new ArgumentException($"image_size must be in [1, 1024], got {ImageSize}");
        if (PatchSize < 1 || ImageSize % PatchSize != 0) throw new ArgumentException($"patch_size ({PatchSize}) must divide image_size ({ImageSize})");
        if (Channels < 1 || Channels > 4096) throw new ArgumentException($"channels must be in [1, 4096], got {Channels}");
        if (Heads < 1 || Channels % Heads != 0) throw new ArgumentException($"heads ({Heads}) must divide channels ({Channels})");
        if (Layers < 1 || Layers > 64) throw new ArgumentException($"layers must be in [1, 64], got {Layers}");
        if (ClassNames is null || ClassNames.Length < 2) throw new ArgumentException("a classifier needs at least 2 class names");
    }
}
