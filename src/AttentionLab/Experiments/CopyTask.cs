using System.Diagnostics;
using AttentionLab.Training;

namespace AttentionLab.Experiments;

/// <summary>(V) logits of window <c>b</c> at position <c>t</c> of a model's last forward.</summary>
public delegate ReadOnlySpan<float> LogitsRow(int b, int t);

/// <summary>Accuracy and loss on the copied part of held-out episodes.</summary>
/// <param name="Accuracy">share of copied symbols predicted exactly (argmax); chance is 1/Symbols</param>
/// <param name="CopyLoss">mean cross-entropy on the copied symbols; ln Symbols is a uniform guess among them</param>
/// <param name="Loss">mean cross-entropy over the whole episode</param>
public sealed record CopyScore(double Accuracy, double CopyLoss, double Loss);

/// <summary>
/// A long-range copy task (seed 000, question 4): K random symbols, a gap of G blanks, a marker, then the same K symbols
/// again. Trained as a language model (each token predicts the next), so after the marker position p must recall the
/// symbol at p − (K + G): attention reaches it in one step, a recurrent network must carry it through K + G updates of
/// its hidden state.
/// <code>
/// episode:  a₁ … a_K  _ _ … _ (G)  |  a₁ … a_K          tokens: 0 = blank, 1 = marker, 2 … Symbols + 1
/// </code>
/// </summary>
/// <param name="Symbols">distinct symbols (chance accuracy 1/Symbols)</param>
/// <param name="Length">K, symbols to copy</param>
/// <param name="Gap">G, blanks between the two copies</param>
public sealed record CopyTask(int Symbols = 8, int Length = 8, int Gap = 32)
{
    public const int Blank = 0, Marker = 1;

    /// <summary>Symbols + blank + marker.</summary>
    public int VocabSize => Symbols + 2;

    /// <summary>T: an episode has 2K + G + 1 tokens, so K·2 + G inputs with their next-token targets.</summary>
    public int Context => 2 * Length + Gap;

    /// <summary>The input position of the marker, which predicts a₁; positions up to Context − 1 predict a₂ … a_K.</summary>
    public int FirstCopyPosition => Length + Gap;

    /// <summary>Throws <see cref="ArgumentException"/> for sizes that do not make a task.</summary>
    public void Validate()
    {
        if (Symbols < 2 || Length < 1 || Gap < 0) throw new ArgumentException($"copy task needs ≥ 2 symbols, length ≥ 1, gap ≥ 0; got {Symbols}, {Length}, {Gap}");
    }

    /// <summary>Fills <paramref name="batch"/> fresh episodes.</summary>
    /// <param name="inputs">(B, T)</param>
    /// <param name="targets">(B, T), the inputs shifted by one</param>
    public void Fill(ref SplitMix64 random, Span<int> inputs, Span<int> targets, int batch)
    {
        int T = Context;
        Span<int> episode = stackalloc int[T + 1];
        for (int b = 0; b < batch; b++)
        {
            episode.Fill(Blank);
            for (int i = 0; i < Length; i++) episode[i] = episode[Length + Gap + 1 + i] = 2 + random.NextInt(Symbols);
            episode[Length + Gap] = Marker;
            episode[..T].CopyTo(inputs.Slice(b * T, T));
            episode[1..].CopyTo(targets.Slice(b * T, T));
        }
    }

    /// <summary>Scores <paramref name="model"/> on <paramref name="episodes"/> held-out episodes drawn from <paramref name="seed"/>.</summary>
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
        int n = episodes * Length;
        return new CopyScore((double)correct / n, copyLoss / n, loss);
    }

    /// <summary>
    /// Trains on fresh episodes with the trainer's recipe (AdamW, clipping, warmup; then the cosine schedule over a fixed
    /// step count, or a constant rate under a time budget, whose length is not known in advance).
    /// </summary>
    /// <param name="progress">(step, planned, loss) after every step</param>
    /// <returns>the training state: losses per step, copy loss on held-out episodes every <c>EvalEvery</c> steps</returns>
    public TrainingState Train(ILanguageModel model, LogitsRow logits, TrainingOptions options, TimeSpan? budget, Action<int, int, double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Validate();
        options.Validate();
        if (model.VocabSize < VocabSize || model.Context < Context) throw new ArgumentException($"the model must take {VocabSize} tokens and {Context} positions");
        var optimizer = Trainer.CreateOptimizer(model, options);
        var schedule = budget is null ? options.Schedule : new LearningRateSchedule(options.LearningRate, options.LearningRate, options.WarmupSteps, int.MaxValue);
        int planned = budget is null ? options.Steps : int.MaxValue;
        var random = new SplitMix64(options.Seed);
        int B = options.BatchSize, T = Context;
        var x = new int[B * T]; var y = new int[B * T];
        var state = new TrainingState();
        var clock = Stopwatch.StartNew();
        for (int step = 0; step < planned && (budget is null || clock.Elapsed < budget.Value); step++)
        {
            Fill(ref random, x, y, B);
            model.ZeroGrad();
            float loss = model.Forward(x, B, T, y);
            if (!float.IsFinite(loss)) throw new InvalidOperationException($"the loss became {loss} at step {step}");
            model.Backward();
            AdamW.ClipGradientNorm(model.Gradients, options.GradientClip > 0 ? (float)options.GradientClip : float.PositiveInfinity);
            optimizer.Step(model.Parameters, model.Gradients, (float)schedule.At(step));
            state.Step = step + 1;
            state.TrainLosses.Add(new LossPoint(step, loss));
            progress?.Invoke(state.Step, budget is null ? planned : 0, loss);
            if (state.Step % options.EvalEvery == 0)
                state.ValidationLosses.Add(new LossPoint(state.Step, Evaluate(model, logits, B, options.Seed ^ 0xC0B1).CopyLoss));
        }
        state.Seconds = clock.Elapsed.TotalSeconds;
        if (state.ValidationLosses.Count == 0 || state.ValidationLosses[^1].Step != state.Step)
            state.ValidationLosses.Add(new LossPoint(state.Step, Evaluate(model, logits, B, options.Seed ^ 0xC0B1).CopyLoss));
        return state;
    }
}
