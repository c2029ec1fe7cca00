using System.Text.Json;

namespace AttentionLab.IO;

/// <summary>
/// The ids that end generation, from a Hugging Face folder's <c>generation_config.json</c>: <c>eos_token_id</c> is
/// one id (SmolLM2, TinyLlama) or a list (Llama 3.1 Instruct: &lt;|end_of_text|&gt;, &lt;|eom_id|&gt;, &lt;|eot_id|&gt;;
/// Qwen2.5 Instruct: &lt;|im_end|&gt;, &lt;|endoftext|&gt;). Without the file, config.json's eos_token_id stands in,
/// as transformers' GenerationConfig.from_model_config does.
/// <code>
///   var stop = GenerationConfig.Read(dir);
///   if (stop.IsEndOfSequence(next)) break;
/// </code>
/// </summary>
public sealed record GenerationConfig
{
    /// <summary>The file inside a model folder.</summary>
    public const string FileName = "generation_config.json";

    /// <summary>The ids that stop generation (empty: none stops it).</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>bos_token_id, or null.</summary>
    public int? BosTokenId { get; init; }

    /// <summary>True when <paramref name="id"/> ends the sequence.</summary>
    public bool IsEndOfSequence(int id)
    {
        foreach (int e in EosTokenIds) if (e == id) return true;
        return false;
    }

    /// <summary>Reads generation_config.json in <paramref name="directory"/>; without it, the eos/bos ids of
    /// config.json when that is a Llama-family config; otherwise no stop ids.</summary>
    /// <exception cref="InvalidDataException">a damaged generation_config.json: one line that says which field</exception>
    public static GenerationConfig Read(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (File.Exists(path))
        {
            using var doc = InputFile.ParseJson(InputFile.ReadAllBytes(path, DecoderFolder.MaxConfigBytes, FileName), path);
            return Parse(doc.RootElement, path);
        }
        if (File.Exists(Path.Combine(directory, ModelFolder.ConfigFile)))
        {
            try
            {
                var hf = HfTransformerConfig.Read(directory);
                return new GenerationConfig { EosTokenIds = hf.EosTokenIds, BosTokenId = hf.BosTokenId };
            }
            catch (InvalidDataException) { /* not a Llama-family config.json: no stop ids from it */ }
        }
        return new GenerationConfig();
    }

    /// <summary>Reads a generation_config.json object; <paramref name="what"/> names it in messages.</summary>
    public static GenerationConfig Parse(JsonElement root, string what)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{what} is not a JSON object");
        var f = new JsonFields(root, what);
        return new GenerationConfig { EosTokenIds = ReadIds(f, "eos_token_id", what), BosTokenId = f.OptionalInt("bos_token_id", 0) };
    }

    /// <summary>One id, a list of ids, or null/absent for none.</summary>
    internal static IReadOnlyList<int> ReadIds(JsonFields f, string name, string what)
    {
        if (f.Get(name) is not JsonElement e || e.ValueKind == JsonValueKind.Null) return [];
        if (e.ValueKind == JsonValueKind.Number) return [f.RequiredInt(name, 0)];
        if (e.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{what}: '{name}' must be an id or a list of ids, got {InputFile.Describe(e)}");
        var ids = new List<int>();
        foreach (var item in e.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int id) || id < 0)
                throw new InvalidDataException($"{what}: '{name}' must hold non-negative integer ids, got {InputFile.Describe(item)}");
            ids.Add(id);
        }
        return ids;
    }
}
