using System.Diagnostics;

namespace AttentionLab.Training;

/// <summary>
/// The training loop, as in nanoGPT's train.py:
/// <code>
///   for each step s:
///       lr = schedule(s)                       linear warmup, cosine decay to the floor
///       x, y = next batch                      y is x shifted by one token
///       loss = model(x, y); backward           mean cross-entropy over B·T positions
///       clip the global gradient norm          keeps a bad batch from wrecking the weights
///       AdamW step with lr                     decoupled weight decay on matrices and embeddings
///       every EvalEvery steps: validation loss on fixed held-out batches
/// </code>
/// Everything that decides the next step — weights, AdamW moments and step count, the sampler's random
/// state, the step number — can be saved and restored (<see cref="TrainingCheckpoint"/>), so a resumed run
/// computes exactly the losses an uninterrupted one would. The arithmetic of a step runs on an
/// <see cref="ITrainingBackend"/> (the CPU, or a GPU that keeps every tensor on the device); the loop is the same.
/// </summary>
public sealed class Trainer : ITrainingRun
{
    private readonly ITrainingBackend? _backend;        // a language model's backend, or null for a run with its own objective
    private readonly Corpus? _corpus;
    private readonly Batches? _train;
    private readonly int[] _inputs = [], _targets = [];
    private readonly Func<float> _lossAndBackward;       // zero the gradients, draw a batch, forward, backward: the loss
    private readonly Func<float, float, float> _optimizerStep;   // (max norm, lr) → the gradient norm before clipping
    private readonly AdamW _optimizer;
    private readonly int _examplesPerStep;
    private readonly Stopwatch _clock = new();
    private readonly double _secondsBefore;
    private long _sessionTokens;
    private int _sessionSteps;

    /// <param name="model">The model to train on the CPU; its parameters are updated in place.</param>
    /// <param name="corpus">Training and validation tokens.</param>
    /// <param name="options">Hyper-parameters.</param>
    /// <param name="resume">State of an earlier session (with the optimizer restored by the caller), or null to start.</param>
    /// <param name="optimizer">AdamW over the model's arena; null creates a fresh one from <paramref name="options"/>.</param>
    public Trainer(ILanguageModel model, Corpus corpus, TrainingOptions options, TrainingState? resume = null, AdamW? optimizer = null)
        : this(CpuBackend(model, options, optimizer), corpus, options, resume)
    {
    }

    /// <param name="backend">Where the steps run (<see cref="CpuTrainingBackend"/>, or a GPU's); its optimizer is
    /// restored by the caller when resuming.</param>
    /// <param name="corpus">Training and validation tokens.</param>
    /// <param name="options">Hyper-parameters.</param>
    /// <param name="resume">State of an earlier session, or null to start.</param>
    public Trainer(ITrainingBackend backend, Corpus corpus, TrainingOptions options, TrainingState? resume = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (corpus.Tokenizer.VocabSize > backend.VocabSize)
            throw new ArgumentException($"the {corpus.Tokenizer.Name} tokenizer has {corpus.Tokenizer.VocabSize} ids but the model only {backend.VocabSize}");
        corpus.EnsureFits(backend.Context);
        if ((long)options.BatchSize * backend.Context > Array.MaxLength)
            throw new ArgumentException($"batch {options.BatchSize} × context {backend.Context} = {(long)options.BatchSize * backend.Context:N0} tokens per step, more than one array holds; lower the batch or the context");
        _backend = backend;
        _corpus = corpus;
        Options = options;
        State = resume ?? new TrainingState();
        _secondsBefore = State.Seconds;
        _train = new Batches(corpus.Train, options.BatchSize, backend.Context, options.Seed);
        if (resume is not null) _train.State = resume.SamplerState;
        else State.SamplerState = _train.State;
        _inputs = new int[options.BatchSize * backend.Context];
        _targets = new int[options.BatchSize * backend.Context];
        _optimizer = backend.Optimizer;
        _examplesPerStep = options.BatchSize * backend.Context;
        var train = _train;
        _lossAndBackward = () =>
        {
            train.Next(_inputs, _targets);
            backend.ZeroGrad();
            float loss = backend.Forward(_inputs, options.BatchSize, backend.Context, _targets);
            if (float.IsFinite(loss)) backend.Backward();
            return loss;
        };
        _optimizerStep = backend.OptimizerStep;
    }

