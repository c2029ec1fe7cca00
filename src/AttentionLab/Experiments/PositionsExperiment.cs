using System.Globalization;
using System.Text.Json.Nodes;
using AttentionLab.Models;
using AttentionLab.Training;

namespace AttentionLab.Experiments;

/// <summary>
/// <c>positions</c>: GPT-2's learned position table, Vaswani's fixed sinusoids, and none. Attention itself is a weighted
/// sum over a set: without positions only the causal mask tells positions apart (a query at t averages over t + 1 keys,
/// which leaks a little order), so the model is nearly a bag of characters. Same seed and weights otherwise.
/// </summary>
public sealed class PositionsExperiment : IExperiment
{
    public string Name => "positions";
    public string Summary => "learned vs sinusoidal vs no position encoding: what order-blindness costs";

    public ExperimentResult Run(ExperimentContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.RunCount = 3;
        var runs = new List<ExperimentRun>();
        foreach (var positions in new[] { PositionEncoding.Learned, PositionEncoding.Sinusoidal, PositionEncoding.None })
        {
            var config = context.Model with { Positions = positions };
            var model = context.NewGpt(config);
            string setting = PositionEncodings.Name(positions);
            var trained = context.Train(setting, new Gpt2LanguageModel(model));
            long trainable = model.ParameterCount - (positions == PositionEncoding.Learned ? 0 : (long)config.ContextLength * config.Channels);
            runs.Add(ExperimentContext.Record(setting, trained, trainable) with
            {
                Measures = new JsonObject { ["position_parameters"] = positions == PositionEncoding.Learned ? config.ContextLength * config.Channels : 0 },
            });
        }
        var learned = runs[0];
        string finding = string.Create(CultureInfo.InvariantCulture,
            $"validation loss: {string.Join(", ", runs.Select(r => $"{r.Setting} {r.ValidationLoss:0.000}"))}; " +
            $"without positions the model pays {runs[2].ValidationLoss - learned.ValidationLoss:+0.000;-0.000} nats per character against learned, " +
            $"sinusoidal {runs[1].ValidationLoss - learned.ValidationLoss:+0.000;-0.000}.");
        return new ExperimentResult(Name, "Attention is blind to order; position encodings put it back.", runs, ["position_parameters"], finding)
        { Setup = Setup.Of(context, context.Model) };
    }
}
