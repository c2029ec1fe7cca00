using System.Text.Json;
using System.Text.Json.Nodes;
using AttentionLab.Training;

namespace AttentionLab.IO;

/// <summary>
/// A saved model as a folder, the Hugging Face way: <c>config.json</c> (with a <c>"model_type"</c> such as
/// "seq2seq", "bert" or "vit" and every size needed to rebuild the model) and <c>model.safetensors</c> (every
/// parameter by its state_dict name, F32). Writing goes to a staging folder first and is moved into place at
/// the end, so an interrupted save never leaves a half-written file.
/// </summary>
public static class ModelFolder
{
    public const string ConfigFile = "config.json";
    public const string WeightsFile = "model.safetensors";

    /// <summary>Options for config files: snake_case names (as Hugging Face configs), indented.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    /// <summary>True when <paramref name="directory"/> holds a config.json and a model.safetensors (or a sharded
    /// checkpoint's model.safetensors.index.json).</summary>
    public static bool Exists(string directory) =>
        File.Exists(Path.Combine(directory, ConfigFile)) &&
        (File.Exists(Path.Combine(directory, WeightsFile)) || File.Exists(Path.Combine(directory, CheckpointFiles.IndexFile)));

    /// <summary>The <c>model_type</c> of a saved model, or null when there is no readable config.</summary>
    public static string? ModelType(string directory)
    {
        try
        {
            var node = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, ConfigFile)));
            return node?["model_type"]?.GetValue<string>();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    /// <summary>Where <see cref="SaveTensors"/> writes before it moves the files into place (inside the model folder).</summary>
    public const string StagingDirectory = ".attnlab-saving";

    /// <summary>
    /// Writes config.json and model.safetensors into <paramref name="directory"/> (created, or replaced); other files
    /// there are left alone. Both files are first written completely and fsynced into <see cref="StagingDirectory"/>
    /// inside it, then renamed over their final names and the folder fsynced, so a failure or a kill never leaves a
    /// half-written file (a killed save leaves the staging folder, which the next save deletes).
    /// </summary>
    /// <param name="config">the config object; <paramref name="modelType"/> is added as "model_type"</param>
    /// <param name="tensors">named tensors (a model of the one stack converts its arena views to its folder's
    /// state-dict names and layout first)</param>
    public static void SaveTensors(string directory, string modelType, JsonObject config, IEnumerable<(string Name, int[] Shape, ReadOnlyMemory<float> Data)> tensors)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tensors);
        var full = Path.GetFullPath(directory);
        Directory.CreateDirectory(full);
        var staging = Path.Combine(full, StagingDirectory);
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        try
        {
            var withType = new JsonObject { ["model_type"] = modelType };
            foreach (var (k, v) in config) withType[k] = v?.DeepClone();
            DurableFile.Write(Path.Combine(staging, ConfigFile), s => s.Write(System.Text.Encoding.UTF8.GetBytes(withType.ToJsonString(JsonOptions) + "\n")));
            DurableFile.Write(Path.Combine(staging, WeightsFile), s =>
                SafeTensors.Write(s, tensors,
                    new Dictionary<string, string> { ["format"] = "pt", ["model_type"] = modelType }));
            foreach (var file in new[] { ConfigFile, WeightsFile })
                File.Move(Path.Combine(staging, file), Path.Combine(full, file), overwrite: true);
            DurableFile.SyncDirectory(full);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>Reads config.json, checking its model_type.</summary>
    /// <exception cref="InvalidDataException">missing or unreadable files, or another model type</exception>
    public static JsonObject ReadConfig(string directory, string modelType)
    {
        if (!Directory.Exists(directory)) throw new InvalidDataException($"{directory} is not a directory");
        var path = Path.Combine(directory, ConfigFile);
        if (!File.Exists(path)) throw new InvalidDataException($"{directory} has no {ConfigFile}; it is not a saved model");
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e); }
        if (node is not JsonObject o) throw new InvalidDataException($"{path} is not a JSON object");
        string? type = null;
        try { type = o["model_type"]?.GetValue<string>(); } catch (InvalidOperationException) { }
        if (type != modelType)
            throw new InvalidDataException($"{directory} holds a '{type ?? "unknown"}' model, not a '{modelType}' model");
        return o;
    }

    /// <summary>A config record from its JSON object (snake_case names).</summary>
    public static T Deserialize<T>(JsonObject config, string directory)
    {
        try { return config.Deserialize<T>(JsonOptions) ?? throw new InvalidDataException($"{directory}/{ConfigFile} is empty"); }
        catch (JsonException e) { throw new InvalidDataException($"{directory}/{ConfigFile}: {e.Message}", e); }
    }

    /// <summary>A config record as a JSON object (snake_case names).</summary>
    public static JsonObject Serialize<T>(T config) => (JsonObject)JsonSerializer.SerializeToNode(config, JsonOptions)!;

    /// <summary>
    /// Every tensor of model.safetensors by name, checked against <paramref name="expected"/>: each expected name
    /// present with its shape, and no other tensor.
    /// </summary>
    /// <param name="expected">the state_dict names and shapes the config needs</param>
    /// <exception cref="InvalidDataException">a missing, unexpected or mis-shaped tensor</exception>
    public static IReadOnlyDictionary<string, float[]> ReadWeights(string directory, IReadOnlyList<(string Name, int[] Shape)> expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        var path = Path.Combine(directory, WeightsFile);
        if (!File.Exists(path)) throw new InvalidDataException($"{directory} has no {WeightsFile}");
        var (tensors, _) = SafeTensors.Read(path);
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var (name, shape) in expected)
        {
            if (!tensors.TryGetValue(name, out var t)) throw new InvalidDataException($"{path} has no tensor '{name}'");
            if (!t.Shape.AsSpan().SequenceEqual(shape))
                throw new InvalidDataException($"{path}: tensor '{name}' is [{string.Join(", ", t.Shape)}] but the config needs [{string.Join(", ", shape)}]");
            result[name] = t.Data;
        }
        foreach (var name in tensors.Keys)
            if (!result.ContainsKey(name)) throw new InvalidDataException($"{path} has a tensor '{name}' that this model does not use");
        return result;
    }
}
