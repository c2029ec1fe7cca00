using System.Diagnostics;
using System.Text.Json.Nodes;
using AttentionLab.Attention;
using AttentionLab.Datasets;
using AttentionLab.Inspection;
using AttentionLab.Models;
using AttentionLab.Rendering;
using AttentionLab.Training;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// <c>attnlab demo</c>: the whole story in a few minutes — a character-level GPT on tiny Shakespeare,
/// a sample before training, live training, a sample after, an attention map, and a saved model.
/// </summary>
internal static class DemoCommand
{
    public const string Summary = "train a char-level GPT on tiny Shakespeare in ~3 minutes, sample it, show its attention";

    /// <summary>The demo's model: nanoGPT's char-level CPU config (4 layers, 4 heads, 128 wide, context 64).</summary>
    public static DecoderConfig Model => DecoderConfig.ShakespeareChar;

    /// <summary>The demo's training: nanoGPT's CPU settings (batch 12, AdamW (0.9, 0.99), weight decay 0.1, clip 1.0,
    /// cosine to lr/10) with a 3× higher peak learning rate and a shorter warmup, which this small model takes well:
    /// on a shared 2-core machine it reaches nanoGPT's 2000-step validation loss (1.88) in about 1,300–1,700 steps.
    /// The step count (at most 5000) is fitted to the time budget.</summary>
    public static TrainingOptions Training { get; } = new()
    {
        BatchSize = 12, Steps = 5000, LearningRate = 3e-3, MinLearningRate = 3e-4, WarmupSteps = 50,
        WeightDecay = 0.1, Beta1 = 0.9, Beta2 = 0.99, GradientClip = 1.0, Seed = 1337, EvalEvery = 250, EvalBatches = 20,
    };

    private const string SamplePrompt = "\n";
    private const string AttentionText = "ROMEO:\nBut soft, what light through";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var a = new Args(args);
        if (a.Help) { Usage(stdout); return 0; }
        bool minutesGiven = a.Has("minutes");
        double minutes = a.Double("minutes", 3, 0.05, 24 * 60);
        bool stepsGiven = a.Has("steps");
        var options = Training with { Steps = a.Int("steps", Training.Steps, 1, 10_000_000) };
        var outDir = a.String("out");
        var presetName = a.String("preset");
        var kernel = CommandSupport.Kernel(a.String("attention"));
        var data = a.Path("data") ?? TinyShakespeare.Source;
        bool json = a.Json;
        a.EnsureAllUsed();
        DecoderConfig config;
        try { config = presetName is null ? Model : DecoderConfig.Preset(presetName); }
        catch (ArgumentException e) { throw new CliError(e.Message); }
        if (presetName is not null) options = options with { EvalEvery = Math.Max(1, Math.Min(options.EvalEvery, options.Steps)), EvalBatches = Math.Min(options.EvalBatches, 4) };
        // a time budget applies unless only --steps was given
        TimeSpan? budget = minutesGiven || !stepsGiven ? TimeSpan.FromMinutes(minutes) : null;

        var clock = Stopwatch.StartNew();
        var corpus = Corpus.Load(data, "char");
        var run = TrainCommand.StartNew(() => DecoderTrainingRun.StartNew(corpus, data, config, options, outDir, kernel), outDir,
            e => $"{e.Directory} {(e.HoldsModel ? "already holds a model" : $"holds {string.Join(", ", e.Existing)}")}; the demo never overwrites (omit --out for a new runs/<timestamp>)");
        outDir = run.Directory;
        using var _ = run;
        var log = json ? TextWriter.Null : stdout;
        log.WriteLine("attnlab demo — a character-level GPT learns Shakespeare");
        TrainCommand.PrintHeader(log, run);
        if (budget is TimeSpan b) log.WriteLine($"time budget {CommandSupport.Clock(b)}: the step count is fitted to it after a few steps");
        log.WriteLine();
        var generator = DecoderLanguageModel.Generator(run.Model);
        var sampling = new SamplingOptions(Temperature: 0.8, TopK: 0, TopP: 1.0, Seed: 42);
        var before = Sample(run, generator, sampling, 200);
        log.WriteLine("── sample before training (random weights: every character about equally likely) ──");
        log.WriteLine(before);
        log.WriteLine();

        Func<StepReport, bool>? stop = null;
        if (budget is TimeSpan limit)
        {
            var plan = new TimeBudgetPlan(limit, options.Steps, () => clock.Elapsed.TotalSeconds);
            stop = r => plan.ShouldStop(r, run.Trainer);
        }
        var (last, interrupted) = TrainingProgress.Run(run, TrainingProgress.Style.Tokens, TrainingProgress.Choose(stdout, json), stdout, stop);
        double? validation = last?.ValidationLoss;

