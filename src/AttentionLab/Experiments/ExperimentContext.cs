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
    private readonly HashSet<Type> _warm = [];

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
    public DecoderConfig Model => Options.Model with { VocabSize = Corpus.Tokenizer.VocabSize };

    /// <summary>The seed every setting's weights start from.</summary>
    public int WeightSeed => unchecked((int)(Options.Training.Seed & 0x7FFF_FFFF));

    /// <summary>A GPT of <paramref name="config"/> initialized from the shared seed (so settings that differ only in
    /// attention options start from identical weights).</summary>
    /// <param name="options">attention options other than the config's (e.g. no 1/√d scale), or null</param>
    public DecoderModel NewGpt(DecoderConfig config, AttentionLab.Attention.AttentionOptions? options = null)
    {
        var model = options is null ? new DecoderModel(config) : new DecoderModel(config) { AttentionOptions = options };
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
        WarmUp(model, corpus);
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

    /// <summary>
    /// Under a time budget, the first run of a model type would pay for the JIT: .NET first runs methods as quick,
    /// unoptimized code and recompiles the hot ones after a while, so the first setting's early steps (from which its
    /// step count is planned) would be several times slower than the next setting's. Training the model for
    /// <see cref="WarmUpSteps"/> throwaway steps, off the clock, then restoring its weights, makes the shares fair.
    /// </summary>
    public void WarmUp(ILanguageModel model, Corpus corpus)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(corpus);
        if (Options.Steps is not null || !_warm.Add(model.GetType())) return;
        var weights = model.Parameters.ToArray();
        var trainer = new Trainer(model, corpus, Options.Training with { Steps = WarmUpSteps, WarmupSteps = 0, EvalEvery = int.MaxValue });
        while (!trainer.IsFinished) trainer.Step();
        weights.CopyTo(model.Parameters, 0);
        model.ZeroGrad();
    }

    /// <summary>Throwaway steps of <see cref="WarmUp"/>.</summary>
    public const int WarmUpSteps = 60;

    /// <summary>Reports a step of a run trained outside <see cref="Train"/> (e.g. the copy task) and returns its index.</summary>
    internal int NextRunIndex() => _runIndex++;

    /// <summary>A run record for a trained GPT or GRU.</summary>
    public static ExperimentRun Record(string setting, TrainedModel trained, long parameters) =>
        new(setting, trained.Steps, trained.TrainLoss, trained.ValidationLoss, trained.Seconds, parameters,
            trained.TrainCurve.ToArray(), trained.ValidationCurve.ToArray());
}
