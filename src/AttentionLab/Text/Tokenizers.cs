using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AttentionLab.Text;

/// <summary>
/// Creates tokenizers by name and saves/loads the choice with a model, in <see cref="FileName"/> next to
/// config.json. (Not <c>tokenizer.json</c>: that name belongs to Hugging Face's tokenizers format.)
/// </summary>
public static class Tokenizers
{
    /// <summary>The names accepted by <see cref="Create"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["char", "gpt2", "o200k"];

    /// <summary>The tokenizer file inside a model directory.</summary>
    public const string FileName = "attnlab_tokenizer.json";

    /// <summary>A tokenizer by name; <c>char</c> builds its vocabulary from <paramref name="corpus"/>.</summary>
    public static ITokenizer Create(string name, string? corpus = null) => name switch
    {
        "char" => CharTokenizer.FromCorpus(corpus ?? throw new ArgumentException("the char tokenizer needs the corpus text to build its vocabulary")),
        "gpt2" => new Gpt2Tokenizer(),
        "o200k" => new O200kTokenizer(),
        _ => throw new ArgumentException($"unknown tokenizer '{name}' (expected one of: {string.Join(", ", Names)})"),
    };

    /// <summary>The JSON that <see cref="Save"/> writes: <c>{"type": name, "vocab_size": V, "vocabulary": "…"}</c>
    /// (the vocabulary only for char, as one string of its characters in id order).</summary>
    public static string ToJson(ITokenizer tokenizer)
    {
        var o = new JsonObject { ["type"] = tokenizer.Name, ["vocab_size"] = tokenizer.VocabSize };
        if (tokenizer is CharTokenizer c)
        {
            var sb = new StringBuilder();
            foreach (var r in c.Vocabulary) sb.Append(r.ToString());
            o["vocabulary"] = sb.ToString();
        }
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    public static ITokenizer FromJson(string json)
    {
        JsonNode? node;
        try { node = JsonNode.Parse(json); }
        catch (JsonException e) { throw new InvalidDataException($"{FileName} is not valid JSON: {e.Message}"); }
        var type = node?["type"]?.GetValue<string>() ?? throw new InvalidDataException($"{FileName} has no \"type\"");
        ITokenizer t = type switch
        {
            "char" => new CharTokenizer((node["vocabulary"]?.GetValue<string>()
                ?? throw new InvalidDataException($"{FileName}: a char tokenizer needs \"vocabulary\"")).EnumerateRunes()),
            "gpt2" or "o200k" => Create(type),
            _ => throw new InvalidDataException($"{FileName}: unknown tokenizer type '{type}'"),
        };
        var declared = node["vocab_size"]?.GetValue<int>();
        if (declared is int v && v != t.VocabSize)
            throw new InvalidDataException($"{FileName}: vocab_size {v} does not match the {type} tokenizer's {t.VocabSize}");
        return t;
    }

    /// <summary>Writes <see cref="FileName"/> into <paramref name="directory"/>.</summary>
    public static void Save(ITokenizer tokenizer, string directory) =>
        File.WriteAllText(Path.Combine(directory, FileName), ToJson(tokenizer));

    /// <summary>Reads <see cref="FileName"/> from a model directory.</summary>
    public static ITokenizer Load(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{directory} has no {FileName} (was this model saved by attnlab? use --ids to give token ids directly)");
        return FromJson(File.ReadAllText(path));
    }

    /// <summary>True when the directory holds a tokenizer file.</summary>
    public static bool Exists(string directory) => File.Exists(Path.Combine(directory, FileName));
}
