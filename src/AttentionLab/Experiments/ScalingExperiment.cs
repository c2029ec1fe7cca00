using System.Globalization;
using System.Text.Json.Nodes;
using AttentionLab.Training;

namespace AttentionLab.Experiments;

/// <summary>
/// <c>scaling</c>: attention scores q·k/√d_k against q·k. The dot product of two d_k-dimensional vectors of unit-variance
/// entries has variance d_k, so without the 1/√d_k the softmax sees scores √d_k times wider, saturates (one key takes
/// nearly all the weight) and passes back little gradient (seed 000, question 2; Part 7, question 30). Same seed, same
/// initial weights, same batches; only <c>AttentionOptions.Scale</c> differs.
/// </summary>
public sealed class ScalingExperiment : IExperiment
{
    public string Name => "scaling";
    public string Summary => "with and without 1/√d_k: loss, how peaked each head is, gradient into W_Q/W_K";

    public ExperimentResult Run(ExperimentContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var config = context.Model;
        context.RunCount = 2;
        int T = config.ContextLength, B = 4;
        var (probe, probeTargets) = AttentionStatistics.FixedBatch(context.Corpus.Validation, B, T, 0xA77E);
        var runs = new List<ExperimentRun>();
        foreach (var (setting, scaled) in new[] { ("scaled", true), ("unscaled", false) })
        {
            var model = scaled ? context.NewGpt(config) : context.NewGpt(config, new AttentionLab.Attention.AttentionOptions { IsCausal = config.IsCausal, Scale = 1f });
            var (q0, k0) = AttentionStatistics.QueryKeyGradientNorms(model, probe, probeTargets, B, T);
            var initial = AttentionStatistics.Heads(model, probe, B, T);
            var trained = context.Train(setting, new DecoderLanguageModel(model));
            var heads = AttentionStatistics.Heads(model, probe, B, T);
            var (q, k) = AttentionStatistics.QueryKeyGradientNorms(model, probe, probeTargets, B, T);
            runs.Add(ExperimentContext.Record(setting, trained, model.ParameterCount) with
            {
                Measures = new JsonObject
                {
                    ["scale"] = ExperimentJson.Round(model.AttentionOptions.ScaleFor(config.HeadDim)),
                    ["mean_max_weight"] = ExperimentJson.Round(heads.MeanMaxWeight),
                    ["mean_entropy"] = ExperimentJson.Round(heads.MeanEntropy),
                    ["grad_norm_wq"] = ExperimentJson.Round(q),
                    ["grad_norm_wk"] = ExperimentJson.Round(k),
                    ["max_weight"] = ExperimentJson.Matrix(heads.MaxWeight, heads.Layers, heads.Heads),
                    ["entropy"] = ExperimentJson.Matrix(heads.Entropy, heads.Layers, heads.Heads),
                    ["initial"] = new JsonObject
                    {
                        ["mean_max_weight"] = ExperimentJson.Round(initial.MeanMaxWeight),
                        ["mean_entropy"] = ExperimentJson.Round(initial.MeanEntropy),
                        ["grad_norm_wq"] = ExperimentJson.Round(q0),
                        ["grad_norm_wk"] = ExperimentJson.Round(k0),
                    },
                },
            });
        }
        var s = runs[0]; var u = runs[1];
        string F(JsonNode? n) => ((double)n!).ToString("0.000", CultureInfo.InvariantCulture);
        string finding = string.Create(CultureInfo.InvariantCulture,
            $"d_k = {config.HeadDim}: without 1/√d_k the validation loss is {u.ValidationLoss:0.000} (scaled {s.ValidationLoss:0.000}); " +
            $"the heads' mean max weight is {F(u.Measures["mean_max_weight"])} (scaled {F(s.Measures["mean_max_weight"])}), mean entropy {F(u.Measures["mean_entropy"])} nats " +
            $"(scaled {F(s.Measures["mean_entropy"])}); gradient norm into W_Q {F(u.Measures["grad_norm_wq"])} (scaled {F(s.Measures["grad_norm_wq"])}), " +
            $"into W_K {F(u.Measures["grad_norm_wk"])} (scaled {F(s.Measures["grad_norm_wk"])}).");
        return new ExperimentResult(Name, "Dividing q·k by √d_k keeps the softmax out of saturation, so attention stays soft and W_Q, W_K keep learning.",
            runs, ["mean_max_weight", "mean_entropy", "grad_norm_wq", "grad_norm_wk"], finding)
        { Setup = Setup.Of(context, config) };
    }
}
