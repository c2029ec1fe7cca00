using System.Text.Json.Nodes;

namespace AttentionLab.Inspection;

/// <summary>
/// Everything a saved encoder-decoder, BERT or ViT shows about one input: what it read, what it produced, and every
/// attention map of every layer (<see cref="AttentionMap"/>), so the CLI (<c>inspect --json</c>) and the web
/// Explorer draw the same numbers. <see cref="ToJson"/> is the wire format:
/// <code>
/// {"model_type": "seq2seq", "input": "abc", "output": "cba",
///  "extra": {...},
///  "attention": [{"kind": "cross", "layer": 0, "heads": 4, "query_labels": [...], "key_labels": [...],
///                 "weights": [[[...Tk...] ...Tq...] ...H...]}, ...]}
/// </code>
/// </summary>
/// <param name="ModelType">"seq2seq", "bert" or "vit"</param>
/// <param name="Input">the input as text (a source string, a masked sentence, or an image's description)</param>
/// <param name="Output">the model's answer (the decoded target, the filled-in text, the class name)</param>
/// <param name="Maps">every layer's attention, in forward order</param>
/// <param name="Extra">model-specific details (e.g. class probabilities, the image's pixels)</param>
public sealed record ModelAttention(string ModelType, string Input, string Output, IReadOnlyList<AttentionMap> Maps, JsonObject? Extra = null)
{
    /// <summary>The maps of one kind (<see cref="AttentionKinds"/>), by layer.</summary>
    public IReadOnlyList<AttentionMap> OfKind(string kind) => Maps.Where(m => m.Kind == kind).OrderBy(m => m.Layer).ToList();

    public JsonObject ToJson()
    {
        var maps = new JsonArray();
        foreach (var m in Maps)
        {
            var heads = new JsonArray();
            for (int h = 0; h < m.Heads; h++)
            {
                var rows = new JsonArray();
                var w = m.Head(h);
                for (int i = 0; i < m.QueryLength; i++)
                {
                    var row = new JsonArray();
                    for (int j = 0; j < m.KeyLength; j++) row.Add(Math.Round(w[i * m.KeyLength + j], 5));
                    rows.Add(row);
                }
                heads.Add(rows);
            }
            maps.Add(new JsonObject
            {
                ["kind"] = m.Kind,
                ["layer"] = m.Layer,
                ["heads"] = m.Heads,
                ["query_labels"] = new JsonArray(m.QueryLabels.Select(l => (JsonNode)l).ToArray()),
                ["key_labels"] = new JsonArray(m.KeyLabels.Select(l => (JsonNode)l).ToArray()),
                ["weights"] = heads,
            });
        }
        var o = new JsonObject { ["model_type"] = ModelType, ["input"] = Input, ["output"] = Output };
        if (Extra is not null) o["extra"] = Extra.DeepClone();
        o["attention"] = maps;
        return o;
    }
}
