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
public sealed class Trainer
{
    private readonly ITrainingBackend _backend;
    private readonly Corpus _corpus;
    private readonly Batches _train;
    private readonly int[] _inputs, _targets;
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
        new(model.Parameters.Length, new AdamWOptions
        {
            LearningRate = (float)options.LearningRate,
            Beta1 = (float)options.Beta1,
            Beta2 = (float)options.Beta2,
            WeightDecay = (float)options.WeightDecay,
        }, model.DecayedRanges);

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
    public AdamW Optimizer => _backend.Optimizer;
    public ITrainingBackend Backend => _backend;

    /// <summary>Brings the host copies of the weights and optimizer moments up to date (before a checkpoint).</summary>
    public void SynchronizeHost() => _backend.SynchronizeHost();
    public bool IsFinished => State.Step >= Options.Steps;

    /// <summary>Tokens per step: B·T.</summary>
    public int TokensPerStep => Options.BatchSize * _backend.Context;

    /// <summary>One optimizer step, plus a validation estimate when one is due. Returns what happened.</summary>
    public StepReport Step()
    {
        if (IsFinished) throw new InvalidOperationException($"the run is finished ({Options.Steps} steps)");
        _clock.Start();
        int step = State.Step;
        double lr = Options.Schedule.At(step);
        _train.Next(_inputs, _targets);
        _backend.ZeroGrad();
        float loss = _backend.Forward(_inputs, Options.BatchSize, _backend.Context, _targets);
        if (!float.IsFinite(loss)) { _clock.Stop(); throw new TrainingDivergedException(loss, step); }
        _backend.Backward();
        float norm = _backend.OptimizerStep(Options.GradientClip > 0 ? (float)Options.GradientClip : float.PositiveInfinity, (float)lr);
        State.Step = step + 1;
        State.SamplerState = _train.State;
        State.TrainLosses.Add(new LossPoint(step, loss));
        State.Tokens += TokensPerStep;
        _sessionTokens += TokensPerStep;
        _sessionSteps++;
        _clock.Stop();
        double? validation = null;
        if (State.Step % Options.EvalEvery == 0 || IsFinished) validation = EvaluateAndRecord();
        return Report(loss, validation, lr, norm);
    }

    /// <summary>Validation loss after the current step, recorded in the history (a no-op if already recorded).</summary>
    public double EvaluateAndRecord()
    {
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
    public double EstimateLoss(ReadOnlyMemory<int> tokens)
    {
        var sampler = new Batches(tokens, Options.BatchSize, _backend.Context, Options.Seed ^ 0x5EED_0F_5A11DA7EUL);
        double sum = 0;
        for (int i = 0; i < Options.EvalBatches; i++)
        {
            sampler.Next(_inputs, _targets);
            sum += _backend.Forward(_inputs, Options.BatchSize, _backend.Context, _targets);
        }
        return sum / Options.EvalBatches;
    }

    private StepReport Report(double loss, double? validation, double lr, double norm)
    {
        double sessionSeconds = _clock.Elapsed.TotalSeconds;
        State.Seconds = _secondsBefore + sessionSeconds;
        double perStep = _sessionSteps > 0 ? sessionSeconds / _sessionSteps : 0;
        var remaining = TimeSpan.FromSeconds(perStep * (Options.Steps - State.Step));
        double tokensPerSecond = sessionSeconds > 0 ? _sessionTokens / sessionSeconds : 0;
        return new StepReport(State.Step, Options.Steps, loss, validation, lr, norm, tokensPerSecond,
            TimeSpan.FromSeconds(State.Seconds), remaining);
    }
}
