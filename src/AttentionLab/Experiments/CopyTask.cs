using AttentionLab.Training;

namespace AttentionLab.Experiments;

/// <summary>(V) logits of window <c>b</c> at position <c>t</c> of a model's last forward.</summary>
public delegate ReadOnlySpan<float> LogitsRow(int b, int t);

/// <summary>Accuracy and loss on the copied positions of held-out windows.</summary>
/// <param name="Accuracy">share of copied symbols predicted exactly (argmax); chance is 1/Symbols</param>
/// <param name="CopyLoss">mean cross-entropy on the copied symbols; ln Symbols is a uniform guess among them</param>
/// <param name="Loss">mean cross-entropy over the whole window</param>
public sealed record CopyScore(double Accuracy, double CopyLoss, double Loss);

/// <summary>
/// A long-range copy task (seed 000, question 4), a delay line: a stream of random symbols, and at every position t the
/// target is the symbol seen <see cref="Delay"/> steps earlier (before that, the "nothing yet" token). Attention reaches
/// position t − D in one step; a recurrent network must carry the last D symbols, in order, through D updates of its
/// hidden state. Every position from D on is a copy, so the signal is dense and attention learns it in a few hundred steps.
/// <code>
/// inputs:  s₀ s₁ s₂ … s_D   s_D+1 …        symbols are ids 1 … Symbols
/// targets: ∅  ∅  ∅  … s₀    s₁    …        ∅ = id 0, "nothing to copy yet"
/// </code>
/// </summary>
/// <param name="Symbols">distinct symbols (chance accuracy 1/Symbols)</param>
/// <param name="Delay">D, how far back the copied symbol is</param>
/// <param name="Length">T, positions per window (more than D)</param>
public sealed record CopyTask(int Symbols = 8, int Delay = 32, int Length = 64) : ISequenceTask
{
    /// <summary>The target before position D: nothing to copy yet.</summary>
    public const int Nothing = 0;

    /// <summary>Symbols + the "nothing yet" token.</summary>
    public int VocabSize => Symbols + 1;

    /// <summary>T.</summary>
    public int Context => Length;

    /// <summary>The first position whose target is a copy.</summary>
    public int FirstCopyPosition => Delay;

    /// <summary>Throws <see cref="ArgumentException"/> for sizes that do not make a task.</summary>
    public void Validate()
    {
        if (Symbols < 2 || Delay < 1 || Length <= Delay)
            throw new ArgumentException($"copy task needs ≥ 2 symbols, delay ≥ 1 and length > delay; got {Symbols}, {Delay}, {Length}");
    }

    /// <summary>Fills <paramref name="batch"/> fresh windows.</summary>
    /// <param name="inputs">(B, T) random symbols</param>
    /// <param name="targets">(B, T): inputs[t − D], or <see cref="Nothing"/> for t &lt; D</param>
    public void Fill(ref SplitMix64 random, Span<int> inputs, Span<int> targets, int batch)
    {
        int T = Length;
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < T; t++)
            {
                inputs[b * T + t] = 1 + random.NextInt(Symbols);
                targets[b * T + t] = t < Delay ? Nothing : inputs[b * T + t - Delay];
            }
    }

    /// <summary>Scores <paramref name="model"/> on <paramref name="episodes"/> held-out windows drawn from <paramref name="seed"/>.</summary>
    /// <param name="logits">reads the model's logits after its forward</param>
    public CopyScore Evaluate(ILanguageModel model, LogitsRow logits, int episodes, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(logits);
        int T = Context;
        var random = new SplitMix64(seed);
        var x = new int[episodes * T]; var y = new int[episodes * T];
        Fill(ref random, x, y, episodes);
        double loss = model.Forward(x, episodes, T, y);
        int correct = 0; double copyLoss = 0;
        for (int b = 0; b < episodes; b++)
            for (int t = FirstCopyPosition; t < T; t++)
            {
                var row = logits(b, t);
                int target = y[b * T + t];
                copyLoss += Ops.CrossEntropy.LogSumExp(row) - row[target];
                if (Models.TokenSampler.ArgMax(row) == target) correct++;
            }
        int n = episodes * (T - Delay);
        return new CopyScore((double)correct / n, copyLoss / n, loss);
    }

    /// <summary>Trains on fresh windows (<see cref="SequenceTaskTraining.Train"/>); the validation curve is the copy loss on held-out windows.</summary>
    public TrainingState Train(ILanguageModel model, LogitsRow logits, TrainingOptions options, TimeSpan? budget, Action<int, int, double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return SequenceTaskTraining.Train(this, model, options, budget, () => Evaluate(model, logits, options.BatchSize, options.Seed ^ 0xC0B1).CopyLoss, progress);
    }
}
