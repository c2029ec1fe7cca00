namespace AttentionLab.Training;

/// <summary>
/// How every training in this project runs, for the CLI's train, demo, seq2seq, bert and vit commands and the
/// Explorer's demo training alike:
/// <code>
///   until the run is finished, cancelled, or stop(report) says so:
///       report = run.Step()                    validation estimate included every EvalEvery steps
///       progress.Report(report)
///       if report has a validation loss:       checkpoint (a crash loses at most EvalEvery steps)
///   if it stopped between validations:        one more validation estimate, reported with ValidationOnly
///   if any step ran:                           checkpoint (the final state is always saved)
/// </code>
/// A diverged loss (<see cref="TrainingDivergedException"/>) propagates without a checkpoint, so the last good one stays.
/// Progress is reported synchronously on the training thread (so a display sees every report, in order).
/// </summary>
public static class RunPolicy
{
    /// <param name="run">the run to continue</param>
    /// <param name="progress">sees each step's report, then the final validation's; null: none</param>
    /// <param name="cancellation">stops after the current step (Ctrl+C in the CLI); the state so far is saved</param>
    /// <param name="stop">asked after each step whether to stop now (a time budget's hard limit); null: never</param>
    public static RunResult Run(ITrainingRun run, IProgress<StepReport>? progress, CancellationToken cancellation, Func<StepReport, bool>? stop = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        StepReport? last = null;
        while (!run.IsFinished && !cancellation.IsCancellationRequested)
        {
            var report = run.Step();
            last = report;
            progress?.Report(report);
            if (report.ValidationLoss is not null) run.Checkpoint();
            if (stop?.Invoke(report) == true) break;
        }
        if (last is { ValidationLoss: null } && run.Validate() is double validation)
        {
            last = last with { ValidationLoss = validation, ValidationOnly = true };
            progress?.Report(last);
        }
        if (last is not null) run.Checkpoint();
        return new RunResult(last, cancellation.IsCancellationRequested);
    }
}

/// <summary>How a <see cref="RunPolicy.Run"/> ended.</summary>
/// <param name="Last">the last report (with the final validation loss, where the run has one), or null when no step ran</param>
/// <param name="Interrupted">true when the cancellation was requested (the run may still have finished its steps)</param>
public sealed record RunResult(StepReport? Last, bool Interrupted);
