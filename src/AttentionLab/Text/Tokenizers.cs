using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AttentionLab.IO;

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

    /// <summary>Tokenizer files larger than this are refused (a char vocabulary of every Unicode scalar is about 4.5 MB).</summary>
    public const long MaxFileBytes = 16 << 20;

    /// <summary>Parses what <see cref="ToJson"/> wrote. Total: any text gives a tokenizer or one <see cref="InvalidDataException"/>.</summary>
    public static ITokenizer FromJson(string json) => FromJson(Encoding.UTF8.GetBytes(json), FileName);

    private static ITokenizer FromJson(byte[] utf8, string what)
    {
        using var doc = InputFile.ParseJson(utf8, what);
        var o = new JsonFields(doc.RootElement, what);
        var type = o.OptionalString("type") ?? throw new InvalidDataException($"{what} has no \"type\"");
        ITokenizer t = type switch
        {
            "char" => CharVocabulary(o.OptionalString("vocabulary") ?? throw new InvalidDataException($"{what}: a char tokenizer needs \"vocabulary\""), what),
            "gpt2" or "o200k" => Create(type),
            _ => throw new InvalidDataException($"{what}: unknown tokenizer type '{type}' (expected one of: {string.Join(", ", Names)})"),
        };
        if (o.OptionalLong("vocab_size") is long v && v != t.VocabSize)
            throw new InvalidDataException($"{what}: vocab_size {v} does not match the {type} tokenizer's {t.VocabSize}");
        return t;
    }

    private static CharTokenizer CharVocabulary(string vocabulary, string what)
    {
        var runes = vocabulary.EnumerateRunes().ToList(); // the text has no lone surrogates (checked when read)
        if (runes.Count == 0) throw new InvalidDataException($"{what}: the char vocabulary is empty");
        var seen = new HashSet<Rune>();
        foreach (var r in runes)
            if (!seen.Add(r)) throw new InvalidDataException($"{what}: character {CharTokenizer.Describe(r)} appears twice in the vocabulary");
        return new CharTokenizer(runes);
    }

    /// <summary>Writes <see cref="FileName"/> into <paramref name="directory"/>.</summary>
    public static void Save(ITokenizer tokenizer, string directory) =>
        File.WriteAllText(Path.Combine(directory, FileName), ToJson(tokenizer));

    /// <summary>Reads <see cref="FileName"/> from a model directory.</summary>
    public static ITokenizer Load(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path) && !Directory.Exists(path))
            throw new FileNotFoundException($"{directory} has no {FileName} (was this model saved by attnlab? use --ids to give token ids directly)");
        return FromJson(InputFile.ReadAllBytes(path, MaxFileBytes, FileName), path);
    }

    /// <summary>True when the directory holds a tokenizer file.</summary>
    public static bool Exists(string directory) => File.Exists(Path.Combine(directory, FileName));
}
