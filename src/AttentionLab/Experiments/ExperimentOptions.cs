using AttentionLab.Models;
using AttentionLab.Training;

namespace AttentionLab.Experiments;

/// <summary>
/// How an experiment trains its settings: the same seed, data, model shape and hyper-parameters for every setting,
/// and either the same wall-clock share of <see cref="Budget"/> each (settings run one after the other) or exactly
/// <see cref="Steps"/> steps each.
/// </summary>
public sealed record ExperimentOptions
{
    /// <summary>The whole experiment's training time, split evenly over its training runs (ignored when
    /// <see cref="Steps"/> is set).</summary>
    public TimeSpan Budget { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A fixed step count for every training run (deterministic: tests use it); null = time budget.</summary>
    public int? Steps { get; init; }

    /// <summary>The model every GPT setting starts from: smaller than the demo's (2 layers, 4 heads, 64 wide,
    /// 64 positions, about 108K parameters) so that each setting gets hundreds of steps in a few seconds of a 2-core
    /// machine. The vocabulary size is replaced by the tokenizer's.</summary>
    public DecoderConfig Model { get; init; } = new() { VocabSize = 65, ContextLength = 64, Layers = 2, Channels = 64, Heads = 4 };

    /// <summary>The demo's recipe (AdamW 0.9/0.99, weight decay 0.1, clip 1, peak lr 3e-3, cosine to lr/10) with a
    /// batch of 16 and fewer evaluation batches. Steps, warmup and evaluation interval are set per run.</summary>
    public TrainingOptions Training { get; init; } = new()
    {
        BatchSize = 16, LearningRate = 3e-3, MinLearningRate = 3e-4, WarmupSteps = 30, WeightDecay = 0.1,
        Beta1 = 0.9, Beta2 = 0.99, GradientClip = 1.0, Seed = 1337, EvalEvery = 50, EvalBatches = 8,
    };

    /// <summary>The most steps a time-budgeted run may plan for.</summary>
    public int MaxSteps { get; init; } = 100_000;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (Steps is int s && s < 1) throw new ArgumentException($"steps must be at least 1, got {s}");
        if (Steps is null && Budget <= TimeSpan.Zero) throw new ArgumentException($"the budget must be positive, got {Budget.TotalSeconds} s");
        Model.Validate();
        Training.Validate();
    }
}
