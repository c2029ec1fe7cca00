using AttentionLab.Training;

namespace AttentionLab.Experiments;

/// <summary>Recall accuracy of the queries whose answer lies <see cref="From"/> … <see cref="To"/> positions back.</summary>
/// <param name="From">smallest distance in the bin (t − j: positions from the answer to the query)</param>
/// <param name="To">largest distance in the bin</param>
/// <param name="Count">queries scored in the bin</param>
/// <param name="Accuracy">share of them answered exactly (argmax)</param>
public sealed record DistanceAccuracy(int From, int To, int Count, double Accuracy);

/// <summary>Accuracy and loss on the query positions of held-out windows, overall and by distance.</summary>
/// <param name="Accuracy">share of queries answered exactly; chance is 1/Symbols</param>
/// <param name="RecallLoss">mean cross-entropy on the query positions; ln Symbols is a uniform guess among the symbols</param>
/// <param name="Loss">mean cross-entropy over the whole window</param>
/// <param name="ByDistance">accuracy in bins of distance, nearest first</param>
/// <param name="BySlot">accuracy of the queries for slot j, j = 0 (the oldest symbol: M − 1 more were written after it) first</param>
public sealed record RecallScore(double Accuracy, double RecallLoss, double Loss, IReadOnlyList<DistanceAccuracy> ByDistance, IReadOnlyList<double> BySlot);

/// <summary>
/// A long-range recall task (seed 000, question 4): a window opens with <see cref="Slots"/> random symbols, the memory,
/// and every later position is a query token "#j" whose target is the symbol in slot j, 1 to T − 1 positions back.
/// <code>
/// inputs:  s₀ s₁ … s_{M−1}   #3  #0  #3  #7 …      symbols are ids 1 … Symbols, slot names #j are Symbols + 1 + j
/// targets: ∅  ∅  … ∅         s₃  s₀  s₃  s₇ …      ∅ = id 0, "nothing asked"
/// </code>
/// Attention answers in one step whatever the distance: the query "#j" matches the key of position j (its token
/// embedding against j's position embedding) and copies the symbol there — one layer is enough. A recurrent network
/// must have written all M symbols into its hidden state as they passed and carry them, through every step since, to
/// each query. (A delay line, <see cref="CopyTask"/>, and key–value recall, which needs two attention hops, were tried
/// first: within a minute of training the GPT did not solve them; docs/experiments/attention-vs-rnn.md.)
/// </summary>
/// <param name="Symbols">distinct symbols (chance accuracy 1/Symbols)</param>
/// <param name="Slots">M, symbols in the memory</param>
/// <param name="Length">T, positions per window (more than M): T − M queries</param>
public sealed record RecallTask(int Symbols = 16, int Slots = 8, int Length = 64) : ISequenceTask
{
    /// <summary>The target where nothing is asked (the memory).</summary>
    public const int Nothing = 0;

    /// <summary>∅ + symbols + slot names.</summary>
    public int VocabSize => 1 + Symbols + Slots;

    /// <summary>T.</summary>
    public int Context => Length;

    /// <summary>The id of symbol s (0-based).</summary>
    public static int SymbolId(int s) => 1 + s;

    /// <summary>The id of the query "#j", which asks for slot j.</summary>
    public int SlotId(int j) => 1 + Symbols + j;

    /// <summary>Throws <see cref="ArgumentException"/> for sizes that do not make a task.</summary>
    public void Validate()
    {
        if (Symbols < 2 || Slots < 1 || Length <= Slots)
            throw new ArgumentException($"recall needs ≥ 2 symbols, ≥ 1 slot and length > slots; got {Symbols}, {Slots}, {Length}");
    }

    /// <summary>Fills <paramref name="batch"/> fresh windows.</summary>
    /// <param name="inputs">(B, T): the memory, then queries "#j" with j uniform</param>
    /// <param name="targets">(B, T): the symbol in slot j at each query, <see cref="Nothing"/> in the memory</param>
    public void Fill(ref SplitMix64 random, Span<int> inputs, Span<int> targets, int batch)
    {
        int M = Slots, T = Length;
        for (int b = 0; b < batch; b++)
        {
            var x = inputs.Slice(b * T, T); var y = targets.Slice(b * T, T);
            for (int t = 0; t < M; t++) { x[t] = SymbolId(random.NextInt(Symbols)); y[t] = Nothing; }
            for (int t = M; t < T; t++)
            {
                int j = random.NextInt(M);
                x[t] = SlotId(j);
                y[t] = x[j];
            }
        }
    }

    /// <summary>Width of the distance bins of <see cref="RecallScore.ByDistance"/>.</summary>
    public int BinWidth => Slots;

    /// <summary>Scores <paramref name="model"/> on <paramref name="episodes"/> held-out windows drawn from <paramref name="seed"/>.</summary>
    /// <param name="logits">reads the model's logits after its forward</param>
    public RecallScore Evaluate(ILanguageModel model, LogitsRow logits, int episodes, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(logits);
        int T = Context, M = Slots;
        var random = new SplitMix64(seed);
        var x = new int[episodes * T]; var y = new int[episodes * T];
        Fill(ref random, x, y, episodes);
        double loss = model.Forward(x, episodes, T, y);
        int maxDistance = T - 1;                                               // the last query asks for slot 0
        int bins = (maxDistance + BinWidth - 1) / BinWidth;
        var binCount = new int[bins]; var binCorrect = new int[bins];
        var slotCount = new int[M]; var slotCorrect = new int[M];
        int correct = 0; double recallLoss = 0;
        for (int b = 0; b < episodes; b++)
            for (int t = M; t < T; t++)
            {
                var row = logits(b, t);
                int target = y[b * T + t];
                bool right = Models.TokenSampler.ArgMax(row) == target;
                recallLoss += Ops.CrossEntropy.LogSumExp(row) - row[target];
                if (right) correct++;
                int j = x[b * T + t] - SlotId(0);
                int bin = (t - j - 1) / BinWidth;                              // distance t − j ≥ 1
                binCount[bin]++; slotCount[j]++;
                if (right) { binCorrect[bin]++; slotCorrect[j]++; }
            }
        int n = episodes * (T - M);
        var byDistance = Enumerable.Range(0, bins).Where(i => binCount[i] > 0)
            .Select(i => new DistanceAccuracy(1 + i * BinWidth, Math.Min(maxDistance, (i + 1) * BinWidth), binCount[i], (double)binCorrect[i] / binCount[i])).ToArray();
        var bySlot = Enumerable.Range(0, M).Select(j => slotCount[j] == 0 ? double.NaN : (double)slotCorrect[j] / slotCount[j]).ToArray();
        return new RecallScore((double)correct / n, recallLoss / n, loss, byDistance, bySlot);
    }
}
