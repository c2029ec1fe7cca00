using System.Globalization;
using System.Text.Json.Nodes;
using AttentionLab.Models;
using AttentionLab.Training;

namespace AttentionLab.Experiments;

/// <summary>
/// <c>positions</c>: GPT-2's learned position table, Vaswani's fixed sinusoids, rotary embeddings (RoPE, Llama's), and
/// none. Attention itself is a weighted sum over a set: without positions only the causal mask tells positions apart
/// (a query at t averages over t + 1 keys, which leaks a little order), so the model is nearly a bag of characters.
/// Same seed and weights otherwise.
/// <para>
/// Then the length test: each trained model (context T) is evaluated on windows of 2T from the validation text. A
/// learned table has no row for position T or later, so it cannot run at all; sinusoids and rotations are formulas, so
/// they can — the loss on the positions T … 2T − 1, never seen in training, says how well they carry over.
/// </para>
/// </summary>
public sealed class PositionsExperiment : IExperiment
{
    public string Name => "positions";
    public string Summary => "learned vs sinusoidal vs rope vs no position encoding: what order-blindness costs, and which run past their training length";

    /// <summary>Validation windows of the length test (each 2T long, from a fixed seed).</summary>
    public int LengthTestWindows { get; init; } = 32;

    public ExperimentResult Run(ExperimentContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.RunCount = 4;
        var runs = new List<ExperimentRun>();
        int trainedLength = context.Model.ContextLength, testLength = 2 * trainedLength;
        var (windows, windowTargets) = AttentionStatistics.FixedBatch(context.Corpus.Validation, LengthTestWindows, testLength, 0x1E57);
        foreach (var positions in new[] { PositionEncoding.Learned, PositionEncoding.Sinusoidal, PositionEncoding.Rotary, PositionEncoding.None })
        {
            var config = context.Model with { Positions = positions };
            var model = context.NewGpt(config);
            string setting = PositionEncodings.Name(positions);
            var trained = context.Train(setting, new DecoderLanguageModel(model));
            int table = positions == PositionEncoding.Learned ? config.ContextLength * config.Channels : 0;
            long trainable = model.ParameterCount - (positions is PositionEncoding.Sinusoidal or PositionEncoding.None ? (long)config.ContextLength * config.Channels : 0);
            var (atTrained, beyond) = LengthTest(model, windows, windowTargets, LengthTestWindows, testLength);
            runs.Add(ExperimentContext.Record(setting, trained, trainable) with
            {
                Measures = new JsonObject
                {
                    ["position_parameters"] = table,
                    [$"loss_first_{trainedLength}"] = atTrained is double a ? ExperimentJson.Round(a) : null,
                    [$"loss_{trainedLength}_to_{testLength}"] = beyond is double b ? ExperimentJson.Round(b) : null,
                },
            });
        }
        var learned = runs[0];
        string Beyond(ExperimentRun r) => r.Measures[$"loss_{trainedLength}_to_{testLength}"] is JsonNode n ? $"{(double)n:0.000}" : "cannot run";
        string finding = string.Create(CultureInfo.InvariantCulture,
            $"validation loss: {string.Join(", ", runs.Select(r => $"{r.Setting} {r.ValidationLoss:0.000}"))}; " +
            $"without positions the model pays {runs[3].ValidationLoss - learned.ValidationLoss:+0.000;-0.000} nats per character against learned, " +
            $"sinusoidal {runs[1].ValidationLoss - learned.ValidationLoss:+0.000;-0.000}, rope {runs[2].ValidationLoss - learned.ValidationLoss:+0.000;-0.000}. " +
            $"On positions {trainedLength}–{testLength - 1} (trained at {trainedLength}): {string.Join(", ", runs.Select(r => $"{r.Setting} {Beyond(r)}"))}.");
        return new ExperimentResult(Name, "Attention is blind to order; position encodings put it back.", runs,
            ["position_parameters", $"loss_first_{trainedLength}", $"loss_{trainedLength}_to_{testLength}"], finding)
        { Setup = Setup.Of(context, context.Model) };
    }

    /// <summary>
    /// The trained model's weights in a model of twice the context, run on (B, 2T) windows: the mean loss over the first T
    /// positions of each window and over the positions T … 2T − 1. (null, null) for a learned table, which has no rows
    /// past T.
    /// </summary>
    internal static (double? AtTrained, double? Beyond) LengthTest(DecoderModel trained, int[] windows, int[] targets, int batch, int length)
    {
        var config = trained.Config;
        if (config.Positions == PositionEncoding.Learned) return (null, null);
        var longer = new DecoderModel(config with { ContextLength = length }, trained.Attention, training: false);
        foreach (var view in trained.Layout.All)
        {
            if (view.Name == "transformer.wpe.weight") continue;                       // held at zero without a learned table
            trained.Parameters[view].CopyTo(longer.Parameters[longer.Layout[view.Name]]);
        }
        longer.Forward(windows, batch, length, targets);
        var losses = longer.Losses;
        int t = config.ContextLength;
        double first = 0, beyond = 0;
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < length; i++)
                if (i < t) first += losses[b * length + i]; else beyond += losses[b * length + i];
        return (first / (batch * t), beyond / (batch * (length - t)));
    }
}
