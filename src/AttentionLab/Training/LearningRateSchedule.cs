namespace AttentionLab.Training;

/// <summary>
/// Linear warmup then cosine decay to a floor, as in nanoGPT's <c>get_lr</c> and the GPT-3 paper (§B):
/// <code>
///   step &lt; warmup:        lr = max · (step + 1) / (warmup + 1)
///   warmup ≤ step ≤ total: lr = min + ½ (1 + cos(π · (step − warmup) / (total − warmup))) · (max − min)
///   step &gt; total:         lr = min
/// </code>
/// Warmup lets AdamW's second-moment estimates settle before taking full-size steps; the cosine tail
/// anneals, which is where most of the final loss improvement comes from.
/// </summary>
public sealed record LearningRateSchedule(double MaxLearningRate, double MinLearningRate, int WarmupSteps, int TotalSteps)
{
    /// <summary>The learning rate for step <paramref name="step"/> (0-based).</summary>
    public double At(int step)
    {
        if (step < WarmupSteps) return MaxLearningRate * (step + 1) / (WarmupSteps + 1);
        if (step > TotalSteps || TotalSteps <= WarmupSteps) return MinLearningRate;
        double ratio = (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps);
        double coefficient = 0.5 * (1.0 + Math.Cos(Math.PI * ratio));
        return MinLearningRate + coefficient * (MaxLearningRate - MinLearningRate);
    }
}
