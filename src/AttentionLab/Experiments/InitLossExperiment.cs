using System.Globalization;
using System.Text.Json.Nodes;
using AttentionLab.Training;

namespace AttentionLab.Experiments;

/// <summary>
/// <c>init-loss</c>: an untrained GPT's loss against ln V (Part 7, question 31). With N(0, 0.02) weights every logit is
/// near 0, so the prediction is near uniform over the V tokens and the cross-entropy near −ln(1/V) = ln V, whatever the
/// text. A first loss far from ln V means a bug in the initialization or the loss. Tiny Shakespeare's characters for
/// V = 65; seeded uniform random ids for the other sizes.
/// </summary>
public sealed class InitLossExperiment : IExperiment
{
    public string Name => "init-loss";
    public string Summary => "the untrained loss against ln V for several vocabulary sizes";

    /// <summary>Vocabulary sizes measured; the corpus's own size (65 for tiny Shakespeare) uses its text.</summary>
    public IReadOnlyList<int> VocabSizes { get; init; } = [10, 65, 256, 1024, 8192, 50257];

    public ExperimentResult Run(ExperimentContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.RunCount = 0;
        int T = context.Model.ContextLength, B = 4;
        var runs = new List<ExperimentRun>();
        foreach (int v in VocabSizes)
        {
            if (v < 2) throw new ArgumentException($"a vocabulary needs at least 2 tokens, got {v}");
            var config = context.Model with { VocabSize = v };
            var model = context.NewGpt(config);
            bool text = v == context.Corpus.Tokenizer.VocabSize;
            (int[] X, int[] Y) Batch(ReadOnlyMemory<int> tokens, ulong seed) =>
                text ? AttentionStatistics.FixedBatch(tokens, B, T, seed) : RandomBatch(v, B, T, seed);
            var (xt, yt) = Batch(context.Corpus.Train, 11);
            var (xv, yv) = Batch(context.Corpus.Validation, 12);
            double train = model.Forward(xt, B, T, yt);
            double validation = model.Forward(xv, B, T, yv);
            double lnV = Math.Log(v);
            runs.Add(new ExperimentRun($"V = {v}", 0, train, validation, 0, model.ParameterCount, [], [])
            {
                Measures = new JsonObject
                {
                    ["vocab"] = v,
                    ["ln_vocab"] = ExperimentJson.Round(lnV),
                    ["difference"] = ExperimentJson.Round(validation - lnV),
                    ["tokens"] = text ? "tiny Shakespeare characters" : "uniform random ids",
                },
            });
        }
        double worst = runs.Max(r => Math.Abs((double)r.Measures["difference"]!));
        string finding = string.Create(CultureInfo.InvariantCulture,
            $"every untrained loss is within {worst:0.000} nats of ln V, from V = {VocabSizes.Min()} (ln V = {Math.Log(VocabSizes.Min()):0.00}) " +
            $"to V = {VocabSizes.Max()} (ln V = {Math.Log(VocabSizes.Max()):0.00}).");
        return new ExperimentResult(Name, "An untrained model guesses uniformly: its loss is ln V.", runs, ["vocab", "ln_vocab", "difference"], finding)
        { Setup = Setup.Of(context, context.Model) };
    }

    /// <summary>(B, T) uniform random ids and next-id targets from one seeded stream.</summary>
    private static (int[] X, int[] Y) RandomBatch(int vocab, int batch, int length, ulong seed)
    {
        var random = new SplitMix64(seed);
        var stream = new int[length + 1];
        var x = new int[batch * length]; var y = new int[batch * length];
        for (int b = 0; b < batch; b++)
        {
            for (int i = 0; i <= length; i++) stream[i] = random.NextInt(vocab);
            stream.AsSpan(0, length).CopyTo(x.AsSpan(b * length));
            stream.AsSpan(1, length).CopyTo(y.AsSpan(b * length));
        }
        return (x, y);
    }
}
