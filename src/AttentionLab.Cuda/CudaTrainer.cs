using System.Diagnostics;
using AttentionLab.Training;

namespace AttentionLab.Cuda;

/// <summary>
/// <see cref="Trainer"/>'s loop with every tensor on the device: the same learning-rate schedule
/// (<see cref="TrainingOptions.Schedule"/>), batch sampler and seeds (<see cref="Batches"/>), gradient clipping and
/// AdamW (<see cref="GpuAdamW"/>, PyTorch's update), validation batches and <see cref="StepReport"/>s, so a run on the
/// GPU follows the CPU run's losses to float rounding. Per step the host sends B·T token ids and reads back two
/// floats (the loss and the gradient norm).
/// </summary>
public sealed class CudaTrainer
{
    private readonly Corpus _corpus;
    private readonly Batches _train;
    private readonly int[] _inputs, _targets;
    private readonly Stopwatch _clock = new();
    private readonly double _secondsBefore;
    private long _sessionTokens;
    private int _sessionSteps;

    /// <param name="resume">state of an earlier session (the optimizer restored by the caller), or null to start</param>
    /// <param name="optimizer">null: a fresh <see cref="GpuAdamW"/> from <paramref name="options"/></param>
    public CudaTrainer(CudaGpt2Model model, Corpus corpus, TrainingOptions options, TrainingState? resume = null, GpuAdamW? optimizer = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (corpus.Tokenizer.VocabSize > model.Config.VocabSize)
            throw new ArgumentException($"the {corpus.Tokenizer.Name} tokenizer has {corpus.Tokenizer.VocabSize} ids but the model only {model.Config.VocabSize}");
        corpus.EnsureFits(model.Config.ContextLength);
        Model = model;
        _corpus = corpus;
        Options = options;
        Optimizer = optimizer ?? CreateOptimizer(model, options);
        State = resume ?? new TrainingState();
        _secondsBefore = State.Seconds;
        _train = new Batches(corpus.Train, options.BatchSize, model.Config.ContextLength, options.Seed);
        if (resume is not null) _train.State = resume.SamplerState;
        else State.SamplerState = _train.State;
        _inputs = new int[TokensPerStep];
        _targets = new int[TokensPerStep];
    }

    /// <summary>AdamW as <see cref="Trainer.CreateOptimizer"/> configures it: decay on matrices and embeddings only.</summary>
    public static GpuAdamW CreateOptimizer(CudaGpt2Model model, TrainingOptions options) =>
        new(model.Gpu.Ops, model.Layout.Count, new AdamWOptions
        {
            LearningRate = (float)options.LearningRate,
            Beta1 = (float)options.Beta1,
            Beta2 = (float)options.Beta2,
            WeightDecay = (float)options.WeightDecay,
        }, model.Layout.Matrices.Select(v => (v.Offset, v.Length)).ToArray());

    public CudaGpt2Model Model { get; }
    public TrainingOptions Options { get; }
    public TrainingState State { get; }
    public GpuAdamW Optimizer { get; }
    public bool IsFinished => State.Step >= Options.Steps;
    public int TokensPerStep => Options.BatchSize * Model.Config.ContextLength;

    /// <summary>One optimizer step, plus a validation estimate when one is due.</summary>
    public StepReport Step()
    {
        if (IsFinished) throw new InvalidOperationException($"the run is finished ({Options.Steps} steps)");
        _clock.Start();
        int step = State.Step;
        double lr = Options.Schedule.At(step);
        _train.Next(_inputs, _targets);
        Model.ZeroGrad();
        float loss = Model.Forward(_inputs, Options.BatchSize, Model.Config.ContextLength, _targets);
        if (!float.IsFinite(loss)) { _clock.Stop(); throw new InvalidOperationException($"the loss became {loss} at step {step}; try a lower --lr"); }
        Model.Backward();
        float maxNorm = Options.GradientClip > 0 ? (float)Options.GradientClip : float.PositiveInfinity;
        float norm = Optimizer.Step(Model.Parameters, Model.Gradients, maxNorm, (float)lr);
        State.Step = step + 1;
        State.SamplerState = _train.State;
        State.TrainLosses.Add(new LossPoint(step, loss));
        State.Tokens += TokensPerStep;
        _sessionTokens += TokensPerStep;
        _sessionSteps++;
        _clock.Stop();
        double? validation = null;
        if (State.Step % Options.EvalEvery == 0 || IsFinished) validation = EvaluateAndRecord();
        double sessionSeconds = _clock.Elapsed.TotalSeconds;
        State.Seconds = _secondsBefore + sessionSeconds;
        double perStep = _sessionSteps > 0 ? sessionSeconds / _sessionSteps : 0;
        return new StepReport(State.Step, Options.Steps, loss, validation, lr, norm, sessionSeconds > 0 ? _sessionTokens / sessionSeconds : 0,
            TimeSpan.FromSeconds(State.Seconds), TimeSpan.FromSeconds(perStep * (Options.Steps - State.Step)));
    }

    /// <summary>Validation loss after the current step, recorded in the history (a no-op if already recorded).</summary>
    public double EvaluateAndRecord()
    {
        if (State.ValidationLosses.Count > 0 && State.ValidationLosses[^1].Step == State.Step) return State.ValidationLosses[^1].Loss;
        double v = EstimateLoss(_corpus.Validation);
        State.ValidationLosses.Add(new LossPoint(State.Step, v));
        return v;
    }

    /// <summary>Mean loss over the fixed validation batches (the same seed as <see cref="Trainer.EstimateLoss"/>).</summary>
    public double EstimateLoss(ReadOnlyMemory<int> tokens)
    {
        var sampler = new Batches(tokens, Options.BatchSize, Model.Config.ContextLength, Options.Seed ^ 0x5EED_0F_5A11DA7EUL);
        double sum = 0;
        for (int i = 0; i < Options.EvalBatches; i++)
        {
            sampler.Next(_inputs, _targets);
            sum += Model.Forward(_inputs, Options.BatchSize, Model.Config.ContextLength, _targets);
        }
        return sum / Options.EvalBatches;
    }

    /// <summary>Copies weights and AdamW moments back into a CPU run's model and optimizer (before a checkpoint).</summary>
    public void CopyTo(Models.Gpt2Parameters parameters, AdamW optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Model.DownloadParameters(parameters);
        var m = new float[Model.Layout.Count]; var v = new float[Model.Layout.Count];
        Optimizer.DownloadMoments(m, v);
        optimizer.Restore(m, v, Optimizer.StepCount);
    }
}
