namespace AttentionLab.Training;

/// <summary>What one training step reports to a progress display.</summary>
/// <param name="Step">Steps completed (1 after the first update).</param>
/// <param name="TotalSteps">Steps planned for the run.</param>
/// <param name="Loss">Training loss of this step's batch (before its update).</param>
/// <param name="ValidationLoss">Set when a validation estimate was made after this step.</param>
/// <param name="LearningRate">The learning rate used by this step.</param>
/// <param name="GradientNorm">Global gradient norm before clipping.</param>
/// <param name="TokensPerSecond">Training throughput averaged over this session.</param>
/// <param name="Elapsed">Training time so far, this session and earlier ones.</param>
/// <param name="Remaining">Estimated time to <paramref name="TotalSteps"/>.</param>
public sealed record StepReport(int Step, int TotalSteps, double Loss, double? ValidationLoss, double LearningRate,
    double GradientNorm, double TokensPerSecond, TimeSpan Elapsed, TimeSpan Remaining)
{
    /// <summary>True for the report of a validation estimate made after a run stopped between validations: no step
    /// ran for it; the other fields repeat the last step's.</summary>
    public bool ValidationOnly { get; init; }
}
