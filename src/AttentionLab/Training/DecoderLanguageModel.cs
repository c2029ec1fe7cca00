using AttentionLab.Models;

namespace AttentionLab.Training;

/// <summary>Adapts <see cref="DecoderModel"/> to the trainer: the arenas as they are, weight decay on the
/// rank-2 views (matrices and embeddings), full-context windows.</summary>
public sealed class DecoderLanguageModel(DecoderModel model) : ILanguageModel
{
    public DecoderModel Model { get; } = model ?? throw new ArgumentNullException(nameof(model));
    public int VocabSize => Model.Config.VocabSize;
    public int Context => Model.Config.ContextLength;
    public float[] Parameters => Model.Parameters.Data;
    public float[] Gradients => Model.Gradients.Data;
    public IReadOnlyList<(int Offset, int Length)> DecayedRanges { get; } =
        model.Layout.Matrices.Select(v => (v.Offset, v.Length)).ToArray();

    public float Forward(ReadOnlySpan<int> tokens, int batch, int length, ReadOnlySpan<int> targets) =>
        Model.Forward(tokens, batch, length, targets);

    public void Backward() => Model.Backward();
    public void ZeroGrad() => Model.ZeroGrad();

    /// <summary>A KV-cache generator over this model's weights (shared, not copied; an inference view, so sampling
    /// mid-training leaves the training activations alone).</summary>
    public static TextGenerator Generator(DecoderModel model) => new(model.InferenceView());
}
