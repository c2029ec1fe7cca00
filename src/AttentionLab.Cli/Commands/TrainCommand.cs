using System.Text.Json.Nodes;
using AttentionLab.Attention;
using AttentionLab.Models;
using AttentionLab.Text;
using AttentionLab.Training;

namespace AttentionLab.Cli.Commands;

/// <summary><c>attnlab train</c>: trains a GPT-2 on a text file, with live progress and atomic checkpoints.</summary>
internal static class TrainCommand
{
    public const string Summary = "train a GPT on a text file (live progress, checkpoints, --resume)";

    private static readonly string[] HyperOptions =
        ["tokenizer", "preset", "layers", "d-model", "heads", "context", "batch", "lr", "warmup", "min-lr", "weight-decay", "grad-clip", "seed", "eval-every", "eval-batches"];

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var a = new Args(args, "resume", "force");
        if (a.Help) { Usage(stdout); return 0; }
        bool resume = a.Flag("resume"), force = a.Flag("force"), json = a.Json;
        string? outDir = a.String("out");
        Gpt2TrainingRun run;
        string? attentionName = a.String("attention");
        string device = CommandSupport.Device(a.String("device"));
        if (resume)
        {
            if (outDir is null) throw new CliError("--resume needs --out DIR, the run directory to continue");
            foreach (var name in HyperOptions)
                if (a.Has(name)) throw new CliError($"--{name} cannot change when resuming; the run continues with the options saved in {outDir}");
            if (force) throw new CliError("--force and --resume contradict each other (resume continues the model in --out, force replaces it)");
            int? steps = a.Has("steps") ? a.Int("steps", 0, 1) : null;
            string? data = a.String("data");
            a.EnsureAllUsed();
            run = Gpt2TrainingRun.Resume(outDir, data, steps, attentionName is null ? null : CommandSupport.Kernel(attentionName));
            if (run.Trainer.IsFinished)
                throw new CliError($"the run in {outDir} already finished its {run.Trainer.Options.Steps} steps; pass a larger --steps to continue it");
            if (!json) stdout.WriteLine($"resuming {outDir} at step {run.Trainer.State.Step}/{run.Trainer.Options.Steps}");
        }
        else
        {
            var data = a.Require("data");
            var tokenizer = a.String("tokenizer") ?? "char";
            if (!Tokenizers.Names.Contains(tokenizer)) throw new CliError($"--tokenizer must be one of {string.Join(", ", Tokenizers.Names)}, got '{tokenizer}'");
            var config = ReadModelOptions(a, Gpt2Config.ShakespeareChar);
            var options = ReadTrainingOptions(a, new TrainingOptions());
            outDir ??= CommandSupport.NewRunDirectory();
            a.EnsureAllUsed();
            if (TrainingCheckpoint.HoldsModel(outDir) && !force)
                throw new CliError($"{outDir} already holds a model; pass --force to replace it or --resume to continue it");
            CommandSupport.EnsureWritable(outDir);
            var corpus = Corpus.Load(data, tokenizer);
            run = Gpt2TrainingRun.Start(corpus, data, config, options, outDir, CommandSupport.Kernel(attentionName));
            if (!json) PrintHeader(stdout, run);
        }
        if (device == "cuda") return CudaCommands.Train(run, json, stdout);
        var mode = TrainingProgress.Choose(stdout, json);
        var last = TrainingProgress.Run(run.Trainer, mode, stdout, run.Checkpoint, null, out bool interrupted);
        if (json)
            stdout.WriteLine(new JsonObject
            {
                ["done"] = !interrupted, ["out"] = run.Directory, ["step"] = run.Trainer.State.Step,
                ["val_loss"] = last?.ValidationLoss, ["seconds"] = Math.Round(run.Trainer.State.Seconds, 3),
            }.ToJsonString());
        else
        {
            stdout.WriteLine(interrupted
                ? $"interrupted at step {run.Trainer.State.Step}; saved to {run.Directory}. Continue with: attnlab train --out {run.Directory} --resume"
                : $"saved {run.Directory}  (model, {Tokenizers.FileName}, {TrainingCheckpoint.LossCurveFile}); try: attnlab generate --model {run.Directory} --prompt \"...\"");
        }
        return interrupted ? 130 : 0;
    }

    internal static void PrintHeader(TextWriter stdout, Gpt2TrainingRun run)
    {
        var c = run.Model.Config; var o = run.Trainer.Options; var corpus = run.Corpus;
        stdout.WriteLine($"data {corpus.Source}: {corpus.Tokens.Length:N0} {corpus.Tokenizer.Name} tokens (vocabulary {corpus.Tokenizer.VocabSize:N0}), " +
                         $"train {corpus.Train.Length:N0} / validation {corpus.Validation.Length:N0}");
        stdout.WriteLine($"model GPT-2 {c.Layers} layers, {c.Heads} heads, {c.Channels} wide, context {c.ContextLength}: {c.ParameterCount:N0} parameters");
        stdout.WriteLine($"train {o.Steps} steps of {o.BatchSize}×{c.ContextLength} tokens, lr {o.LearningRate:g3} → {o.MinLearningRate:g3} (warmup {o.WarmupSteps}), " +
                         $"AdamW β=({o.Beta1}, {o.Beta2}) wd {o.WeightDecay}, clip {o.GradientClip}, seed {o.Seed}; initial loss should be ≈ ln {c.VocabSize} = {Math.Log(c.VocabSize):0.00}");
        stdout.WriteLine($"writing {run.Directory}");
    }

    internal static Gpt2Config ReadModelOptions(Args a, Gpt2Config fallback)
    {
        var presetName = a.String("preset");
        Gpt2Config config;
        try { config = presetName is null ? fallback : Gpt2Config.Preset(presetName); }
        catch (ArgumentException e) { throw new CliError(e.Message); }
        config = config with
        {
            Layers = a.Int("layers", config.Layers, 1, 256),
            Channels = a.Int("d-model", config.Channels, 1, 16384),
            Heads = a.Int("heads", config.Heads, 1, 1024),
            ContextLength = a.Int("context", config.ContextLength, 1, 1 << 16),
        };
        if (config.Channels % config.Heads != 0) throw new CliError($"--d-model ({config.Channels}) must divide by --heads ({config.Heads})");
        return config;
    }

    internal static TrainingOptions ReadTrainingOptions(Args a, TrainingOptions d)
    {
        double lr = a.Double("lr", d.LearningRate, 1e-8, 10);
        int steps = a.Int("steps", d.Steps, 1, 100_000_000);
        var o = d with
        {
            BatchSize = a.Int("batch", d.BatchSize, 1, 1 << 16),
            Steps = steps,
            LearningRate = lr,
            MinLearningRate = a.Double("min-lr", Math.Min(d.MinLearningRate, lr), 0, 10),
            // the default warmup never takes more than a tenth of a short run
            WarmupSteps = a.Int("warmup", Math.Min(d.WarmupSteps, steps / 10), 0),
            WeightDecay = a.Double("weight-decay", d.WeightDecay, 0, 10),
            GradientClip = a.Double("grad-clip", d.GradientClip, 0),
            Seed = (ulong)a.Int("seed", (int)d.Seed, 0),
            EvalEvery = a.Int("eval-every", d.EvalEvery, 1),
            EvalBatches = a.Int("eval-batches", d.EvalBatches, 1, 100_000),
        };
        if (o.MinLearningRate > o.LearningRate) throw new CliError($"--min-lr ({o.MinLearningRate}) must not exceed --lr ({o.LearningRate})");
        return o;
    }

    private static void Usage(TextWriter w)
    {
        w.WriteLine("usage: attnlab train --data FILE [--tokenizer char|gpt2|o200k] [--preset NAME | --layers N --d-model C --heads H --context T]");
        w.WriteLine("                     [--batch B] [--steps N] [--lr LR] [--warmup N] [--min-lr LR] [--weight-decay WD] [--grad-clip G]");
        w.WriteLine("                     [--seed S] [--eval-every N] [--eval-batches N] [--attention NAME] [--out DIR] [--force] [--json]");
        w.WriteLine("       attnlab train --out DIR --resume [--steps N] [--data FILE] [--attention NAME]");
        w.WriteLine();
        w.WriteLine("Trains a GPT-2 (default: nanoGPT's char-level CPU config, 4 layers × 128 wide × 4 heads, context 64) with AdamW,");
        w.WriteLine("linear warmup + cosine decay and gradient clipping on the first 90% of the tokens, estimating validation loss on the");
        w.WriteLine("last 10% every --eval-every steps. Each validation writes a checkpoint to --out (default runs/<timestamp>): the model");
        w.WriteLine("as a Hugging Face GPT-2 directory, the tokenizer, the optimizer state and loss_curve.svg. Ctrl+C saves and stops;");
        w.WriteLine("--resume continues exactly where the run stopped. An --out that already holds a model is refused unless --force.");
        w.WriteLine($"Presets: {string.Join(", ", Gpt2Config.Presets.Keys)}.");
        w.WriteLine($"--attention NAME picks the attention kernel ({string.Join(", ", AttentionKernels.Names)}; default {AttentionKernels.DefaultName});");
        w.WriteLine("it is saved with the model (config.json attnlab_attention) and used again by generate, inspect and --resume.");
        w.WriteLine(CommandSupport.DeviceHelp);
    }
}
