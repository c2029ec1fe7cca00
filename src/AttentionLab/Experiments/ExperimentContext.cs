using System.Diagnostics;
using AttentionLab.Models;
using AttentionLab.Training;

namespace AttentionLab.Experiments;

/// <summary>A model trained by <see cref="ExperimentContext.Train"/>, with its trainer (for further estimates) and curves.</summary>
public sealed record TrainedModel(ILanguageModel Model, Trainer Trainer, double TrainLoss, double ValidationLoss, double Seconds)
{
    public int Steps => Trainer.State.Step;
    public IReadOnlyList<LossPoint> TrainCurve => Trainer.State.TrainLosses;
    public IReadOnlyList<LossPoint> ValidationCurve => Trainer.State.ValidationLosses;
}

/// <summary>
/// What every experiment shares: the corpus, the options, and one way to train a setting — the same seed, batches
/// and hyper-parameters for every setting, and either the same number of steps or the same share of the budget.
/// </summary>
public sealed class ExperimentContext
{
    private int _runIndex;

    /// <param name="corpus">the character-level text every setting trains on (tiny Shakespeare)</param>
    /// <param name="options">budget or steps, model shape, hyper-parameters</param>
    /// <param name="progress">called after every training step; null for none</param>
    public ExperimentContext(Corpus corpus, ExperimentOptions options, Action<ExperimentProgress>? progress = null)
    {
        Corpus = corpus ?? throw new ArgumentNullException(nameof(corpus));
        Options = options ?? throw new ArgumentNullException(nameof(options));
        options.Validate();
        Progress = progress;
    }

    public Corpus Corpus { get; }
    public ExperimentOptions Options { get; }
    public Action<ExperimentProgress>? Progress { get; }

    /// <summary>How many training runs share the budget; an experiment sets it before its first <see cref="Train"/>.</summary>
    public int RunCount { get; set; } = 1;

    /// <summary>One run's share of the time budget.</summary>
    public TimeSpan Share => Options.Budget / Math.Max(1, RunCount);

    /// <summary>The base GPT config with the corpus's vocabulary.</summary>
    public Gpt2Config Model => Options.Model with { VocabSize = Corpus.Tokenizer.VocabSize };

    /// <summary>The seed every setting's weights start from.</summary>
    public int WeightSeed => unchecked((int)(Options.Training.Seed & 0x7FFF_FFFF));

    /// <summary>A GPT of <paramref name="config"/> initialized from the shared seed (so settings that differ only in
    /// attention options start from identical weights).</summary>
    public Gpt2Model NewGpt(Gpt2Config config)
    {
        var model = new Gpt2Model(config);
        model.InitializeWeights(WeightSeed);
        return model;
    }

    /// <summary>The training options of one run: a fixed step count, or as many steps as fit the run's share.</summary>
    public TrainingOptions TrainingOptions()
    {
        var t = Options.Training;
        if (Options.Steps is int steps)
            return t with { Steps = steps, WarmupSteps = Math.Min(t.WarmupSteps, steps / 10), EvalEvery = Math.Max(1, steps / 8) };
        return t with { Steps = Options.MaxSteps };
    }

    /// <summary>
    /// Trains <paramref name="model"/> on <paramref name="corpus"/> (default: <see cref="Corpus"/>) for the fixed steps
    /// or this run's share of the budget (fitted with <see cref="TimeBudgetPlan"/>), then estimates the training and
    /// validation losses on fixed windows.
    /// </summary>
    public TrainedModel Train(string setting, ILanguageModel model, Corpus? corpus = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        corpus ??= Corpus;
        int index = _runIndex++;
        var trainer = new Trainer(model, corpus, TrainingOptions());
        var clock = Stopwatch.StartNew();
        TimeBudgetPlan? plan = Options.Steps is null
            ? new TimeBudgetPlan(Share, Options.MaxSteps, () => clock.Elapsed.TotalSeconds, reserve: Share * 0.04)
            : null;
        while (!trainer.IsFinished)
        {
            var report = trainer.Step();
            Progress?.Invoke(new ExperimentProgress(setting, index, RunCount, report.Step, report.TotalSteps, report.Loss));
            if (plan?.ShouldStop(report, trainer) == true) break;
        }
        double seconds = clock.Elapsed.TotalSeconds;
        double validation = trainer.EvaluateAndRecord();
        double train = trainer.EstimateLoss(corpus.Train);
        return new TrainedModel(model, trainer, train, validation, seconds);
    }

    /// <summary>Reports a step of a run trained outside <see cref="Train"/> (e.g. the copy task) and returns its index.</summary>
    internal int NextRunIndex() => _runIndex++;

    /// <summary>A run record for a trained GPT or GRU.</summary>
    public static ExperimentRun Record(string setting, TrainedModel trained, long parameters) =>
        new(setting, trained.Steps, trained.TrainLoss, trained.ValidationLoss, trained.Seconds, parameters,
            trained.TrainCurve.ToArray(), trained.ValidationCurve.ToArray());
}
