using AttentionLab.Models;
using AttentionLab.Text;
using AttentionLab.Training;

namespace AttentionLab.Interpretability;

/// <summary>
/// A task that needs an induction circuit, and a model trained on it in seconds. Every training row is a run of n
/// random tokens (n from <see cref="MinPeriod"/> to <see cref="MaxPeriod"/>) repeated until the row is full, and only
/// the repeats are scored (the first copy's targets are ignored: it cannot be predicted). A repeat is predictable only
/// by finding the earlier copy of the current token and reading what followed it — the induction circuit of Olsson et
/// al. 2022: a previous-token head in block 0 writes "my previous token" into each position, and a head in block 1
/// matches the current token against it (K-composition) and copies the token found.
/// <code>
/// row:     x₀ … x_{n−1} | x₀ … x_{n−1} | x₀ …      (T = 32 tokens)
/// targets: −1 … −1      | x₁ …         …  −1      (−1 = not scored: the first copy and the last position)
/// </code>
/// Measured while building it (2 layers × 1 head of 64 channels, 32 tokens, learned positions, batch 32): the block-1
/// head reaches an induction score of ≈ 0.8 by step 500 on every seed tried; with two 32-channel heads per layer the
/// two block-1 heads often split the copy (0.36–0.55 each), and with 32 channels, a 64-token vocabulary, windows cut
/// from a text of repeated segments, or a batch of 16 no head passed 0.3 (docs/interpretability.md).
/// </summary>
public static class InductionTask
{
    /// <summary>The tokens the rows draw from (the char tokenizer's vocabulary: 32 symbols).</summary>
    public const string Alphabet = "abcdefghijklmnopqrstuvwxyz012345";

    /// <summary>The shortest and longest repeated run.</summary>
    public const int MinPeriod = 6, MaxPeriod = 14;

    /// <summary>Rows per step.</summary>
    public const int BatchSize = 32;

    /// <summary>2 layers of one 64-channel head, a context of 32 tokens: big enough for the circuit (a head as wide as
    /// the vocabulary, so block 1 can match the current token exactly against what block 0 wrote), small enough to
    /// train on two cores in seconds.</summary>
    public static DecoderConfig Config { get; } = new() { VocabSize = Alphabet.Length, ContextLength = 32, Layers = 2, Channels = 64, Heads = 1 };

    /// <summary>The training options of <see cref="Train"/>: AdamW at 3e-3 with a short warmup, no weight decay.</summary>
    public static TrainingOptions Options(int steps, ulong seed) => new()
    {
        BatchSize = BatchSize, Steps = steps, LearningRate = 3e-3, MinLearningRate = 3e-4, WarmupSteps = Math.Min(50, Math.Max(1, steps / 10)),
        WeightDecay = 0, Seed = seed, EvalEvery = Math.Max(1, steps),
    };

    /// <summary>
    /// Fills one batch: each of the <paramref name="rows"/> rows of <paramref name="length"/> tokens is n random ids
    /// repeated, with the targets of the repeats (the next token) and −1 (ignored) on the first copy and the last position
    /// (position n holds x₀ again and is the first to have an earlier copy: it predicts x₁).
    /// </summary>
    /// <param name="tokens">(rows, length) written</param>
    /// <param name="targets">(rows, length) written</param>
    public static void FillBatch(ref SplitMix64 random, Span<int> tokens, Span<int> targets, int rows, int length)
    {
        if (tokens.Length != rows * length || targets.Length != rows * length)
            throw new ArgumentException($"tokens and targets need rows · length = {rows * length} entries");
        if (length <= MaxPeriod) throw new ArgumentException($"a row needs more than {MaxPeriod} tokens to repeat its run, got {length}");
        int vocab = Config.VocabSize;
        for (int r = 0; r < rows; r++)
        {
            var x = tokens.Slice(r * length, length);                          // (T)
            var y = targets.Slice(r * length, length);                         // (T)
            int n = MinPeriod + random.NextInt(MaxPeriod - MinPeriod + 1);
            for (int i = 0; i < n; i++) x[i] = random.NextInt(vocab);
            for (int i = n; i < length; i++) x[i] = x[i - n];
            for (int i = 0; i < length - 1; i++) y[i] = i < n ? -1 : x[i + 1];   // position n (x₀ again) predicts x₁: the first repeat
            y[length - 1] = -1;
        }
    }

    /// <summary>The tokenizer of the task: the 32 symbols of <see cref="Alphabet"/>, a = 0.</summary>
    public static CharTokenizer Tokenizer() => new(Alphabet.EnumerateRunes());

    /// <summary>A fresh model trained on <see cref="FillBatch"/>'s rows for <paramref name="steps"/> steps; every number
    /// comes from <paramref name="seed"/>. <paramref name="step"/> sees each step's report (progress).</summary>
    public static DecoderModel Train(int seed, int steps, Action<StepReport>? step = null, CancellationToken cancellation = default)
    {
        var model = new DecoderModel(Config);
        model.InitializeWeights(seed);
        int T = Config.ContextLength;
        var tokens = new int[BatchSize * T];                                  // (B, T)
        var targets = new int[BatchSize * T];                                 // (B, T)
        var random = new SplitMix64((ulong)seed * 0x9E3779B97F4A7C15UL + 1);
        var trainer = new Trainer(model.Parameters.Data, model.Gradients.Data, model.Layout.DecayedRanges, () =>
        {
            FillBatch(ref random, tokens, targets, BatchSize, T);
            float loss = model.Forward(tokens, BatchSize, T, targets);
            model.Backward();
            return loss;
        }, BatchSize, Options(steps, (ulong)seed));
        while (!trainer.IsFinished)
        {
            cancellation.ThrowIfCancellationRequested();
            var report = trainer.Step();
            step?.Invoke(report);
        }
        return model;
    }
}
