using System.Globalization;
using System.Text.Json.Nodes;
using AttentionLab.Training;

namespace AttentionLab.Experiments;

/// <summary>
/// <c>heads</c>: 1, 2, 4 and 8 heads at the same width C, so the same parameter count: H heads of D = C/H channels each
/// (seed 003). More heads can attend to several places at once; each sees a narrower slice. Reports the validation loss
/// and each head's mean attention entropy on a fixed held-out batch.
/// </summary>
public sealed class HeadsExperiment : IExperiment
{
    public string Name => "heads";
    public string Summary => "1 vs 2 vs 4 vs 8 heads at equal d_model: validation loss and per-head entropy";

    /// <summary>The head counts compared (each must divide the model width).</summary>
    public IReadOnlyList<int> HeadCounts { get; init; } = [1, 2, 4, 8];

    public ExperimentResult Run(ExperimentContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var baseConfig = context.Model;
        foreach (var h in HeadCounts)
            if (h < 1 || baseConfig.Channels % h != 0) throw new ArgumentException($"{h} heads do not divide the width {baseConfig.Channels}");
        context.RunCount = HeadCounts.Count;
        int T = baseConfig.ContextLength, B = 4;
        var (probe, _) = AttentionStatistics.FixedBatch(context.Corpus.Validation, B, T, 0xA77E);
        var runs = new List<ExperimentRun>();
        foreach (int heads in HeadCounts)
        {
            var config = baseConfig with { Heads = heads };
            var model = context.NewGpt(config);
            string setting = heads == 1 ? "1 head" : $"{heads} heads";
            var trained = context.Train(setting, new DecoderLanguageModel(model));
            var stats = AttentionStatistics.Heads(model, probe, B, T);
            runs.Add(ExperimentContext.Record(setting, trained, model.ParameterCount) with
            {
                Measures = new JsonObject
                {
                    ["heads"] = heads,
                    ["head_dim"] = config.HeadDim,
                    ["mean_entropy"] = ExperimentJson.Round(stats.MeanEntropy),
                    ["min_entropy"] = ExperimentJson.Round(stats.Entropy.Min()),
                    ["entropy"] = ExperimentJson.Matrix(stats.Entropy, stats.Layers, stats.Heads),
                },
            });
        }
        var best = runs.MinBy(r => r.ValidationLoss)!;
        var worst = runs.MaxBy(r => r.ValidationLoss)!;
        string finding = string.Create(CultureInfo.InvariantCulture,
            $"at C = {baseConfig.Channels}, validation loss: {string.Join(", ", runs.Select(r => $"{r.Setting} {r.ValidationLoss:0.000}"))}; " +
            $"best {best.Setting}, worst {worst.Setting} (+{worst.ValidationLoss - best.ValidationLoss:0.000}). The most focused head per setting has entropy " +
            $"{string.Join(", ", runs.Select(r => ((double)r.Measures["min_entropy"]!).ToString("0.00", CultureInfo.InvariantCulture)))} nats.");
        return new ExperimentResult(Name, "Several heads of width C/H attend to different things at once, for the same parameters as one wide head.",
            runs, ["head_dim", "mean_entropy", "min_entropy"], finding)
        { Setup = Setup.Of(context, baseConfig) };
    }
}