    /// <summary>
    /// A run with its own objective (the seq2seq, BERT and ViT commands): each step clears the gradients, calls
    /// <paramref name="lossAndBackward"/> — draw a fresh batch, forward, backward, return the loss — then clips the
    /// global norm and steps AdamW over the model's one arena, with the same schedule, report and time budget as a
    /// language model's run. It has no validation split and no checkpoints (its command saves the model at the end).
    /// </summary>
    /// <param name="parameters">the weights (Data of the model's parameter arena), updated in place</param>
    /// <param name="gradients">dLoss/dParameters, same layout</param>
    /// <param name="decayed">the ranges that get weight decay (<see cref="Models.ParameterLayout.DecayedRanges"/>)</param>
    /// <param name="examplesPerStep">what the report's rate counts (examples, sequences, images per step)</param>
    public Trainer(float[] parameters, float[] gradients, IReadOnlyList<(int Offset, int Length)> decayed, Func<float> lossAndBackward,
        int examplesPerStep, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(gradients);
        ArgumentNullException.ThrowIfNull(decayed);
        ArgumentNullException.ThrowIfNull(lossAndBackward);
        ArgumentNullException.ThrowIfNull(options);
        if (gradients.Length != parameters.Length) throw new ArgumentException($"{gradients.Length} gradients for {parameters.Length} parameters");
        options.Validate();
        Options = options;
        State = new TrainingState();
        _examplesPerStep = examplesPerStep;
        _optimizer = NewOptimizer(parameters.Length, decayed, options);
        _lossAndBackward = () => { Array.Clear(gradients); return lossAndBackward(); };
        _optimizerStep = (maxNorm, lr) =>
        {
            float norm = AdamW.ClipGradientNorm(gradients, maxNorm);
            _optimizer.Step(parameters, gradients, lr);
            return norm;
        };
    }

