using System.Text.Json;

namespace AttentionLab.IO;

/// <summary>
/// Typed, checked access to the fields of a JSON object read from a file: a field of the wrong JSON type or out
/// of range is one <see cref="InvalidDataException"/> naming the file and the field, never a cast exception.
/// JSON <c>null</c> counts as absent for the optional readers.
/// </summary>
public readonly struct JsonFields
{
    private readonly JsonElement _object;
    private readonly string _what;

    /// <param name="root">The element that must be an object.</param>
    /// <param name="what">The file (or field path) for messages.</param>
    public JsonFields(JsonElement root, string what)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{what}: expected a JSON object, got {InputFile.Describe(root)}");
        _object = root;
        _what = what;
    }

    /// <summary>The field, or null when absent or JSON null.</summary>
    public JsonElement? Get(string name) =>
        _object.TryGetProperty(name, out var e) && e.ValueKind != JsonValueKind.Null ? e : null;

    private InvalidDataException Bad(string name, string expected, JsonElement e) =>
        new($"{_what}: '{name}' must be {expected}, got {InputFile.Describe(e)}");

    public long? OptionalLong(string name, long min = long.MinValue, long max = long.MaxValue)
    {
        if (Get(name) is not JsonElement e) return null;
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out long v)) throw Bad(name, "an integer", e);
        if (v < min || v > max) throw new InvalidDataException($"{_what}: '{name}' is {v}, outside [{min}, {max}]");
        return v;
    }

    public long RequiredLong(string name, long min = long.MinValue, long max = long.MaxValue) =>
        OptionalLong(name, min, max) ?? throw new InvalidDataException($"{_what}: missing '{name}'");

    public int? OptionalInt(string name, int min = int.MinValue, int max = int.MaxValue) => (int?)OptionalLong(name, min, max);

    public int RequiredInt(string name, int min = int.MinValue, int max = int.MaxValue) => (int)RequiredLong(name, min, max);

    public double? OptionalDouble(string name, double min = double.MinValue, double max = double.MaxValue)
    {
        if (Get(name) is not JsonElement e) return null;
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out double v) || !double.IsFinite(v)) throw Bad(name, "a finite number", e);
        if (v < min || v > max) throw new InvalidDataException($"{_what}: '{name}' is {v}, outside [{min}, {max}]");
        return v;
    }

    public double RequiredDouble(string name, double min = double.MinValue, double max = double.MaxValue) =>
        OptionalDouble(name, min, max) ?? throw new InvalidDataException($"{_what}: missing '{name}'");

    public string? OptionalString(string name) => Get(name) is JsonElement e ? InputFile.GetText(e, $"{_what}: '{name}'") : null;

    public string RequiredString(string name) => OptionalString(name) ?? throw new InvalidDataException($"{_what}: missing '{name}'");

    public bool? OptionalBool(string name)
    {
        if (Get(name) is not JsonElement e) return null;
        return e.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Bad(name, "true or false", e),
        };
    }

    /// <summary>The field when it has the given kind (null when absent); any other kind is an error.</summary>
    public JsonElement? Optional(string name, JsonValueKind kind)
    {
        if (Get(name) is not JsonElement e) return null;
        if (e.ValueKind != kind) throw Bad(name, kind == JsonValueKind.Array ? "an array" : kind == JsonValueKind.Object ? "an object" : kind.ToString(), e);
        return e;
    }
}
