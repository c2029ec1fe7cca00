using AttentionLab.Attention;
using AttentionLab.Training;

namespace AttentionLab.Cli.Commands;

/// <summary>Helpers shared by the seq2seq, bert and vit commands: training options, the kernel, --model DIR, text files.</summary>
internal static class ModelCommandSupport
{
    public const string TrainingUsage =
        "[--steps N] [--batch B] [--lr LR] [--warmup N] [--time-budget SECONDS] [--d-model C] [--heads H] [--layers N]\n" +
        "       [--attention KERNEL] [--seed S] [--out DIR] [--force] [--show-attention] [--svg FILE] [--json]";

    /// <summary>--steps, --lr, --warmup, --time-budget over the command's defaults.</summary>
    public static TrainingOptions ReadTraining(Args a, TrainingOptions d)
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

    /// <summary>Writes an SVG (or any text) file, creating its folder, through <see cref="IO.DurableFile.Replace(string, string)"/>;
    /// a failure is one CliError line and leaves an earlier file of that name as it was.</summary>
    public static void WriteText(string path, string text)
    {
        try
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (dir is not null) Directory.CreateDirectory(dir);
            IO.DurableFile.Replace(path, text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliError($"cannot write {path}: {e.Message}");
        }
    }

    /// <summary>The options that only training takes; with --model DIR each is refused with one line.</summary>
    private static readonly string[] TrainingOptions = ["steps", "batch", "lr", "warmup", "time-budget", "d-model", "heads", "layers", "seed", "out", "force"];

    /// <summary>--model DIR must be an existing folder, and no training option may come with it.</summary>
    /// <param name="trainingOnly">the command's own training options (--task, --max-length, --image-size, …)</param>
    public static string ReadModelDir(Args a, params string[] trainingOnly)
    {
        var dir = a.Require("model");
        if (!Directory.Exists(dir)) throw new CliError($"--model {dir}: no such directory");
        foreach (var name in trainingOnly.Concat(TrainingOptions))
            if (a.Has(name)) throw new CliError($"--{name} is for training; --model {dir} evaluates a saved model");
        return dir;
    }
}
