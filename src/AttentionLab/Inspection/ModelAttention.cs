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
///                 "weights": [[[...Tk...] ...Tq...] ...H...],
///                 "roles": [{"head": 0, "entropy", "row_max", "previous", "next", "self", "first", "strongest"} ...H...]}, ...]}
/// </code>
/// Each map's "roles" are <see cref="EncoderHeadRoles"/>' scores of its heads (cross-attention:
/// "diagonal", "diagonal_shift", "anti_diagonal", "anti_diagonal_shift" instead), rounded to 5 decimals like the
/// weights; a role no query has a key for is null, and "strongest" is the role with the highest score.
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
                ["roles"] = new JsonArray(EncoderHeadRoles.Compute(m).Select(r => (JsonNode)RolesJson(r)).ToArray()),
            });
        }
        var o = new JsonObject { ["model_type"] = ModelType, ["input"] = Input, ["output"] = Output };
        if (Extra is not null) o["extra"] = Extra.DeepClone();
        o["attention"] = maps;
        return o;
    }

    /// <summary>One head's <see cref="EncoderHeadRoleScores"/> as the wire format's flat object.</summary>
    private static JsonObject RolesJson(EncoderHeadRoleScores s)
    {
        var o = new JsonObject { ["head"] = s.Head, ["entropy"] = Round(s.Entropy), ["row_max"] = Round(s.RowMax) };
        foreach (var r in s.Roles)
        {
            o[r.Role] = r.Score is double v ? Round(v) : null;
            if (s.Kind == AttentionKinds.Cross) o[r.Role + "_shift"] = r.Shift;
        }
        o["strongest"] = s.Strongest?.Role;
        return o;
    }

    private static JsonNode? Round(double x) => double.IsFinite(x) ? JsonValue.Create(Math.Round(x, 5)) : null;
}
