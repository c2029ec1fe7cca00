using System.Text;
using System.Text.Json.Nodes;
using AttentionLab.Datasets;
using AttentionLab.Inspection;
using AttentionLab.Models;
using AttentionLab.Rendering;
using AttentionLab.Training;

namespace AttentionLab.Cli.Commands;

/// <summary><c>attnlab vit</c>: trains (or reloads) a small vision transformer on synthetic shape images.</summary>
internal static class VitCommand
{
    public const string Summary = "small vision transformer (patches as tokens, [CLS]) on synthetic shape images";
    public const string SvgFile = "cls_attention.svg";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (ModelCommandOptions.Read(args, stdout, Usage) is not { } o) return 0;
        var a = o.Args;
        int heldOutCount = a.Int("held-out", 1000, 1, 1_000_000);
        VisionTransformer model;
        (float[] Images, int[] Labels) heldOut;
        JsonObject result;
        if (a.Has("model"))
        {
            var dir = ModelCommandSupport.ReadModelDir(a, "image-size", "patch-size");
            a.EnsureAllUsed();
            model = VisionTransformer.Load(dir, o.Kernel);
            if (!model.Config.ClassNames.SequenceEqual(ShapeImages.Classes))
                throw new CliError($"{dir} classifies [{string.Join(", ", model.Config.ClassNames)}], not the shape images this command draws");
            heldOut = VitTrainingRun.HeldOutImages(model.Config.ImageSize, heldOutCount, (ulong)model.Config.Seed);
            double accuracy = model.Accuracy(heldOut.Images, heldOut.Labels);
            result = new JsonObject { ["model"] = dir, ["accuracy"] = Math.Round(accuracy, 4), ["held_out"] = heldOutCount, ["classes"] = Classes() };
            if (!o.Json) stdout.WriteLine($"{dir}: accuracy {accuracy:P1} on {heldOutCount} held-out images ({ShapeImages.Classes.Count} classes, chance {1.0 / ShapeImages.Classes.Count:P1})");
        }
        else
        {
            int seed = a.Int("seed", 1, 0);
            var config = new VitConfig
            {
                ImageSize = a.Int("image-size", 16, 8, 256),
                PatchSize = a.Int("patch-size", 4, 1, 64),
                Channels = a.Int("d-model", 64, 1, 1024),
                Heads = a.Int("heads", 4, 1, 64),
                Layers = a.Int("layers", 2, 1, 12),
                Seed = seed,
            };
            if (config.ImageSize % config.PatchSize != 0) throw new CliError($"--patch-size ({config.PatchSize}) must divide --image-size ({config.ImageSize})");
            if (config.Channels % config.Heads != 0) throw new CliError($"--d-model ({config.Channels}) must divide by --heads ({config.Heads})");
            int batch = a.Int("batch", 64, 1, 4096);
            var options = ModelCommandSupport.ReadTraining(a, TrainingOptions.TaskDefaults with
            {
                Steps = 500, LearningRate = 2e-3, MinLearningRate = 1e-4, WarmupSteps = 50, WeightDecay = 0.01, TimeBudget = TimeSpan.FromSeconds(110),
            });
            a.EnsureAllUsed();
            var run = new VitTrainingRun(config, options, batch, heldOutCount, (ulong)seed, o.Kernel);
            model = run.Model;
            heldOut = run.HeldOut;
            using var folder = o.LockOut(SvgFile);
            var c = model.Config;
            if (!o.Json)
                stdout.WriteLine($"ViT: {c.ImageSize}×{c.ImageSize} images of {ShapeImages.Classes.Count} shapes ({string.Join(", ", ShapeImages.Classes)}), drawn fresh for every batch; " +
                                 $"{c.PatchSize}×{c.PatchSize} patches → {c.Patches} tokens + [CLS]; {c.Layers} layers, {c.Heads} heads, {c.Channels} wide: {model.ParameterCount:N0} parameters");
            var trained = folder.Train(run.Trainer, o.Json, stdout, run.Evaluate, model.Save, SvgFile, () => AttentionSvg(run.Model, run.HeldOut));
            result = trained.AddTo(new JsonObject { ["accuracy"] = Math.Round(trained.Accuracy, 4), ["held_out"] = heldOutCount, ["classes"] = Classes() }, model.ParameterCount);
            if (!o.Json)
                trained.Print(stdout, batch, "images", [],
                    [("accuracy", $"{trained.Accuracy:P1} of {heldOutCount} held-out images (chance {1.0 / ShapeImages.Classes.Count:P1})")]);
        }
        if (o.Svg is not null) ModelCommandSupport.WriteText(o.Svg, AttentionSvg(model, heldOut));
        int pixels = model.Config.ImageSize * model.Config.ImageSize;
        var inspection = model.Inspect(heldOut.Images.AsSpan(0, pixels), $"held-out image 0 ({ShapeImages.Classes[heldOut.Labels[0]]})");
        if (o.ShowAttention) result["inspect"] = inspection.ToJson();
        if (o.Json) { stdout.WriteLine(result.ToJsonString()); return 0; }
        if (o.ShowAttention) PrintClassTokenAttention(stdout, model, inspection, heldOut.Images.AsSpan(0, pixels));
        if (o.Svg is not null) stdout.WriteLine($"wrote {o.Svg}");
        return 0;
    }

    private static JsonArray Classes() => new(ShapeImages.Classes.Select(c => (JsonNode)c).ToArray());

    /// <summary>The image in shades, then the last layer's [CLS] attention per patch in percent.</summary>
    private static void PrintClassTokenAttention(TextWriter w, VisionTransformer model, ModelAttention inspection, ReadOnlySpan<float> image)
    {
        int size = model.Config.ImageSize, side = model.Config.PatchesPerSide;
        w.WriteLine();
        w.WriteLine($"{inspection.Input}: classified as {inspection.Output}");
        for (int y = 0; y < size; y++)
        {
            var line = new StringBuilder("  ");
            for (int x = 0; x < size; x++) line.Append(AttentionHeatmap.Shades[AttentionHeatmap.Level(image[y * size + x], AttentionHeatmap.Shades.Length)]);
            w.WriteLine(line.ToString());
        }
        foreach (var map in inspection.Maps)
        {
            var cls = VisionTransformer.ClassTokenAttention(map);
            w.WriteLine($"[CLS] attention over the {side}×{side} patches, layer {map.Layer} (mean of {map.Heads} heads, %; the rest goes to [CLS] itself):");
            for (int r = 0; r < side; r++)
                w.WriteLine("  " + string.Join(" ", Enumerable.Range(0, side).Select(c => $"{cls[r * side + c] * 100,4:0}")));
        }
    }

    /// <summary>One held-out image per class, with every layer's [CLS] attention drawn on it.</summary>
    internal static string AttentionSvg(VisionTransformer model, (float[] Images, int[] Labels) heldOut)
    {
        int pixels = model.Config.ImageSize * model.Config.ImageSize;
        var rows = new List<PatchAttentionRow>();
        for (int k = 0; k < ShapeImages.Classes.Count; k++)
        {
            int i = Array.IndexOf(heldOut.Labels, k);
            if (i < 0) continue;
            var image = heldOut.Images.AsSpan(i * pixels, pixels).ToArray();
            var inspection = model.Inspect(image);
            double p = inspection.Extra!["probabilities"]![inspection.Output]!.GetValue<double>();
            rows.Add(new PatchAttentionRow($"{ShapeImages.Classes[k]} → {inspection.Output} ({p:P0})", image, model.Config.ImageSize, model.Config.PatchSize,
                inspection.Maps.Select(VisionTransformer.ClassTokenAttention).ToList()));
        }
        return PatchAttentionSvg.Render(rows, "red = attention of the [CLS] token to each patch (mean over heads), scaled to each map's largest; numbers in %");
    }

    private static void Usage(TextWriter w)
    {
        w.WriteLine("usage: attnlab vit [--image-size S] [--patch-size P] " + ModelCommandSupport.TrainingUsage.Replace("\n", "\n                  ", StringComparison.Ordinal));
        w.WriteLine("                  [--held-out N]");
        w.WriteLine("       attnlab vit --model DIR [--held-out N] [--show-attention] [--svg FILE] [--json]");
        w.WriteLine();
        w.WriteLine($"Trains a vision transformer on {ShapeImages.Classes.Count} synthetic shapes ({string.Join(", ", ShapeImages.Classes)}) drawn at random");
        w.WriteLine("positions, sizes and brightness with pixel noise, fresh for every batch: the image is cut into patches, each patch");
        w.WriteLine("is a token (patch embedding), a learned [CLS] token is put first, learned position embeddings are added, and the");
        w.WriteLine("class is read from [CLS] after the encoder. Reports accuracy on held-out images and writes " + SvgFile + ":");
        w.WriteLine("the [CLS] token's attention over the patches drawn on one image per class. --model DIR evaluates a saved model.");
        w.WriteLine("Defaults: 16×16 images, 4×4 patches, 2 layers, 64 wide, 4 heads, batch 64, lr 2e-3, at most 110 s of training.");
    }
}
