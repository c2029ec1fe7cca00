using System.Text;
using AttentionLab.Models;
using AttentionLab.Text;
using AttentionLab.Training;

namespace AttentionLab.Interpretability;

/// <summary>
/// A task that needs an induction circuit, and a model trained on it in seconds: a text of random letters in which
/// every segment is written twice ("qfkzt…qfkzt…"), so the second copy is predictable only by finding the earlier
/// copy of the current letter and reading what followed it. A 2-layer model (a previous-token head in block 0, an
/// induction head in block 1, as Olsson et al. 2022 describe) learns it with the ordinary trainer.
/// </summary>
public static class InductionTask
{
    /// <summary>The letters the text draws from (the char tokenizer's vocabulary).</summary>
    public const string Alphabet = "abcdefghijklmnopqrstuvwxyz";

    /// <summary>2 layers of 2 heads, 32 channels, a context of 32: big enough for the circuit, small enough to train on
    /// two cores in seconds.</summary>
    public static DecoderConfig Config { get; } = new() { VocabSize = Alphabet.Length, ContextLength = 32, Layers = 2, Channels = 32, Heads = 2 };

    /// <summary>The training options of <see cref="Train"/>: a high learning rate, a short warmup, no weight decay.</summary>
    public static TrainingOptions Options(int steps, ulong seed) => new()
    {
        BatchSize = 16, Steps = steps, LearningRate = 3e-3, MinLearningRate = 1e-4, WarmupSteps = Math.Min(20, steps / 10),
        WeightDecay = 0, Seed = seed, EvalEvery = Math.Max(1, steps), EvalBatches = 4,
    };

    /// <summary><paramref name="segments"/> segments of 6 … 16 random letters, each written twice.</summary>
    public static string Text(int seed, int segments = 4000)
    {
        var random = new Random(seed);
        var text = new StringBuilder();
        var segment = new StringBuilder();
        for (int s = 0; s < segments; s++)
        {
            segment.Clear();
            int length = random.Next(6, 17);
            for (int i = 0; i < length; i++) segment.Append(Alphabet[random.Next(Alphabet.Length)]);
            text.Append(segment).Append(segment);
        }
        return text.ToString();
    }

    /// <summary>The tokenizer of the task: the 26 letters, a = 0.</summary>
    public static CharTokenizer Tokenizer() => new(Alphabet.EnumerateRunes());

    /// <summary>A fresh model trained on <see cref="Text"/> for <paramref name="steps"/> steps; every number comes from
    /// <paramref name="seed"/>. <paramref name="step"/> sees each step's report (progress).</summary>
    public static DecoderModel Train(int seed, int steps, Action<StepReport>? step = null, CancellationToken cancellation = default)
    {
        var model = new DecoderModel(Config);
        model.InitializeWeights(seed);
        var corpus = Corpus.FromText(Text(seed), Tokenizer(), "repeated random segments");
        var trainer = new Trainer(new DecoderLanguageModel(model), corpus, Options(steps, (ulong)seed));
        while (!trainer.IsFinished)
        {
            cancellation.ThrowIfCancellationRequested();
            var report = trainer.Step();
            step?.Invoke(report);
        }
        return model;
    }
}
