using System.Globalization;
using System.Text.Json.Nodes;
using AttentionLab.Models;
using AttentionLab.Training;

namespace AttentionLab.Experiments;

/// <summary>
/// <c>attention-vs-rnn</c>: the GPT against a GRU with about the same number of parameters, each with the same share of
/// the time budget (seed 000, question 4: attention runs every position in parallel and connects any two positions in
/// one step; a recurrent network runs step by step and must carry information through every hidden state between).
/// Two tasks: the character model on tiny Shakespeare, where the GRU is a fair rival, and long-range recall
/// (<see cref="RecallTask"/>), where the answer lies 1 to T − 1 positions back and attention reaches it in one step:
/// there the difference is stark, and the GPT's accuracy does not depend on the distance.
/// </summary>
public sealed class AttentionVsRnnExperiment : IExperiment
{
    public string Name => "attention-vs-rnn";
    public string Summary => "GPT vs a GRU of equal size and time on Shakespeare and on long-range recall";

    /// <summary>The recall task (8 slots of 16 symbols, then 56 queries: 64 positions, by default).</summary>
    public RecallTask Recall { get; init; } = new();

    /// <summary>Held-out windows scored at the end.</summary>
    public int RecallEpisodes { get; init; } = 128;

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
        Recall.Validate();
        context.RunCount = 4;
        var config = context.Model;
        int e = config.Channels;
        var runs = new List<ExperimentRun>();

        // 1. tiny Shakespeare, same time (or steps) each
        var gpt = context.NewGpt(config);
        var gptText = context.Train("gpt", new DecoderLanguageModel(gpt));
        runs.Add(Text("gpt", gptText, gpt.ParameterCount));
        var gru = NewGru(context, config.VocabSize, e, MatchingHidden(config.VocabSize, e, gpt.ParameterCount), config.ContextLength);
        var gruText = context.Train("gru", gru);
        runs.Add(Text("gru", gruText, gru.ParameterCount) with { Measures = new JsonObject { ["task"] = "shakespeare", ["hidden"] = gru.Hidden } });

        // 2. recall by slot, same time (or steps) each
        int V = Recall.VocabSize, T = Recall.Context;
        var recallGpt = context.NewGpt(config with { VocabSize = V, ContextLength = T });
        runs.Add(RecallRun(context, "gpt recall", new DecoderLanguageModel(recallGpt), (b, t) => recallGpt.Logits.Slice((b * T + t) * V, V), recallGpt.ParameterCount));
        var recallGru = NewGru(context, V, e, MatchingHidden(V, e, recallGpt.ParameterCount), T);
        runs.Add(RecallRun(context, "gru recall", recallGru, recallGru.LogitsAt, recallGru.ParameterCount, recallGru.Hidden));

        string finding = string.Create(CultureInfo.InvariantCulture,
            $"Shakespeare: GPT {runs[0].ValidationLoss:0.000} vs GRU {runs[1].ValidationLoss:0.000} validation loss ({runs[0].Steps} vs {runs[1].Steps} steps). " +
            $"Recalling a symbol 1 to {T - 1} positions back: GPT {Accuracy(runs[2]):P0} vs GRU {Accuracy(runs[3]):P0} right " +
            $"(chance {1.0 / Recall.Symbols:P0}); nearest vs farthest distances: GPT {Near(runs[2])} → {Far(runs[2])}, GRU {Near(runs[3])} → {Far(runs[3])}.");
        var setup = Setup.Of(context, config);
        setup["recall_task"] = new JsonObject { ["symbols"] = Recall.Symbols, ["slots"] = Recall.Slots, ["length"] = T, ["windows_scored"] = RecallEpisodes };
        return new ExperimentResult(Name, "Attention connects any two positions in one step; an RNN must carry information through every step between.",
            runs, ["task", "recall_accuracy", "recall_loss"], finding)
        { Setup = setup };
    }

    private static double Accuracy(ExperimentRun run) => (double)run.Measures["recall_accuracy"]!;
    private static string Near(ExperimentRun run) => FormattableString.Invariant($"{(double)run.Measures["accuracy_by_distance"]![0]!["accuracy"]!:P0}");
    private static string Far(ExperimentRun run)
    {
        var bins = run.Measures["accuracy_by_distance"]!.AsArray();
        return FormattableString.Invariant($"{(double)bins[bins.Count - 1]!["accuracy"]!:P0}");
    }

    private static GruLanguageModel NewGru(ExperimentContext context, int vocab, int embedding, int hidden, int length)
    {
        var gru = new GruLanguageModel(vocab, embedding, hidden, length);
        gru.InitializeWeights(context.WeightSeed);
        return gru;
    }

    private static ExperimentRun Text(string setting, TrainedModel trained, long parameters) =>
        ExperimentContext.Record(setting, trained, parameters) with { Measures = new JsonObject { ["task"] = "shakespeare" } };

    /// <summary>Trains on the recall task; the run's losses are on the query positions (train: fresh windows, val: held-out).</summary>
    private ExperimentRun RecallRun(ExperimentContext context, string setting, ILanguageModel model, LogitsRow logits, long parameters, int? hidden = null)
    {
        int index = context.NextRunIndex();
        var options = context.TrainingOptions() with { Seed = context.Options.Training.Seed };
        TimeSpan? budget = context.Options.Steps is null ? context.Share : null;
        var state = SequenceTaskTraining.Train(Recall, model, options, budget,
            () => Recall.Evaluate(model, logits, options.BatchSize, options.Seed ^ 0xC0B1).RecallLoss,
            (step, planned, loss) => context.Progress?.Invoke(new ExperimentProgress(setting, index, context.RunCount, step, planned, loss)));
        var train = Recall.Evaluate(model, logits, RecallEpisodes, options.Seed ^ 0x7A1);
        var held = Recall.Evaluate(model, logits, RecallEpisodes, options.Seed ^ 0x5EED);
        var byDistance = new JsonArray();
        foreach (var bin in held.ByDistance)
            byDistance.Add(new JsonObject { ["from"] = bin.From, ["to"] = bin.To, ["count"] = bin.Count, ["accuracy"] = ExperimentJson.Round(bin.Accuracy) });
        var measures = new JsonObject
        {
            ["task"] = "recall",
            ["recall_accuracy"] = ExperimentJson.Round(held.Accuracy),
            ["recall_loss"] = ExperimentJson.Round(held.RecallLoss),
            ["window_loss"] = ExperimentJson.Round(held.Loss),
            ["accuracy_by_distance"] = byDistance,
            ["accuracy_by_slot"] = new JsonArray(held.BySlot.Select(a => ExperimentJson.Round(a)).ToArray()),
        };
        if (hidden is int h) measures["hidden"] = h;
        return new ExperimentRun(setting, state.Step, train.RecallLoss, held.RecallLoss, state.Seconds, parameters, state.TrainLosses.ToArray(), state.ValidationLosses.ToArray())
        { Measures = measures };
    }
}