        log.WriteLine();
        var after = Sample(run, generator, sampling, 300);
        log.WriteLine($"── sample after {run.Trainer.State.Step} steps (validation loss {validation:0.000}) ──");
        log.WriteLine(after);
        log.WriteLine();
        ShowAttention(run, generator, log, CommandSupport.IsTerminal(stdout) && !json);
        log.WriteLine($"validation loss {validation:0.0000} after {run.Trainer.State.Step} steps, {CommandSupport.Clock(TimeSpan.FromSeconds(run.Trainer.State.Seconds))} of training " +
                      $"({clock.Elapsed.TotalSeconds:0} s in all){(interrupted ? " — interrupted" : "")}");
        log.WriteLine($"saved {outDir}: the model (Hugging Face GPT-2 format), {AttentionLab.Text.Tokenizers.FileName}, {TrainingCheckpoint.LossCurveFile}");
        log.WriteLine($"next: attnlab generate --model {outDir} --prompt \"ROMEO:\" --temperature 0.8");
        log.WriteLine($"      attnlab inspect --model {outDir} --text \"To be, or not to be\"");
        if (json)
            stdout.WriteLine(new JsonObject
            {
                ["done"] = !interrupted, ["out"] = outDir, ["steps"] = run.Trainer.State.Step, ["val_loss"] = validation,
                ["train_seconds"] = Math.Round(run.Trainer.State.Seconds, 3), ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 3),
                ["sample_before"] = before, ["sample_after"] = after,
            }.ToJsonString());
        return interrupted ? 130 : 0;
    }

    private static string Sample(DecoderTrainingRun run, TextGenerator generator, SamplingOptions sampling, int tokens)
    {
        var tokenizer = run.Corpus.Tokenizer;
        var prompt = tokenizer.Encode(SamplePrompt);
        return tokenizer.Decode(generator.Generate(prompt, tokens, sampling).ToArray()).Trim('\n');
    }

    /// <summary>The most focused head of the last layer (lowest mean entropy) on a line of Romeo.</summary>
    private static void ShowAttention(DecoderTrainingRun run, TextGenerator generator, TextWriter log, bool colour)
    {
        var c = run.Model.Config;
        var tokenizer = run.Corpus.Tokenizer;
        int[] ids;
        try { ids = tokenizer.Encode(AttentionText); }
        catch (ArgumentException) { return; } // a custom --data without these characters
        if (ids.Length > c.ContextLength) ids = ids[..c.ContextLength];
        int l = c.Layers - 1;
        var report = DecoderInspector.Inspect(generator.Model, tokenizer, ids, new InspectionOptions { Layer = l, IncludeLogits = false });
        var entropies = Enumerable.Range(0, c.Heads).Select(h => report.Entropy[l * c.Heads + h]).ToArray();
        int best = Array.IndexOf(entropies, entropies.Min());
        log.WriteLine($"── attention of layer {l}, head {best} (its most focused head: mean entropy {entropies[best]:0.00} nats; " +
                      $"heads: {string.Join(", ", entropies.Select(e => e.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)))}) ──");
        log.WriteLine("row = the character being predicted from, column = a character it looks at; darker = more attention");
        InspectCommand.WriteMap(log, report.Map(l, best), report.Tokens, colour);
        log.WriteLine();
    }

    private static void Usage(TextWriter w)
    {
        w.WriteLine("usage: attnlab demo [--minutes M] [--steps N] [--out DIR] [--data FILE] [--preset NAME] [--attention NAME] [--json]");
        w.WriteLine();
        w.WriteLine("Trains nanoGPT's char-level Shakespeare model (4 layers, 4 heads, 128 wide, context 64; ~0.8M parameters) on");
        w.WriteLine("tiny Shakespeare (bundled; or --data FILE) (first 90% train, last 10% validation) for about --minutes (default 3; the step count is");
        w.WriteLine("fitted to the time after 10 steps; --steps N caps it, and --steps alone runs exactly N). Shows a sample before and");
        w.WriteLine("after training and an attention map, and saves the model and loss_curve.svg in --out (default runs/<timestamp>;");
        w.WriteLine("never overwrites a model). --preset picks another model size (e.g. tiny, for a quick check). --attention NAME picks");
        w.WriteLine($"the attention kernel ({string.Join(", ", AttentionKernels.Names)}; default {AttentionKernels.DefaultName}).");
    }
}
