using AttentionLab.Training;

namespace AttentionLab.Datasets;

/// <summary>
/// Small grayscale images of simple shapes, drawn on the fly for a vision transformer: one shape per image at a
/// random position, size and brightness, plus Gaussian pixel noise. Pixels are row-major (H, W), background ≈ 0,
/// shape ≈ 0.6–1. Every call to <see cref="Draw"/> gives a new image, so a model cannot memorize its training set;
/// a held-out set is simply drawn with another seed.
/// </summary>
public static class ShapeImages
{
    /// <summary>The classes, in label order.</summary>
    public static IReadOnlyList<string> Classes { get; } = ["disk", "ring", "square", "frame", "plus", "cross"];

    /// <summary>Draws one image of class <paramref name="label"/> into <paramref name="pixels"/> (size × size).</summary>
    public static void Draw(int label, int size, ref SplitMix64 random, Span<float> pixels, double noise = 0.1)
    {
        if (pixels.Length != size * size) throw new ArgumentException($"pixels needs {size * size} elements, got {pixels.Length}");
        if ((uint)label >= (uint)Classes.Count) throw new ArgumentOutOfRangeException(nameof(label), $"label must be in [0, {Classes.Count})");
        double scale = size / 16.0;
        double r = (3 + random.NextDouble() * 3) * scale;                         // half-size of the shape, 3–6 px at 16×16
        double cx = r + 0.5 + random.NextDouble() * (size - 1 - 2 * r), cy = r + 0.5 + random.NextDouble() * (size - 1 - 2 * r);
        double ink = 0.6 + 0.4 * random.NextDouble(), stroke = 0.75 * scale;
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                double dx = x - cx, dy = y - cy, d = Math.Sqrt(dx * dx + dy * dy), box = Math.Max(Math.Abs(dx), Math.Abs(dy));
                bool on = label switch
                {
                    0 => d <= r,                                                                  // disk
                    1 => Math.Abs(d - r) <= stroke,                                               // ring
                    2 => box <= r * 0.85,                                                         // square
                    3 => Math.Abs(box - r * 0.85) <= stroke,                                      // frame
                    4 => box <= r && (Math.Abs(dx) <= stroke || Math.Abs(dy) <= stroke),          // plus
                    _ => box <= r && (Math.Abs(dx - dy) <= stroke * 1.2 || Math.Abs(dx + dy) <= stroke * 1.2), // cross
                };
                pixels[y * size + x] = (float)((on ? ink : 0) + noise * Normal(ref random));
            }
    }

    /// <summary>A batch of random images with uniformly random labels.</summary>
    /// <param name="pixels">(B, size·size), overwritten</param>
    /// <param name="labels">(B), overwritten</param>
    public static void Batch(int size, ref SplitMix64 random, Span<float> pixels, Span<int> labels, double noise = 0.1)
    {
        for (int b = 0; b < labels.Length; b++)
        {
            labels[b] = random.NextInt(Classes.Count);
            Draw(labels[b], size, ref random, pixels.Slice(b * size * size, size * size), noise);
        }
    }

    private static double Normal(ref SplitMix64 random)
    {
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
