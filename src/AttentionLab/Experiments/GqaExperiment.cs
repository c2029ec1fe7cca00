using System.Globalization;
using System.Text.Json.Nodes;
using AttentionLab.Training;

namespace AttentionLab.Experiments;

/// <summary>
/// <c>gqa</c>: grouped-query attention (Ainslie et al. 2023) at 8 query heads with 8 (multi-head), 4, 2 and 1
/// (multi-query, Shazeer 2019) key/value heads, same seed, data and budget. Each key/value head serves H/Hkv query
/// heads, so the KV cache a generating model keeps shrinks by the same factor:
/// <code>
/// KV bytes per token = 2 (k and v) · L · Hkv · D · 4 bytes (float32)
/// </code>
/// The question every Llama-family config answers with its num_key_value_heads: how much loss does that memory cost?
/// </summary>
public sealed class GqaExperiment : IExperiment
{
    public string Name => "gqa";
    public string Summary => "8 query heads with 8, 4, 2, 1 key/value heads: validation loss against KV-cache bytes per token";

    /// <summary>Query heads of every setting.</summary>
    public int QueryHeads { get; init; } = 8;

    /// <summary>Key/value heads of each setting (each must divide <see cref="QueryHeads"/>).</summary>
    public int[] KeyValueHeads { get; init; } = [8, 4, 2, 1];

    public ExperimentResult Run(ExperimentContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var shape = context.Model with { Heads = QueryHeads };
        if (shape.Channels % QueryHeads != 0) throw new ArgumentException($"d_model {shape.Channels} must divide by {QueryHeads} query heads");
        foreach (int kv in KeyValueHeads)
            if (kv < 1 || QueryHeads % kv != 0) throw new ArgumentException($"{QueryHeads} query heads must divide by the key/value heads, got {kv}");
        context.RunCount = KeyValueHeads.Length;
        var runs = new List<ExperimentRun>();
        foreach (int kv in KeyValueHeads)
        {
            var config = shape with { KeyValueHeads = kv };
            var model = context.NewGpt(config);
            string setting = kv == QueryHeads ? $"mha (kv {kv})" : kv == 1 ? "mqa (kv 1)" : $"gqa (kv {kv})";
            var trained = context.Train(setting, new DecoderLanguageModel(model));
            long kvBytes = 2L * config.Layers * kv * config.HeadDim * sizeof(float);
            runs.Add(ExperimentContext.Record(setting, trained, model.ParameterCount) with
            {
                Measures = new JsonObject { ["kv_heads"] = kv, ["kv_bytes_per_token"] = kvBytes },
            });
        }
        var full = runs[0];
        string finding = string.Create(CultureInfo.InvariantCulture,
            $"validation loss against KV-cache bytes per token: {string.Join(", ", runs.Select(r => $"{r.Setting} {r.ValidationLoss:0.000} at {(long)r.Measures!["kv_bytes_per_token"]!:N0} B"))}; " +
            $"{runs[^1].Setting} keeps 1/{QueryHeads / KeyValueHeads[^1]} of the cache for {runs[^1].ValidationLoss - full.ValidationLoss:+0.000;-0.000} nats per character.");
        return new ExperimentResult(Name, "Fewer key/value heads shrink the KV cache at little cost in loss.", runs, ["kv_heads", "kv_bytes_per_token"], finding)
        { Setup = Setup.Of(context, shape) };
    }
}
