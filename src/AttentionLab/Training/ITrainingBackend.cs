namespace AttentionLab.Training;

/// <summary>
/// Where a training step's arithmetic runs: the model and its optimizer on one device. <see cref="Trainer"/> owns the
/// loop (schedule, batches, validation, history) and calls only these members, so the CPU and a GPU share one loop,
/// one progress display and one checkpoint format. Per step the loop calls <see cref="ZeroGrad"/>,
/// <see cref="Forward"/> (the one float it reads back is the loss), <see cref="Backward"/> and
/// <see cref="OptimizerStep"/>. Checkpoints read the host copies (<see cref="Optimizer"/> and the caller's model)
/// after <see cref="SynchronizeHost"/>.
/// </summary>
public interface ITrainingBackend
{
    /// <summary>"cpu" or the device's name ("cuda").</summary>
    string Device { get; }

    int VocabSize { get; }

    /// <summary>The longest sequence the model accepts (T ≤ Context).</summary>
    int Context { get; }

    /// <summary>AdamW on the host: the optimizer itself on the CPU; on a device, the copy that
    /// <see cref="SynchronizeHost"/> refreshes (its moments and step count are what a checkpoint saves).</summary>
    AdamW Optimizer { get; }

    void ZeroGrad();

    /// <summary>Mean cross-entropy over the B·T positions.</summary>
    /// <param name="tokens">(B, T)</param>
    /// <param name="targets">(B, T), the tokens shifted by one</param>
    float Forward(ReadOnlySpan<int> tokens, int batch, int length, ReadOnlySpan<int> targets);

    /// <summary>Adds dLoss/dParameters of the last forward to the gradients.</summary>
    void Backward();

    /// <summary><c>clip_grad_norm_</c> to <paramref name="maxNorm"/> (infinity: no clipping), then one AdamW update with
    /// <paramref name="learningRate"/>. Returns the gradient norm before clipping.</summary>
    float OptimizerStep(float maxNorm, float learningRate);

    /// <summary>Copies the weights into the host model and the moments into <see cref="Optimizer"/> (a no-op on the CPU,
    /// where they already are). Called before a checkpoint.</summary>
    void SynchronizeHost();
}
