using System.Globalization;
using System.Text.Json;
using AttentionLab.Attention;

namespace AttentionLab.Explorer;

/// <summary>
/// Reads the JSON body of an API request with checks at the edge: every field has a type and a range, and every
/// problem becomes one line in a 400 answer.
/// </summary>
public sealed class RequestReader
{
    /// <summary>Longest text accepted before tokenizing (characters); the token cap is the model's context.</summary>
    public const int MaxTextLength = 200_000;

    private readonly JsonElement _root;

    private RequestReader(JsonElement root) => _root = root;

    public static async Task<RequestReader> ReadAsync(Microsoft.AspNetCore.Http.HttpRequest request)
    {
        try
        {
            using var doc = await JsonDocument.ParseAsync(request.Body, new JsonDocumentOptions { MaxDepth = 16 }).ConfigureAwait(false);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new ExplorerException(400, "the request body must be a JSON object");
            return new RequestReader(doc.RootElement.Clone());
        }
        catch (JsonException e) { throw new ExplorerException(400, $"malformed JSON: {FirstLine(e.Message)}"); }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e) { throw new ExplorerException(e.StatusCode, FirstLine(e.Message)); }
    }

    /// <summary>For tests and for the GET forms of the endpoints.</summary>
    public static RequestReader Parse(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new ExplorerException(400, "the request body must be a JSON object");
            return new RequestReader(doc.RootElement.Clone());
        }
        catch (JsonException e) { throw new ExplorerException(400, $"malformed JSON: {FirstLine(e.Message)}"); }
    }

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();

    public bool Has(string name) => _root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null;

    public string? String(string name)
    {
        if (!_root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.String) throw new ExplorerException(400, $"\"{name}\" must be a string");
        return v.GetString();
    }

    public int? Int(string name, int min, int max)
    {
        if (!_root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int x))
            throw new ExplorerException(400, $"\"{name}\" must be an integer");
        if (x < min || x > max) throw new ExplorerException(400, $"\"{name}\" must be in [{min}, {max}], got {x}");
        return x;
    }

    public double? Double(string name, double min, double max)
    {
        if (!_root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number) throw new ExplorerException(400, $"\"{name}\" must be a number");
        double x = v.GetDouble();
        if (!(x >= min && x <= max)) throw new ExplorerException(400, $"\"{name}\" must be in [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}], got {x.ToString(CultureInfo.InvariantCulture)}");
        return x;
    }

    public bool? Bool(string name)
    {
        if (!_root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new ExplorerException(400, $"\"{name}\" must be true or false"),
        };
    }

    /// <summary>An array of integers, each in [min, max], at most <paramref name="maxCount"/> of them.</summary>
    public int[]? Ints(string name, int min, int max, int maxCount)
    {
        if (!_root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Array) throw new ExplorerException(400, $"\"{name}\" must be an array of integers");
        int n = v.GetArrayLength();
        if (n > maxCount) throw new ExplorerException(413, $"\"{name}\" has {n} entries; at most {maxCount} are accepted");
        var result = new int[n];
        int i = 0;
        foreach (var e in v.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int x)) throw new ExplorerException(400, $"\"{name}\" must be an array of integers");
            if (x < min || x > max) throw new ExplorerException(400, $"\"{name}\"[{i}] = {x} is outside [{min}, {max}]");
            result[i++] = x;
        }
        return result;
    }

    /// <summary>Heads as [[layer, head], ...] (e.g. the heads to zero).</summary>
    public (int Layer, int Head)[] Heads(string name, int layers, int heads)
    {
        if (!_root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return [];
        if (v.ValueKind != JsonValueKind.Array) throw new ExplorerException(400, $"\"{name}\" must be an array of [layer, head] pairs");
        var result = new List<(int, int)>();
        foreach (var e in v.EnumerateArray())
        {
            // TryGetInt32 throws InvalidOperationException on a non-number: check the kinds first
            if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() != 2
                || e[0].ValueKind != JsonValueKind.Number || e[1].ValueKind != JsonValueKind.Number
                || !e[0].TryGetInt32(out int l) || !e[1].TryGetInt32(out int h))
                throw new ExplorerException(400, $"\"{name}\" must be an array of [layer, head] pairs");
            if (l < 0 || l >= layers) throw new ExplorerException(400, $"layer must be in [0, {layers - 1}] for this {layers}-layer model, got {l}");
            if (h < 0 || h >= heads) throw new ExplorerException(400, $"head must be in [0, {heads - 1}] for this {heads}-head model, got {h}");
            result.Add((l, h));
        }
        return result.ToArray();
    }

    /// <summary>The token ids of "text" or "ids" (exactly one), checked against the model's vocabulary and context.</summary>
    public int[] Input(LoadedModel model, string textField = "text", string idsField = "ids")
    {
        var c = model.Config;
        bool hasText = Has(textField), hasIds = Has(idsField);
        if (hasText == hasIds) throw new ExplorerException(400, $"give exactly one of \"{textField}\" or \"{idsField}\"");
        int[] ids;
        if (hasIds) ids = Ints(idsField, 0, c.VocabSize - 1, c.ContextLength) ?? [];
        else
        {
            var text = String(textField)!;
            if (text.Length > MaxTextLength) throw new ExplorerException(413, $"the text has {text.Length} characters; at most {MaxTextLength} are accepted");
            if (model.Tokenizer is null) throw new ExplorerException(400, $"model '{model.Name}' has no tokenizer; give token ids with \"{idsField}\"");
            try { ids = model.Tokenizer.EncodeForModel(text); }   // with the bos token where the tokenizer says so
            catch (ArgumentException e) { throw new ExplorerException(400, e.Message.Split('\n')[0]); }
            if (ids.Length > c.ContextLength)
                throw new ExplorerException(413, $"the text is {ids.Length} tokens; model '{model.Name}' reads at most {c.ContextLength} (its context)");
        }
        if (ids.Length == 0) throw new ExplorerException(400, "the input is empty; give at least one token");
        return ids;
    }

    /// <summary>The kernel named by "attention" (null: the model's own).</summary>
    public IAttentionKernel? Kernel(string name = "attention")
    {
        var text = String(name);
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (text.Length > 100) throw new ExplorerException(400, $"\"{name}\" is too long");
        try { return AttentionKernels.Parse(text); }
        catch (ArgumentException e) { throw new ExplorerException(400, e.Message.Split('\n')[0]); }
    }
}
