using System.Text.Json.Nodes;

namespace AttentionLab.Inspection;

/// <summary>
/// The JSON of every inspection report (<see cref="IAttentionReport"/>): what <c>attnlab inspect --json</c> prints
/// and the Explorer's <c>POST /api/inspect</c> returns, built in one place so the two never drift. Every kind has
/// "model_type", "input", "output" and "groups" (<see cref="AttentionGroup.ToJson()"/>: name, kind, layers, heads and
/// labels of each group, whose maps are in "attention"). GPT-2 (<see cref="InspectionReport"/>):
/// <code>
/// { "model_type": "gpt2" (every decoder the GPT views draw), "architecture" (config.json's model_type: gpt2, llama,
///   qwen2, qwen3, mistral), "key_value_heads", "input", "output" (the most likely next token),
///   "tokens": [T], "ids": [T], "next": [{"id", "token", "probability"}], "logits": (T, V) (omitted when not kept),
///   "attention": (L, H, T, T), "entropy": (L, H), "kernel", "exact", "causal", "loss" (null for one token),
///   "approximation_error" (null for exact kernels), "groups": [{"name": "decoder", ...}] }
/// </code>
/// seq2seq, BERT, ViT (<see cref="ModelAttention"/>): "attention" is a list of maps, one per layer of each group:
/// <code>
/// { "model_type", "input", "output", "extra": {...},
///   "attention": [{"kind", "layer", "heads", "query_labels", "key_labels", "weights": (H, Tq, Tk), "roles": [H]}, ...],
///   "groups": [{"name": "encoder", ...}, {"name": "decoder", ...}, {"name": "cross", ...}] }
/// </code>
/// </summary>
public static class InspectionJson
{
    public static JsonObject ToJson(InspectionReport r)
    {
        ArgumentNullException.ThrowIfNull(r);
        int T = r.Length;
        var attention = new JsonArray();
        var entropy = new JsonArray();
        for (int l = 0; l < r.Layers; l++)
        {
            var heads = new JsonArray();
            var hs = new JsonArray();
            for (int h = 0; h < r.Heads; h++)
            {
                heads.Add(Rows(r.Attention, (l * r.Heads + h) * T * T, T, T));
                hs.Add(Finite(r.Entropy[l * r.Heads + h]));
            }
            attention.Add(heads);
            entropy.Add(hs);
        }
        var json = new JsonObject
        {
            ["model_type"] = r.ModelType, ["architecture"] = r.Architecture, ["input"] = r.Input, ["output"] = r.Output,
            ["tokens"] = new JsonArray(r.Tokens.Select(s => (JsonNode)s).ToArray()),
            ["ids"] = new JsonArray(r.Ids.Select(i => (JsonNode)i).ToArray()),
            ["next"] = new JsonArray(r.Next.Select(t => (JsonNode)new JsonObject
            {
                ["id"] = t.Id, ["token"] = t.Token, ["probability"] = Finite(t.Probability),
            }).ToArray()),
        };
        if (r.Logits.Length > 0) json["logits"] = Rows(r.Logits, 0, T, r.VocabSize);
        if (r.KeyValueHeads is int kv) json["key_value_heads"] = kv;
        json["attention"] = attention;
        json["entropy"] = entropy;
        json["kernel"] = r.Kernel;
        json["exact"] = r.KernelIsExact;
        json["causal"] = r.IsCausal;
        json["loss"] = r.Loss is float loss && float.IsFinite(loss) ? loss : null;
        json["approximation_error"] = r.ApproximationError is double e && double.IsFinite(e) ? e : null;
        json["groups"] = AttentionGroup.ToJson(r.Groups);
        return json;
    }

    public static JsonObject ToJson(ModelAttention r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var maps = new JsonArray();
        foreach (var m in r.Maps)
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
                ["roles"] = new JsonArray(HeadRoles.Compute(m).Select(s => (JsonNode)RolesJson(s)).ToArray()),
            });
        }
        var o = new JsonObject { ["model_type"] = r.ModelType, ["input"] = r.Input, ["output"] = r.Output };
        if (r.Extra is not null) o["extra"] = r.Extra.DeepClone();
        o["attention"] = maps;
        o["groups"] = AttentionGroup.ToJson(r.Groups);
        return o;
    }

    /// <summary>One head's <see cref="HeadRoleScores"/> as the wire format's flat object.</summary>
    private static JsonObject RolesJson(HeadRoleScores s)
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

    /// <summary>A (rows, cols) block of <paramref name="data"/> as nested arrays; a non-finite value becomes null
    /// (JSON has no NaN).</summary>
    private static JsonArray Rows(float[] data, int offset, int rows, int cols)
    {
        var arr = new JsonArray();
        for (int i = 0; i < rows; i++)
        {
            var row = new JsonNode?[cols];
            for (int j = 0; j < cols; j++)
            {
                float x = data[offset + i * cols + j];
                row[j] = float.IsFinite(x) ? JsonValue.Create(x) : null;
            }
            arr.Add(new JsonArray(row));
        }
        return arr;
    }

    private static JsonNode? Finite(double x) => double.IsFinite(x) ? JsonValue.Create(x) : null;
}
