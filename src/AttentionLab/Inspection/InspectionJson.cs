using System.Text.Json.Nodes;

namespace AttentionLab.Inspection;

/// <summary>
/// The JSON of an <see cref="InspectionReport"/>: what <c>attnlab inspect --json</c> prints and the Explorer's
/// <c>POST /api/inspect</c> returns, built in one place so the two never drift.
/// <code>
/// { "tokens": [T], "ids": [T], "next": [{"id", "token", "probability"}], "logits": (T, V) (omitted when not kept),
///   "attention": (L, H, T, T), "entropy": (L, H), "kernel", "exact", "causal", "loss" (null for one token),
///   "approximation_error" (null for exact kernels) }
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
            ["tokens"] = new JsonArray(r.Tokens.Select(s => (JsonNode)s).ToArray()),
            ["ids"] = new JsonArray(r.Ids.Select(i => (JsonNode)i).ToArray()),
            ["next"] = new JsonArray(r.Next.Select(t => (JsonNode)new JsonObject
            {
                ["id"] = t.Id, ["token"] = t.Token, ["probability"] = Finite(t.Probability),
            }).ToArray()),
        };
        if (r.Logits.Length > 0) json["logits"] = Rows(r.Logits, 0, T, r.VocabSize);
        json["attention"] = attention;
        json["entropy"] = entropy;
        json["kernel"] = r.Kernel;
        json["exact"] = r.KernelIsExact;
        json["causal"] = r.IsCausal;
        json["loss"] = r.Loss is float loss && float.IsFinite(loss) ? loss : null;
        json["approximation_error"] = r.ApproximationError is double e && double.IsFinite(e) ? e : null;
        return json;
    }

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
