namespace AttentionLab.Training;

/// <summary>
/// The training loss became NaN or infinite: the weights are no longer usable, so the loop stops without saving (the
/// last checkpoint, written before, is still good). Usually a learning rate too high for the model.
/// </summary>
public sealed class TrainingDivergedException(float loss, int step)
    : InvalidOperationException($"the loss became {loss} at step {step}; try a lower --lr")
{
    public float Loss { get; } = loss;
    /// <summary>The step (0-based) whose loss was not finite.</summary>
    public int Step { get; } = step;
}
