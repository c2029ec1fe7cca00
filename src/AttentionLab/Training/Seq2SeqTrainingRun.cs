using AttentionLab.Attention;
using AttentionLab.Datasets;
using AttentionLab.Models;

namespace AttentionLab.Training;

/// <summary>
/// Everything one <c>attnlab seq2seq</c> run needs: the task, a model sized for it, a held-out set (never trained
/// on), fresh random training batches and the <see cref="Trainer"/> loop over them.
/// </summary>
public sealed class Seq2SeqTrainingRun
{
    public Seq2SeqTask Task { get; }
    public Seq2SeqModel Model { get; }
    public Trainer Trainer { get; }
    public IReadOnlyList<(string Source, string Target)> HeldOut { get; }
    public int BatchSize { get; }

    /// <param name="task">what to learn</param>
    /// <param name="config">model sizes; its alphabet and lengths are replaced by the task's</param>
    /// <param name="options">the loop's hyper-parameters</param>
    /// <param name="batchSize">examples per step</param>
    /// <param name="heldOut">how many held-out examples to measure accuracy on</param>
    /// <param name="seed">seeds the held-out set (seed) and the training batches (seed + 1)</param>
    public Seq2SeqTrainingRun(Seq2SeqTask task, Seq2SeqConfig config, TrainingOptions options, int batchSize = 64,
        int heldOut = 500, ulong seed = 1, IAttentionKernel? kernel = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        Task = task;
        BatchSize = batchSize;
        Model = new Seq2SeqModel(config with
        {
            Task = task.Name, Alphabet = task.Alphabet, MaxSourceLength = task.MaxSourceLength, MaxTargetLength = task.MaxTargetLength,
        }, kernel);
        HeldOut = task.HeldOut(heldOut, seed);
        var batches = new Seq2SeqBatches(task, Model.Vocabulary, batchSize, seed + 1, HeldOut.Select(e => e.Source));
        Trainer = new Trainer(Model.Parameters.Data, Model.Gradients.Data, Model.Layout.DecayedRanges, () =>
        {
            float loss = Model.Forward(batches.Next());
            Model.Backward();
            return loss;
        }, batchSize, options);
    }

    /// <summary>Exact-match accuracy of greedy decoding on the held-out set.</summary>
    public double Evaluate() => Model.ExactMatch(HeldOut);
}
