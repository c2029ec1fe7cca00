using System.Text.Json.Nodes;
using AttentionLab.Attention;
using AttentionLab.Cuda;
using AttentionLab.Datasets;
using AttentionLab.IO;
using AttentionLab.Models;
using AttentionLab.Text;
using AttentionLab.Training;

namespace AttentionLab.Cli.Commands;

/// <summary><c>attnlab train</c>: trains a GPT-2 on a text file, with live progress and atomic checkpoints.</summary>
internal static class TrainCommand
{
    public const string Summary = "train a GPT on a text file (live progress, checkpoints, --resume)";

    private static readonly string[] HyperOptions =
        ["tokenizer", "preset", "arch", "kv-heads", "layers", "d-model", "heads", "context", "batch", "lr", "warmup", "min-lr", "weight-decay", "grad-clip", "seed", "eval-every", "eval-batches"];

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var a = new Args(args, "resume", "force");
        if (a.Help) { Usage(stdout); return 0; }
        bool resume = a.Flag("resume"), force = a.Flag("force"), json = a.Json;
        string? outDir = a.Path("out");
        DecoderTrainingRun run;
        string? attentionName = a.String("attention");
        string device = CommandSupport.Device(a.String("device"));
        var computeDevice = CommandSupport.OpenDevice(device);
        if (resume)
        {
            if (outDir is null) throw new CliError("--resume needs --out DIR, the run directory to continue");
            foreach (var name in HyperOptions)
                if (a.Has(name)) throw new CliError($"--{name} cannot change when resuming; the run continues with the options saved in {outDir}");
            if (force) throw new CliError("--force and --resume contradict each other (resume continues the model in --out, force replaces it)");
            if (a.Has("init-from")) throw new CliError("--init-from starts a new run from a folder's weights; --resume continues the run in --out (give one of them)");
            int? steps = a.Has("steps") ? a.Int("steps", 0, 1, 100_000_000) : null;
            string? data = a.Path("data");
            a.EnsureAllUsed();
            if (!Directory.Exists(outDir))
                throw new CliError(File.Exists(outDir) ? $"--out {outDir} is a file, not a run directory" : $"--out {outDir} does not exist; nothing to resume");
            run = DecoderTrainingRun.Resume(outDir, data, steps, attentionName is null ? null : CommandSupport.Kernel(attentionName), computeDevice);
            if (run.Trainer.IsFinished)
            {
                run.Dispose();
                throw new CliError($"the run in {outDir} already finished its {run.Trainer.Options.Steps} steps; --steps is the total, so pass one larger than {run.Trainer.Options.Steps} to continue it");
            }
            if (!json) stdout.WriteLine($"resuming {outDir} at step {run.Trainer.State.Step}/{run.Trainer.Options.Steps}{OnDevice(run)}");
        }
        else if (a.Path("init-from") is string initFrom)
        {
            var data = a.Path("data") ?? TinyShakespeare.Source;
            string? tokenizer = a.String("tokenizer");
            if (tokenizer is not null && !Tokenizers.Names.Contains(tokenizer)) throw new CliError($"--tokenizer must be one of {string.Join(", ", Tokenizers.Names)}, got '{tokenizer}'");
            var folder = DecoderFolder.ReadConfig(initFrom);
            RefuseOtherShape(a, folder, initFrom);
            var options = ReadTrainingOptions(a, new TrainingOptions());
            a.EnsureAllUsed();
            if (outDir is not null && File.Exists(outDir)) throw new CliError($"--out {outDir} is a file, not a directory");
            if (outDir is not null && Path.GetFullPath(outDir).TrimEnd(Path.DirectorySeparatorChar) == Path.GetFullPath(initFrom).TrimEnd(Path.DirectorySeparatorChar))
                throw new CliError($"--out {outDir} is the --init-from folder; a fine-tuning run writes a new folder (or --resume continues a run)");
            var attention = attentionName is null ? null : CommandSupport.Kernel(attentionName);
            run = StartNew(() => DecoderTrainingRun.FineTune(initFrom, data, tokenizer, options, outDir, attention, replace: force, device: computeDevice), outDir,
                e => e.HoldsModel
                    ? $"{e.Directory} already holds a model; pass --force to replace it or --resume to continue it"
                    : $"{e.Directory} holds {string.Join(", ", e.Existing)}, which a checkpoint would overwrite; pass --force to replace it or choose another --out");
            if (!json)
            {
                stdout.WriteLine($"fine-tuning from {initFrom}");
                PrintHeader(stdout, run, initFrom);
            }
        }
        else
        {
            var data = a.Path("data") ?? TinyShakespeare.Source;
            var tokenizer = a.String("tokenizer") ?? "char";
            if (!Tokenizers.Names.Contains(tokenizer)) throw new CliError($"--tokenizer must be one of {string.Join(", ", Tokenizers.Names)}, got '{tokenizer}'");
            var config = ReadModelOptions(a, DecoderConfig.ShakespeareChar);
            var options = ReadTrainingOptions(a, new TrainingOptions());
            a.EnsureAllUsed();
            var attention = CommandSupport.Kernel(attentionName);
            if (outDir is not null && File.Exists(outDir)) throw new CliError($"--out {outDir} is a file, not a directory");
            var corpus = Corpus.Load(data, tokenizer);
            run = StartNew(() => DecoderTrainingRun.StartNew(corpus, data, config, options, outDir, attention, replace: force, device: computeDevice), outDir,
                e => e.HoldsModel
                    ? $"{e.Directory} already holds a model; pass --force to replace it or --resume to continue it"
                    : $"{e.Directory} holds {string.Join(", ", e.Existing)}, which a checkpoint would overwrite; pass --force to replace it or choose another --out");
            if (!json) PrintHeader(stdout, run);
        }
        using var _ = run;
        var (last, interrupted) = TrainingProgress.Run(run, TrainingProgress.Style.Tokens, TrainingProgress.Choose(stdout, json), stdout);
        if (json)
            stdout.WriteLine(new JsonObject
            {
                ["done"] = !interrupted, ["out"] = run.Directory, ["step"] = run.Trainer.State.Step, ["device"] = run.Trainer.Backend.Device,
                ["val_loss"] = last?.ValidationLoss, ["seconds"] = Math.Round(run.Trainer.State.Seconds, 3),
            }.ToJsonString());
        else
        {
            stdout.WriteLine(interrupted
                ? $"interrupted at step {run.Trainer.State.Step}; saved to {run.Directory}. Continue with: attnlab train --out {run.Directory} --resume"
                : $"saved {run.Directory}  (model, {(run.Corpus.Tokenizer is HfTokenizer ? $"{HfTokenizer.FileName}, {HfTokenizer.ConfigFileName}" : Tokenizers.FileName)}, {TrainingCheckpoint.LossCurveFile}); try: attnlab generate --model {run.Directory} --prompt \"...\"");
        }
        return interrupted ? 130 : 0;
    }

    /// <param name="initFrom">the folder a fine-tuning run starts from (its first loss is the folder's, not ln V), or null</param>
    internal static void PrintHeader(TextWriter stdout, DecoderTrainingRun run, string? initFrom = null)
    {
        var c = run.Model.Config; var o = run.Trainer.Options; var corpus = run.Corpus;
        string tokens = corpus.Tokenizer is HfTokenizer ? HfTokenizer.FileName : corpus.Tokenizer.Name;
        stdout.WriteLine($"data {corpus.Source}: {corpus.Tokens.Length:N0} {tokens} tokens (vocabulary {corpus.Tokenizer.VocabSize:N0}), " +
                         $"train {corpus.Train.Length:N0} / validation {corpus.Validation.Length:N0}");
        string arch = LlamaStateDict.IsLlamaFamily(c)
            ? $"Llama (RMSNorm, RoPE, SwiGLU {c.IntermediateSize}, {c.KeyValueHeads} key/value heads)" : "GPT-2";
        stdout.WriteLine($"model {arch} {c.Layers} layers, {c.Heads} heads, {c.Channels} wide, context {c.ContextLength}: {c.ParameterCount:N0} parameters");
        stdout.WriteLine($"train {o.Steps} steps of {o.BatchSize}×{c.ContextLength} tokens, lr {o.LearningRate:g3} → {o.MinLearningRate:g3} (warmup {o.WarmupSteps}), " +
                         $"AdamW β=({o.Beta1}, {o.Beta2}) wd {o.WeightDecay}, clip {o.GradientClip}, seed {o.Seed}; " +
                         (initFrom is null ? $"initial loss should be ≈ ln {c.VocabSize} = {Math.Log(c.VocabSize):0.00}" : $"the first loss is {initFrom}'s own on the first batch"));
        if (initFrom is not null)
        {
            var m = DecoderTrainingRun.FineTuningMemory(c, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
            stdout.WriteLine($"memory about {LoadMemory.Format(m.RequiredBytes)}: weights, gradients and AdamW's two moments (4 float32 copies) " +
                             $"{LoadMemory.Format(m.WeightBytes)} + working set {LoadMemory.Format(m.WorkingSetBytes)}, of {LoadMemory.Format(m.AvailableBytes)} this process can use");
        }
        stdout.WriteLine($"writing {run.Directory}{OnDevice(run)}");
    }

    /// <summary>"; steps on cuda (the GPU's description), attention 'flash'" when the steps run on a GPU; empty on the CPU.</summary>
    private static string OnDevice(DecoderTrainingRun run) =>
        run.Trainer.Backend is CudaTrainingBackend gpu ? $"; steps on cuda ({gpu.Model.Gpu.Description}), attention '{gpu.Model.Attention.Name}'" : "";

    /// <summary>Locks an --out directory (creating it), refusing one that is a file or cannot be written.</summary>
    internal static RunDirectoryLock LockOut(string outDir)
    {
        if (File.Exists(outDir)) throw new CliError($"--out {outDir} is a file, not a directory");
        try { return RunDirectoryLock.Acquire(outDir); }
        catch (RunDirectoryBusyException e) { throw new CliError(e.Message); }
        catch (IOException e) { throw new CliError($"--out {outDir} cannot be written: {e.Message}"); }
    }

    /// <summary>
    /// Starts a new run with <see cref="DecoderTrainingRun.StartNew"/> (which locks, checks and cleans up its directory),
    /// saying in the CLI's words what it refused: an occupied directory (<paramref name="occupied"/>), a busy one, or an
    /// --out or runs/ folder that cannot be written.
    /// </summary>
    internal static DecoderTrainingRun StartNew(Func<DecoderTrainingRun> start, string? outDir, Func<RunDirectoryOccupiedException, string> occupied)
    {
        try { return start(); }
        catch (RunDirectoryOccupiedException e) { throw new CliError(occupied(e)); }
        catch (RunDirectoryBusyException e) { throw new CliError(e.Message); }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new CliError(outDir is null ? e.Message : $"--out {outDir} cannot be written: {e.Message}");
        }
    }

    /// <summary>With --init-from the shape is the folder's: a size or architecture option that says otherwise is refused.</summary>
    private static void RefuseOtherShape(Args a, DecoderConfig folder, string initFrom)
    {
        if (a.String("preset") is string preset)
            throw new CliError($"--preset {preset} picks a new model's size; --init-from {initFrom} trains that folder's own shape (leave --preset out)");
        string arch = LlamaStateDict.IsLlamaFamily(folder) ? "llama" : "gpt2";
        if (a.String("arch") is string given && given != arch)
            throw new CliError($"--arch {given} does not match {initFrom}, a {(arch == "llama" ? "Llama-family" : "GPT-2")} model; --init-from trains the folder's own architecture");
        foreach (var (option, value, what) in new[]
                 {
                     ("layers", folder.Layers, "layers"), ("d-model", folder.Channels, "channels"), ("heads", folder.Heads, "heads"),
                     ("kv-heads", folder.KeyValueHeads, "key/value heads"), ("context", folder.ContextLength, "positions"),
                 })
        {
            if (!a.Has(option)) continue;
            int n = a.Int(option, value, 1);
            if (n != value) throw new CliError($"--{option} {n} does not match {initFrom} ({value} {what}); --init-from trains the folder's own shape");
        }
    }

    internal static DecoderConfig ReadModelOptions(Args a, DecoderConfig fallback)
    {
        var presetName = a.String("preset");
        DecoderConfig config;
        try { config = presetName is null ? fallback : DecoderConfig.Preset(presetName); }
        catch (ArgumentException e) { throw new CliError(Cli.OneLine(e.Message)); }
        config = config with
        {
            Layers = a.Int("layers", config.Layers, 1, 256),
            Channels = a.Int("d-model", config.Channels, 1, 16384),
            Heads = a.Int("heads", config.Heads, 1, 1024),
            ContextLength = a.Int("context", config.ContextLength, 1, 1 << 16),
        };
        if (config.Channels % config.Heads != 0) throw new CliError($"--d-model ({config.Channels}) must divide by --heads ({config.Heads})");
        string arch = a.String("arch") ?? (LlamaStateDict.IsLlamaFamily(config) ? "llama" : "gpt2");
        int? kvHeads = a.Has("kv-heads") ? a.Int("kv-heads", 0, 1, 1024) : null;
        if (arch == "gpt2")
        {
            if (kvHeads is not null) throw new CliError("--kv-heads is for --arch llama (GPT-2 has one key/value head per query head)");
            return config;
        }
        if (arch != "llama") throw new CliError($"--arch must be gpt2 or llama, got '{arch}'");
        if (kvHeads is int kv && config.Heads % kv != 0) throw new CliError($"--heads ({config.Heads}) must divide by --kv-heads ({kv})");
        // the Llama choices at the preset's (or the options') size; a Llama preset keeps its key/value heads where they still divide H
        int? keep = LlamaStateDict.IsLlamaFamily(config) && config.Heads % config.KeyValueHeads == 0 ? config.KeyValueHeads : null;
        return config.WithLlamaArchitecture(kvHeads ?? keep);
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
        w.WriteLine("usage: attnlab train [--data FILE] [--tokenizer char|gpt2|o200k] [--preset NAME | --layers N --d-model C --heads H --context T] [--arch gpt2|llama [--kv-heads N]]");
        w.WriteLine("                     [--batch B] [--steps N] [--lr LR] [--warmup N] [--min-lr LR] [--weight-decay WD] [--grad-clip G]");
        w.WriteLine("                     [--seed S] [--eval-every N] [--eval-batches N] [--attention NAME] [--out DIR] [--force] [--json]");
        w.WriteLine("       attnlab train --out DIR --resume [--steps N] [--data FILE] [--attention NAME]");
        w.WriteLine("       attnlab train --init-from MODEL_DIR [--data FILE] [--tokenizer NAME] [--steps N] [--lr LR] ... [--out DIR]");
        w.WriteLine();
        w.WriteLine("  --steps N     the run's TOTAL number of optimizer steps (also the cosine schedule's length), not steps to add.");
        w.WriteLine("                With --resume, a larger N extends the run: the steps already done keep the schedule they ran with,");
        w.WriteLine("                and from the current step the learning rate follows the cosine for the new total (warmup unchanged),");
        w.WriteLine("                so 100 steps then --resume --steps 200 is not identical to 200 steps straight: at step 100 the rate");
        w.WriteLine("                jumps from the floor back to the 200-step cosine's midpoint. Resuming with the same N is exact.");
        w.WriteLine("  --context T   sequence length (positions); --seq-len and --length are the same option.");
        w.WriteLine("  --arch llama  the same size as a Llama: RMSNorm, rotary positions, the SwiGLU MLP (≈ 8C/3 wide), H/2 key/value");
        w.WriteLine("                heads (--kv-heads N to choose; 1 is multi-query), no biases, an untied head; saved as a Hugging Face");
        w.WriteLine("                LlamaForCausalLM folder. --preset llama-char is the char preset with these choices.");
        w.WriteLine("  --init-from MODEL_DIR  fine-tuning: start from a saved GPT-2 or Llama-family (Hugging Face) folder's weights, trained");
        w.WriteLine("                by the same trainer (fresh AdamW moments) and saved in that folder's own layout; its tokenizer reads");
        w.WriteLine("                the data (a folder without one needs --tokenizer). Size and --arch options must match the folder.");
        w.WriteLine("  --out DIR     the run directory (default runs/<timestamp>). Files there that are not the checkpoint's are never");
        w.WriteLine("                touched; a second training writing the same DIR is refused while the first runs.");
        w.WriteLine();
        w.WriteLine("Trains a GPT-2 (default: nanoGPT's char-level CPU config, 4 layers × 128 wide × 4 heads, context 64) on --data (default: the");
        w.WriteLine("tiny Shakespeare bundled with attnlab, saved as " + AttentionLab.Datasets.TinyShakespeare.Source + ") with AdamW,");
        w.WriteLine("linear warmup + cosine decay and gradient clipping on the first 90% of the tokens, estimating validation loss on the");
        w.WriteLine("last 10% every --eval-every steps. Each validation writes a checkpoint to --out (default runs/<timestamp>): the model");
        w.WriteLine("as a Hugging Face GPT-2 directory, the tokenizer, the optimizer state and loss_curve.svg. Ctrl+C saves and stops;");
        w.WriteLine("--resume continues exactly where the run stopped. An --out that already holds a model is refused unless --force.");
        w.WriteLine($"Presets: {string.Join(", ", DecoderConfig.Presets.Keys)}.");
        w.WriteLine($"--attention NAME picks the attention kernel ({string.Join(", ", AttentionKernels.Names)}; default {AttentionKernels.DefaultName});");
        w.WriteLine("it is saved with the model (config.json attnlab_attention) and used again by generate, inspect and --resume.");
        w.WriteLine(CommandSupport.DeviceHelp);
        w.WriteLine("                    cuda runs the same loop with every tensor on the GPU: the same progress, checkpoints, --resume");
        w.WriteLine("                    and Ctrl+C; a checkpoint copies the weights and AdamW moments back, so a run can resume on either device.");
    }
}
