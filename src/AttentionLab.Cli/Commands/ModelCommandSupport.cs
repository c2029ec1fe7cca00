using AttentionLab.Attention;
using AttentionLab.Training;

namespace AttentionLab.Cli.Commands;

/// <summary>Options shared by the seq2seq, bert and vit commands: the training loop, the kernel, the output folder.</summary>
internal static class ModelCommandSupport
{
    public const string TrainingUsage =
        "[--steps N] [--batch B] [--lr LR] [--warmup N] [--time-budget SECONDS] [--d-model C] [--heads H] [--layers N]\n" +
        "       [--attention KERNEL] [--seed S] [--out DIR] [--force] [--show-attention] [--svg FILE] [--json]";

    /// <summary>--steps, --lr, --warmup, --time-budget over the command's defaults.</summary>
    public static ModelTrainingOptions ReadTraining(Args a, ModelTrainingOptions d)
    {
        int steps = a.Int("steps", d.Steps, 1, 10_000_000);
        double lr = a.Double("lr", d.LearningRate, 1e-8, 10);
        double budget = a.Double("time-budget", d.TimeBudget?.TotalSeconds ?? 0, 0, 86_400);
        return d with
        {
            Steps = steps,
            LearningRate = lr,
            MinLearningRate = Math.Min(d.MinLearningRate, lr),
            WarmupSteps = a.Int("warmup", Math.Min(d.WarmupSteps, steps / 10), 0),
            TimeBudget = budget > 0 ? TimeSpan.FromSeconds(budget) : null,
        };
    }

    /// <summary>--attention NAME through <see cref="AttentionKernels.Parse"/>.</summary>
    public static IAttentionKernel ReadKernel(Args a)
    {
        var name = a.String("attention") ?? AttentionKernels.DefaultName;
        try { return AttentionKernels.Parse(name); }
        catch (ArgumentException e) { throw new CliError($"--attention: {e.Message}"); }
    }

    /// <summary>Checks --out before training: a folder that holds a model needs --force.</summary>
    public static void CheckOut(string outDir, bool force)
    {
        if (IO.ModelFolder.Exists(outDir) && !force)
            throw new CliError($"{outDir} already holds a model; pass --force to replace it, or --model {outDir} to evaluate it");
        CommandSupport.EnsureWritable(outDir);
    }

    /// <summary>Writes an SVG (or any text) file, creating its folder; a failure is one CliError line.</summary>
    public static void WriteText(string path, string text)
    {
        try
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (dir is not null) Directory.CreateDirectory(dir);
            var temp = path + ".tmp";
            File.WriteAllText(temp, text);
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliError($"cannot write {path}: {e.Message}");
        }
    }

    /// <summary>--model DIR must be an existing folder.</summary>
    public static string ReadModelDir(Args a)
    {
        var dir = a.Require("model");
        if (!Directory.Exists(dir)) throw new CliError($"--model {dir}: no such directory");
        return dir;
    }
}
