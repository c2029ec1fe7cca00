namespace AttentionLab.Training;

/// <summary>
/// What <see cref="RunPolicy"/> drives: a run that steps, estimates its validation loss and saves checkpoints.
/// <see cref="DecoderTrainingRun"/> (validation every EvalEvery steps, checkpoints in its run directory) and
/// <see cref="Trainer"/> itself for a run with its own objective (seq2seq, BERT, ViT: no validation split, saved once by
/// its command at the end) are the two.
/// </summary>
public interface ITrainingRun
{
    /// <summary>Steps completed so far (more than 0 for a resumed run).</summary>
    int CompletedSteps { get; }

    /// <summary>Steps planned (a time budget may change or cut it).</summary>
    int PlannedSteps { get; }

    /// <summary>True when every planned step ran (or the run's own time budget is spent).</summary>
    bool IsFinished { get; }

    /// <summary>One optimizer step, with a validation estimate in the report when one is due.</summary>
    /// <exception cref="TrainingDivergedException">the loss is not finite</exception>
    StepReport Step();

    /// <summary>The validation loss after the current step (estimated and recorded now unless it already was), or
    /// null for a run without a validation split.</summary>
    double? Validate();

    /// <summary>Saves what a resumed run needs; nothing for a run that its caller saves once at the end.</summary>
    void Checkpoint();
}
