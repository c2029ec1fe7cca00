namespace AttentionLab.Training;

/// <summary>One point of a loss curve.</summary>
public readonly record struct LossPoint(int Step, double Loss);

/// <summary>
/// Everything besides the weights and optimizer moments that a run needs to continue exactly where it
/// stopped: how many steps are done, where the batch sampler is in its random sequence, and the history.
/// </summary>
public sealed class TrainingState
{
    /// <summary>Optimizer steps completed.</summary>
    public int Step { get; set; }
    /// <summary><see cref="Batches.State"/> of the training sampler after <see cref="Step"/> steps.</summary>
    public ulong SamplerState { get; set; }
    /// <summary>Training loss of step s (measured before the update of step s).</summary>
    public List<LossPoint> TrainLosses { get; init; } = [];
    /// <summary>Validation loss after s steps.</summary>
    public List<LossPoint> ValidationLosses { get; init; } = [];
    /// <summary>Wall-clock seconds spent training so far (all sessions).</summary>
    public double Seconds { get; set; }
    /// <summary>Tokens consumed so far.</summary>
    public long Tokens { get; set; }
}
