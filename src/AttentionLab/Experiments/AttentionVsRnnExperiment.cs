using System.Globalization;
using System.Text.Json.Nodes;
using AttentionLab.Models;
using AttentionLab.Training;

namespace AttentionLab.Experiments;

/// <summary>
/// <c>attention-vs-rnn</c>: the GPT against a GRU with about the same number of parameters, each with the same share of
/// the time budget (seed 000, question 4: attention runs every position in parallel and connects any two positions in
/// one step; a recurrent network runs step by step and must carry information through every hidden state between).
/// Two tasks: the character model on tiny Shakespeare, where the GRU is a fair rival, and a long-range copy task
/// (<see cref="CopyTask"/>), where the difference is stark.
/// </summary>
public sealed class AttentionVsRnnExperiment : IExperiment
{
    public string Name => "attention-vs-rnn";
    public string Summary => "GPT vs a GRU of equal size and time on Shakespeare and on a long-range copy task";

    /// <summary>The copy task (8 symbols, each to be recalled 32 positions later, by default).</summary>
    public CopyTask Copy { get; init; } = new();

    /// <summary>Held-out windows scored at the end.</summary>
    public int CopyEpisodes { get; init; } = 64;

    /// <summary>The GRU's hidden width that brings its parameter count closest to <paramref name="target"/>, at embedding E.</summary>
    public static int MatchingHidden(int vocab, int embedding, long target)
    {
        int best = 1;
        for (int h = 1; h <= 4096; h++)
        {
            if (Math.Abs(GruLanguageModel.CountParameters(vocab, embedding, h) - target) < Math.Abs(GruLanguageModel.CountParameters(vocab, embedding, best) - target)) best = h;
            if (GruLanguageModel.CountParameters(vocab, embedding, h) > target) break;
        }
        return best;
    }

    public ExperimentResult Run(ExperimentContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Copy.Validate();
        context.RunCount = 4;
        var config = context.Model;
        int e = config.Channels;
        var runs = new List<ExperimentRun>();

        // 1. tiny Shakespeare, same time (or steps) each
        var gpt = context.NewGpt(config);
        var gptText = context.Train("gpt", new Gpt2LanguageModel(gpt));
        runs.Add(Text("gpt", gptText, gpt.ParameterCount));
        var gru = NewGru(context, config.VocabSize, e, MatchingHidden(config.VocabSize, e, gpt.ParameterCount), config.ContextLength);
        var gruText = context.Train("gru", gru);
        runs.Add(Text("gru", gruText, gru.ParameterCount) with { Measures = new JsonObject { ["task"] = "shakespeare", ["hidden"] = gru.Hidden } });

        // 2. the copy task
        var copyConfig = config with { VocabSize = Copy.VocabSize, ContextLength = Copy.Context };
        var copyGpt = context.NewGpt(copyConfig);
        runs.Add(CopyRun(context, "gpt copy", new Gpt2LanguageModel(copyGpt), (b, t) => copyGpt.Logits.Slice((b * Copy.Context + t) * Copy.VocabSize, Copy.VocabSize), copyGpt.ParameterCount));
        var copyGru = NewGru(context, Copy.VocabSize, e, MatchingHidden(Copy.VocabSize, e, copyGpt.ParameterCount), Copy.Context);
        runs.Add(CopyRun(context, "gru copy", copyGru, copyGru.LogitsAt, copyGru.ParameterCount, copyGru.Hidden));

        double Accuracy(ExperimentRun run) => (double)run.Measures["copy_accuracy"]!;
        string finding = string.Create(CultureInfo.InvariantCulture,
            $"Shakespeare: GPT {runs[0].ValidationLoss:0.000} vs GRU {runs[1].ValidationLoss:0.000} validation loss ({runs[0].Steps} vs {runs[1].Steps} steps). " +
            $"Recalling the symbol {Copy.Delay} positions back: GPT {Accuracy(runs[2]):P0} vs GRU {Accuracy(runs[3]):P0} of the copied symbols right " +
            $"(chance {1.0 / Copy.Symbols:P0}).");
        var setup = Setup.Of(context, config);
        setup["copy_task"] = new JsonObject { ["symbols"] = Copy.Symbols, ["delay"] = Copy.Delay, ["length"] = Copy.Length, ["windows_scored"] = CopyEpisodes };
        return new ExperimentResult(Name, "Attention connects any two positions in one step; an RNN must carry information through every step between.",
            runs, ["task", "copy_accuracy", "copy_loss"], finding)
        { Setup = setup };
    }

    private static GruLanguageModel NewGru(ExperimentContext context, int vocab, int embedding, int hidden, int length)
    {
        var gru = new GruLanguageModel(vocab, embedding, hidden, length);
        gru.InitializeWeights(context.WeightSeed);
        return gru;
    }

    private static ExperimentRun Text(string setting, TrainedModel trained, long parameters) =>
        ExperimentContext.Record(setting, trained, parameters) with { Measures = new JsonObject { ["task"] = "shakespeare" } };

    /// <summary>Trains on the copy task; the run's losses are on the copied symbols (train: fresh windows, val: held-out).</summary>
    private ExperimentRun CopyRun(ExperimentContext context, string setting, ILanguageModel model, LogitsRow logits, long parameters, int? hidden = null)
    {
        int index = context.NextRunIndex();
        var options = context.TrainingOptions() with { Seed = context.Options.Training.Seed };
        TimeSpan? budget = context.Options.Steps is null ? context.Share : null;
        var state = Copy.Train(model, logits, options, budget,
            (step, planned, loss) => context.Progress?.Invoke(new ExperimentProgress(setting, index, context.RunCount, step, planned, loss)));
        var train = Copy.Evaluate(model, logits, CopyEpisodes, options.Seed ^ 0x7A1);
        var held = Copy.Evaluate(model, logits, CopyEpisodes, options.Seed ^ 0x5EED);
        var measures = new JsonObject
        {
            ["task"] = "copy",
            ["copy_accuracy"] = ExperimentJson.Round(held.Accuracy),
            ["copy_loss"] = ExperimentJson.Round(held.CopyLoss),
            ["window_loss"] = ExperimentJson.Round(held.Loss),
        };
        if (hidden is int h) measures["hidden"] = h;
        return new ExperimentRun(setting, state.Step, train.CopyLoss, held.CopyLoss, state.Seconds, parameters, state.TrainLosses.ToArray(), state.ValidationLosses.ToArray())
        { Measures = measures };
    }
}
