using System.Text.Json.Nodes;
using AttentionLab.Models;

namespace AttentionLab.Experiments;

/// <summary>The setup object every experiment reports: model shape, data, budget or steps, seed.</summary>
internal static class Setup
{
    public static JsonObject Of(ExperimentContext context, DecoderConfig config)
    {
        var o = context.Options;
        return new JsonObject
        {
            ["data"] = context.Corpus.Source,
            ["tokenizer"] = context.Corpus.Tokenizer.Name,
            ["vocab"] = config.VocabSize,
            ["layers"] = config.Layers,
            ["channels"] = config.Channels,
            ["heads"] = config.Heads,
            ["context"] = config.ContextLength,
            ["batch"] = o.Training.BatchSize,
            ["learning_rate"] = o.Training.LearningRate,
            ["seed"] = o.Training.Seed,
            ["budget_s"] = o.Steps is null ? o.Budget.TotalSeconds : null,
            ["steps_per_run"] = o.Steps,
            ["runs"] = context.RunCount,
        };
    }
}
