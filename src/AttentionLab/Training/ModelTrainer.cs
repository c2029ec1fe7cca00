using System.Diagnostics;

namespace AttentionLab.Training;

/// <summary>Hyper-parameters of a <see cref="ModelTrainer"/> run (the seq2seq, BERT and ViT commands).</summary>
public sealed record ModelTrainingOptions
{
    /// <summary>Optimizer steps planned (a time budget may stop earlier).</summary>
    public int Steps { get; init; } = 1000;
    public double LearningRate { get; init; } = 1e-3;
    public double MinLearningRate { get; init; } = 1e-4;
    public int WarmupSteps { get; init; } = 50;
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>Global gradient-norm clip; 0 = off.</summary>
    public double GradientClip { get; init; } = 1.0;
    /// <summary>Stop after this much training time even if <see cref="Steps"/> are not done; null = no limit.</summary>
    public TimeSpan? TimeBudget { get; init; }

    public LearningRateSchedule Schedule => new(LearningRate, MinLearningRate, WarmupSteps, Steps);

    public void Validate()
    {
        if (Steps < 1) throw new ArgumentOutOfRangeException(nameof(Steps), $"steps must be at least 1, got {Steps}");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), $"learning rate must be positive, got {LearningRate}");
        if (MinLearningRate < 0 || MinLearningRate > LearningRate) throw new ArgumentOutOfRangeException(nameof(MinLearningRate), $"min learning rate must be in [0, {LearningRate}], got {MinLearningRate}");
        if (WarmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(WarmupSteps), $"warmup must be ≥ 0, got {WarmupSteps}");
        if (WeightDecay < 0 || GradientClip < 0) throw new ArgumentOutOfRangeException(nameof(WeightDecay), "weight decay and clip must be ≥ 0");
    }
}

/// <summary>
/// The training loop of the models beyond GPT: for each step, <c>lossAndBackward</c> draws a fresh batch, runs the
/// forward pass and the backward pass (gradients cleared by this loop first) and returns the loss; then the global
/// gradient norm is clipped and AdamW steps with the scheduled learning rate (linear warmup, cosine decay).
/// Reports each step as a <see cref="StepReport"/> (its TokensPerSecond counts examples) and runs under the same
/// <see cref="RunPolicy"/> as <c>attnlab train</c> (no validation split and no checkpoints: its command saves the model
/// once, at the end).
/// </summary>
public sealed class ModelTrainer : ITrainingRun
{
    private readonly Func<float> _lossAndBackward;
    private readonly float[] _arena, _gradients;         // one parameter arena and its gradients, one AdamW
    private readonly AdamW _optimizer;
    private readonly Stopwatch _clock = new();
    private readonly int _examplesPerStep;

    /// <summary>A trainer for any model of the one stack: its parameters and gradients are two arenas of one layout, and
    /// one <see cref="AdamW"/> decays the layout's matrices (<see cref="Models.ParameterLayout.DecayedRanges"/>).</summary>
    /// <param name="parameters">the weights (Data of the model's parameter arena)</param>
    /// <param name="gradients">dLoss/dParameters, same layout</param>
    /// <param name="decayed">the ranges that get weight decay</param>
    public ModelTrainer(float[] parameters, float[] gradients, IReadOnlyList<(int Offset, int Length)> decayed, Func<float> lossAndBackward,
        int examplesPerStep, ModelTrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(gradients);
        ArgumentNullException.ThrowIfNull(lossAndBackward);
        ArgumentNullException.ThrowIfNull(options);
        if (gradients.Length != parameters.Length) throw new ArgumentException($"{gradients.Length} gradients for {parameters.Length} parameters");
        options.Validate();
        (_arena, _gradients) = (parameters, gradients);
        _lossAndBackward = lossAndBackward;
        _examplesPerStep = examplesPerStep;
        Options = options;
        _optimizer = new AdamW(parameters.Length, new AdamWOptions { WeightDecay = (float)options.WeightDecay }, decayed);
    }

    public ModelTrainingOptions Options { get; }

    /// <summary>Steps completed.</summary>
    public int Step { get; private set; }

    /// <summary>Training time so far.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>(step, loss) of every step so far.</summary>
    public List<LossPoint> Losses { get; } = [];

    /// <summary>True when every planned step ran or the time budget is spent.</summary>
    public bool IsFinished => Step >= Options.Steps || (Options.TimeBudget is { } budget && _clock.Elapsed >= budget);

    int ITrainingRun.CompletedSteps => Step;
    int ITrainingRun.PlannedSteps => Options.Steps;
    StepReport ITrainingRun.Step() => Next();
    double? ITrainingRun.Validate() => null;
    void ITrainingRun.Checkpoint() { }

    /// <summary>One optimizer step.</summary>
    /// <exception cref="TrainingDivergedException">the loss is not finite</exception>
    public StepReport Next()
    {
        if (IsFinished) throw new InvalidOperationException("the run is finished");
        _clock.Start();
        double lr = Options.Schedule.At(Step);
        Array.Clear(_gradients);
        float loss = _lossAndBackward();
        if (!float.IsFinite(loss)) { _clock.Stop(); throw new TrainingDivergedException(loss, Step); }
        float maxNorm = Options.GradientClip > 0 ? (float)Options.GradientClip : float.PositiveInfinity;
        float norm = AdamW.ClipGradientNorm(_gradients, maxNorm);
        _optimizer.Step(_arena, _gradients, (float)lr);
        Losses.Add(new LossPoint(Step, loss));
        Step++;
        _clock.Stop();
        double seconds = _clock.Elapsed.TotalSeconds;
        double perStep = seconds / Step;
        int planned = Options.Steps;
        var remaining = TimeSpan.FromSeconds(perStep * (planned - Step));
        if (Options.TimeBudget is { } budget && budget - _clock.Elapsed < remaining) remaining = budget - _clock.Elapsed;
        if (remaining < TimeSpan.Zero) remaining = TimeSpan.Zero;
        return new StepReport(Step, planned, loss, null, lr, norm, seconds > 0 ? (double)_examplesPerStep * Step / seconds : 0,
            _clock.Elapsed, remaining);
    }
}
