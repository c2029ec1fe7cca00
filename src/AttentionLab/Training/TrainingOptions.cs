namespace AttentionLab.Training;

/// <summary>
/// Hyper-parameters of a training run; defaults are nanoGPT's shakespeare_char CPU settings
/// (train_shakespeare_char.py with the "on a macbook" overrides).
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>B: windows per step.</summary>
    public int BatchSize { get; init; } = 12;
    /// <summary>Optimizer steps in the whole run (also the cosine schedule's length).</summary>
    public int Steps { get; init; } = 2000;
    /// <summary>Peak learning rate, reached after warmup.</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>The cosine schedule's floor (nanoGPT: lr / 10).</summary>
    public double MinLearningRate { get; init; } = 1e-4;
    public int WarmupSteps { get; init; } = 100;
    /// <summary>Decoupled weight decay on matrices and embeddings.</summary>
    public double WeightDecay { get; init; } = 0.1;
    public double Beta1 { get; init; } = 0.9;
    /// <summary>0.99 rather than 0.999: few tokens per step, so a shorter memory for the second moment.</summary>
    public double Beta2 { get; init; } = 0.99;
    /// <summary>Clip the global gradient norm to this (0 = no clipping).</summary>
    public double GradientClip { get; init; } = 1.0;
    /// <summary>Seeds the weights and the batch sampler.</summary>
    public ulong Seed { get; init; } = 1337;
    /// <summary>Estimate validation loss every this many steps (and at the end).</summary>
    public int EvalEvery { get; init; } = 250;
    /// <summary>Batches per validation estimate.</summary>
    public int EvalBatches { get; init; } = 20;
    /// <summary>Stop after this much training time even if <see cref="Steps"/> are not done; null = no limit. (attnlab
    /// train plans its steps to a budget instead, <see cref="TimeBudgetPlan"/>.)</summary>
    public TimeSpan? TimeBudget { get; init; }

    /// <summary>
    /// The defaults of the runs with their own objective (seq2seq, BERT, ViT): 1000 steps, warmup 50, weight decay 0.01,
    /// β2 0.999 (PyTorch's AdamW default: these tasks take many examples per step). <see cref="BatchSize"/>,
    /// <see cref="Seed"/>, <see cref="EvalEvery"/> and <see cref="EvalBatches"/> do not apply to them: each run draws its
    /// own batches and scores its own held-out set.
    /// </summary>
    public static TrainingOptions TaskDefaults { get; } = new() { Steps = 1000, WarmupSteps = 50, WeightDecay = 0.01, Beta2 = 0.999 };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (BatchSize < 1) throw new ArgumentException($"batch size must be at least 1, got {BatchSize}");
        if (Steps < 1) throw new ArgumentException($"steps must be at least 1, got {Steps}");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new ArgumentException($"learning rate must be positive, got {LearningRate}");
        if (!(MinLearningRate >= 0) || MinLearningRate > LearningRate) throw new ArgumentException($"min learning rate must be in [0, lr = {LearningRate}], got {MinLearningRate}");
        if (WarmupSteps < 0) throw new ArgumentException($"warmup must be non-negative, got {WarmupSteps}");
        if (!(WeightDecay >= 0)) throw new ArgumentException($"weight decay must be non-negative, got {WeightDecay}");
        if (!(Beta1 >= 0 && Beta1 < 1) || !(Beta2 >= 0 && Beta2 < 1)) throw new ArgumentException("betas must be in [0, 1)");
        if (!(GradientClip >= 0)) throw new ArgumentException($"gradient clip must be non-negative, got {GradientClip}");
        if (EvalEvery < 1) throw new ArgumentException($"eval-every must be at least 1, got {EvalEvery}");
        if (EvalBatches < 1) throw new ArgumentException($"eval-batches must be at least 1, got {EvalBatches}");
        if (TimeBudget is { } budget && budget <= TimeSpan.Zero) throw new ArgumentException($"time budget must be positive, got {budget}");
    }

    public LearningRateSchedule Schedule => new(LearningRate, MinLearningRate, WarmupSteps, Steps);
}
