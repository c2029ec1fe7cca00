using AttentionLab.Attention;
using AttentionLab.Datasets;
using AttentionLab.Models;

namespace AttentionLab.Training;

/// <summary>
/// One <c>attnlab vit</c> run: a vision transformer trained on <see cref="ShapeImages"/> drawn fresh for every batch,
/// scored on a held-out set drawn with its own seed.
/// </summary>
public sealed class VitTrainingRun
{
    public VisionTransformer Model { get; }
    public Trainer Trainer { get; }
    /// <summary>(count, H·W) held-out images and their labels.</summary>
    public (float[] Images, int[] Labels) HeldOut { get; }
    public int BatchSize { get; }

    public VitTrainingRun(VitConfig config, TrainingOptions options, int batchSize = 64, int heldOut = 1000, ulong seed = 1, IAttentionKernel? kernel = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        Model = new VisionTransformer(config with { ClassNames = [.. ShapeImages.Classes] }, kernel);
        BatchSize = batchSize;
        HeldOut = HeldOutImages(Model.Config.ImageSize, heldOut, seed);
        int pixels = Model.Config.ImageSize * Model.Config.ImageSize;
        var images = new float[batchSize * pixels];
        var labels = new int[batchSize];
        var random = new SplitMix64(seed + 1);
        Trainer = new Trainer(Model.Parameters.Data, Model.Gradients.Data, Model.Layout.DecayedRanges, () =>
        {
            ShapeImages.Batch(Model.Config.ImageSize, ref random, images, labels);
            float loss = Model.Forward(images, labels);
            Model.Backward();
            return loss;
        }, batchSize, options);
    }

    /// <summary>The held-out images for a seed (the same set every time, so a reloaded model is scored on them).</summary>
    public static (float[] Images, int[] Labels) HeldOutImages(int size, int count, ulong seed)
    {
        var random = new SplitMix64(seed ^ 0x5EED_0F_5A11DA7EUL);
        var images = new float[count * size * size];
        var labels = new int[count];
        ShapeImages.Batch(size, ref random, images, labels);
        return (images, labels);
    }

    public double Evaluate() => Model.Accuracy(HeldOut.Images, HeldOut.Labels);
}
