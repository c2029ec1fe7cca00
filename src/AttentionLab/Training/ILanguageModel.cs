namespace AttentionLab.Training;

/// <summary>
/// What the <see cref="Trainer"/> needs from a model: a forward pass that returns the mean cross-entropy
/// of next-token predictions, a backward pass that accumulates gradients, and both as flat arenas so one
/// optimizer and one checkpoint format serve every model. DecoderLanguageModel adapts GPT-2.
/// </summary>
public interface ILanguageModel
{
    int VocabSize { get; }
    /// <summary>The longest sequence the model accepts (T ≤ Context).</summary>
    int Context { get; }
    /// <summary>Every trainable parameter, one arena.</summary>
    float[] Parameters { get; }
    /// <summary>dLoss/dParameters, same layout as <see cref="Parameters"/>.</summary>
    float[] Gradients { get; }
    /// <summary>Ranges of the arena that get weight decay (matrices and embeddings, not biases or LayerNorm gains).</summary>
    IReadOnlyList<(int Offset, int Length)> DecayedRanges { get; }

    /// <summary>Mean cross-entropy over the B·T positions.</summary>
    /// <param name="tokens">(B, T)</param>
    /// <param name="targets">(B, T), the tokens shifted by one</param>
    float Forward(ReadOnlySpan<int> tokens, int batch, int length, ReadOnlySpan<int> targets);

    /// <summary>Adds dLoss/dParameters of the last forward to <see cref="Gradients"/>.</summary>
    void Backward();

    void ZeroGrad();
}
