using System.Text.Json;
using AttentionLab.IO;

namespace AttentionLab.Text.HuggingFace;

/// <summary>Small readers shared by the tokenizer.json components: <c>"pattern": {"String": …} | {"Regex": …}</c>
/// and the item lists of a <c>Sequence</c>.</summary>
internal static class HfPattern
{
    /// <summary>The pattern as (is a regex, text).</summary>
    public static (bool IsRegex, string Text) Read(JsonElement owner, string what)
    {
        if (!owner.TryGetProperty("pattern", out var p) || p.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{what}: missing 'pattern' object");
        var f = new JsonFields(p, $"{what}: pattern");
        if (f.OptionalString("String") is string s) return (false, s);
        if (f.OptionalString("Regex") is string r) return (true, r);
        throw new InvalidDataException($"{what}: pattern has neither 'String' nor 'Regex'");
    }

    /// <summary>A pattern that must be a plain string (the Replace normalizer and decoder as the Llama family uses them).</summary>
    public static string ReadString(JsonElement owner, string what)
    {
        var (isRegex, text) = Read(owner, what);
        if (isRegex) throw new InvalidDataException($"{what}: a Regex pattern is not supported here (a String pattern is)");
        return text;
    }

    public static IEnumerable<JsonElement> Items(JsonElement owner, string name, string what)
    {
        if (!owner.TryGetProperty(name, out var a) || a.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{what}: Sequence has no '{name}' list");
        return a.EnumerateArray().Select(x => x);
    }

    public static string Short(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