    private static CpuTrainingBackend CpuBackend(ILanguageModel model, TrainingOptions options, AdamW? optimizer)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return new CpuTrainingBackend(model, optimizer ?? CreateOptimizer(model, options));
    }

    /// <summary>AdamW configured as <paramref name="options"/> says, decaying only the model's matrices and embeddings.</summary>
    public static AdamW CreateOptimizer(ILanguageModel model, TrainingOptions options) =>
        NewOptimizer(model.Parameters.Length, model.DecayedRanges, options);

    private static AdamW NewOptimizer(int parameters, IReadOnlyList<(int Offset, int Length)> decayed, TrainingOptions options) =>
        new(parameters, new AdamWOptions
        {
            LearningRate = (float)options.LearningRate,
            Beta1 = (float)options.Beta1,
            Beta2 = (float)options.Beta2,
            WeightDecay = (float)options.WeightDecay,
        }, decayed);

    public TrainingOptions Options { get; private set; }

    /// <summary>
    /// Changes the planned number of steps, and so the cosine schedule's length, e.g. to fit a time budget. During
    /// warmup nothing already used changes; later the learning rate continues on the new cosine from the current
    /// step (a small jump, harmless for training but no longer the schedule of an uninterrupted fixed-length run).
    /// </summary>
    public void Replan(int steps)
    {
        if (steps <= State.Step) throw new ArgumentOutOfRangeException(nameof(steps), $"cannot plan {steps} steps after {State.Step} are done");
        int warmup = State.Step <= Options.WarmupSteps ? Math.Max(State.Step, Math.Min(Options.WarmupSteps, steps / 10)) : Options.WarmupSteps;
        Options = Options with { Steps = steps, WarmupSteps = warmup };
    }
    public TrainingState State { get; }
    /// <summary>The host AdamW a checkpoint saves (current after <see cref="SynchronizeHost"/> when the steps run on a device).</summary>
    public AdamW Optimizer => _optimizer;

    /// <summary>Where a language model's steps run.</summary>
    /// <exception cref="InvalidOperationException">a run with its own objective, which has no backend</exception>
    public ITrainingBackend Backend => _backend ?? throw new InvalidOperationException("this run trains its own objective on the CPU; it has no language-model backend");

    /// <summary>"cpu" or the backend's device.</summary>
    public string Device => _backend?.Device ?? "cpu";

    /// <summary>Training time of this session (not counting earlier sessions of a resumed run).</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Brings the host copies of the weights and optimizer moments up to date (before a checkpoint).</summary>
    public void SynchronizeHost() => _backend?.SynchronizeHost();

    /// <summary>True when every planned step ran, or <see cref="TrainingOptions.TimeBudget"/> is spent.</summary>
    public bool IsFinished => State.Step >= Options.Steps || (Options.TimeBudget is { } budget && _clock.Elapsed >= budget);

    /// <summary>What one step consumes: B·T tokens for a language model, the objective's examples otherwise.</summary>
    public int TokensPerStep => _examplesPerStep;

    int ITrainingRun.CompletedSteps => State.Step;
    int ITrainingRun.PlannedSteps => Options.Steps;
    StepReport ITrainingRun.Step() => Step();
    double? ITrainingRun.Validate() => _corpus is null ? null : EvaluateAndRecord();
    void ITrainingRun.Checkpoint() { }

    /// <summary>One optimizer step, plus a validation estimate when one is due. Returns what happened.</summary>
    public StepReport Step()
    {
        if (IsFinished) throw new InvalidOperationException($"the run is finished ({Options.Steps} steps)");
        _clock.Start();
        int step = State.Step;
        double lr = Options.Schedule.At(step);
        float loss = _lossAndBackward();
        if (!float.IsFinite(loss)) { _clock.Stop(); throw new TrainingDivergedException(loss, step); }
        float norm = _optimizerStep(Options.GradientClip > 0 ? (float)Options.GradientClip : float.PositiveInfinity, (float)lr);
        State.Step = step + 1;
        if (_train is not null) State.SamplerState = _train.State;
        State.TrainLosses.Add(new LossPoint(step, loss));
        State.Tokens += TokensPerStep;
        _sessionTokens += TokensPerStep;
        _sessionSteps++;
        _clock.Stop();
        double? validation = null;
        if (_corpus is not null && (State.Step % Options.EvalEvery == 0 || IsFinished)) validation = EvaluateAndRecord();
        return Report(loss, validation, lr, norm);
    }

    /// <summary>Validation loss after the current step, recorded in the history (a no-op if already recorded).</summary>
    /// <exception cref="InvalidOperationException">a run with its own objective (it has no validation split)</exception>
    public double EvaluateAndRecord()
    {
        if (_corpus is null) throw new InvalidOperationException("a run with its own objective has no validation split");
        if (State.ValidationLosses.Count > 0 && State.ValidationLosses[^1].Step == State.Step) return State.ValidationLosses[^1].Loss;
        double v = EstimateLoss(_corpus.Validation);
        State.ValidationLosses.Add(new LossPoint(State.Step, v));
        return v;
    }

    /// <summary>
    /// Mean loss over <see cref="TrainingOptions.EvalBatches"/> batches drawn with a fixed seed, so every
    /// estimate (and every resumed run) uses the same held-out windows and curves are comparable.
    /// Does not touch the gradients' meaning for training (they are cleared before the next step).
    /// </summary>
    /// <param name="model">another model to score on the same windows (e.g. an inference view of the trained weights
    /// with other attention options), or null for the one being trained</param>
    /// <exception cref="InvalidOperationException">a run with its own objective (it is not a language model)</exception>
    public double EstimateLoss(ReadOnlyMemory<int> tokens, ILanguageModel? model = null)
    {
        if (_backend is null) throw new InvalidOperationException("a run with its own objective has no language-model loss to estimate");
        if (model is not null && model.Context != _backend.Context)
            throw new ArgumentException($"the model's context ({model.Context}) is not the run's ({_backend.Context})", nameof(model));
        var sampler = new Batches(tokens, Options.BatchSize, _backend.Context, Options.Seed ^ 0x5EED_0F_5A11DA7EUL);
        double sum = 0;
        for (int i = 0; i < Options.EvalBatches; i++)
        {
            sampler.Next(_inputs, _targets);
            sum += model is null ? _backend.Forward(_inputs, Options.BatchSize, _backend.Context, _targets)
                : model.Forward(_inputs, Options.BatchSize, _backend.Context, _targets);
        }
        return sum / Options.EvalBatches;
    }

    private StepReport Report(double loss, double? validation, double lr, double norm)
    {
        double sessionSeconds = _clock.Elapsed.TotalSeconds;
        State.Seconds = _secondsBefore + sessionSeconds;
        double perStep = _sessionSteps > 0 ? sessionSeconds / _sessionSteps : 0;
        var remaining = TimeSpan.FromSeconds(perStep * (Options.Steps - State.Step));
        if (Options.TimeBudget is { } budget && budget - _clock.Elapsed < remaining) remaining = budget - _clock.Elapsed;
        if (remaining < TimeSpan.Zero) remaining = TimeSpan.Zero;
        double tokensPerSecond = sessionSeconds > 0 ? _sessionTokens / sessionSeconds : 0;
        return new StepReport(State.Step, Options.Steps, loss, validation, lr, norm, tokensPerSecond,
            TimeSpan.FromSeconds(State.Seconds), remaining);
    }
}
