namespace AttentionLab.Training;

/// <summary>The CPU <see cref="ITrainingBackend"/>: an <see cref="ILanguageModel"/> and <see cref="AdamW"/> over its
/// arenas, the step written exactly as nanoGPT's train.py (clip the global norm, then AdamW).</summary>
public sealed class CpuTrainingBackend : ITrainingBackend
{
    /// <param name="model">trained in place</param>
    /// <param name="optimizer">AdamW over the model's arena (<see cref="Trainer.CreateOptimizer"/>)</param>
    public CpuTrainingBackend(ILanguageModel model, AdamW optimizer)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
    }

    public ILanguageModel Model { get; }
    public AdamW Optimizer { get; }
    public string Device => "cpu";
    public int VocabSize => Model.VocabSize;
    public int Context => Model.Context;

    public void ZeroGrad() => Model.ZeroGrad();

    public float Forward(ReadOnlySpan<int> tokens, int batch, int length, ReadOnlySpan<int> targets) =>
        Model.Forward(tokens, batch, length, targets);

    public void Backward() => Model.Backward();

    public float OptimizerStep(float maxNorm, float learningRate)
    {
        float norm = AdamW.ClipGradientNorm(Model.Gradients, maxNorm);
        Optimizer.Step(Model.Parameters, Model.Gradients, learningRate);
        return norm;
    }

    public void SynchronizeHost() { }
}
