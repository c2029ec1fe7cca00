using System.Text.Json;
using System.Text.Json.Nodes;
using AttentionLab.Attention;
using AttentionLab.Models;

namespace AttentionLab.IO;

/// <summary>
/// A Hugging Face GPT-2 model directory, as <c>GPT2LMHeadModel.save_pretrained</c> writes it: <c>config.json</c> and
/// <c>model.safetensors</c> with Conv1D weights stored (in_features, out_features) and <c>lm_head.weight</c> absent
/// (tied to <c>transformer.wte.weight</c>). Loading also accepts OpenAI-hub checkpoints whose names lack the
/// <c>transformer.</c> prefix and that carry the causal-mask buffers <c>attn.bias</c>/<c>attn.masked_bias</c>.
/// </summary>
public static class Gpt2ModelDirectory
{
    public const string ConfigFileName = "config.json";
    public const string WeightsFileName = "model.safetensors";

    /// <summary>Reads and checks <c>config.json</c>.</summary>
    /// <exception cref="InvalidDataException">missing fields, a model type other than gpt2, an activation other than GELU-tanh</exception>
    public static Gpt2Config ReadConfig(string directory)
    {
        string path = Path.Combine(directory, ConfigFileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"no {ConfigFileName} in '{directory}'", path);
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e); }
        if (root is not JsonObject o) throw new InvalidDataException($"{path}: not a JSON object");
        string? modelType = (string?)o["model_type"];
        if (modelType is not null && modelType != "gpt2") throw new InvalidDataException($"{path}: model_type '{modelType}' is not gpt2");
        string? activation = (string?)o["activation_function"];
        if (activation is not null && activation is not ("gelu_new" or "gelu_pytorch_tanh" or "gelu_fast"))
            throw new InvalidDataException($"{path}: activation_function '{activation}' is not the tanh GELU this model implements");
        if (o["tie_word_embeddings"] is JsonNode tie && !(bool)tie!)
            throw new InvalidDataException($"{path}: tie_word_embeddings false is not supported (the head is tied to wte)");
        int Required(string name)
        {
            var node = o[name] ?? throw new InvalidDataException($"{path}: missing '{name}'");
            try { return (int)node; }
            catch (Exception e) when (e is FormatException or InvalidOperationException) { throw new InvalidDataException($"{path}: '{name}' is not an integer", e); }
        }
        var config = new Gpt2Config
        {
            VocabSize = Required("vocab_size"),
            ContextLength = Required("n_positions"),
            Layers = Required("n_layer"),
            Channels = Required("n_embd"),
            Heads = Required("n_head"),
            LayerNormEpsilon = o["layer_norm_epsilon"] is JsonNode eps ? (float)(double)eps! : 1e-5f,
            Attention = OptionalString(o, "attnlab_attention", path) ?? AttentionKernels.DefaultName,
            IsCausal = OptionalBool(o, "attnlab_causal", path) ?? true,
            Positions = OptionalPositions(o, path),
        };
        if (o["n_inner"] is JsonNode inner && (int)inner! != 4 * config.Channels)
            throw new InvalidDataException($"{path}: n_inner {(int)inner!} is not 4·n_embd = {4 * config.Channels}");
        try { config.Validate(); }
        catch (ArgumentException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
        return config;
    }

    private static string? OptionalString(JsonObject o, string key, string path) => o[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out string? text) => text,
        _ => throw new InvalidDataException($"{path}: '{key}' must be a string"),
    };

    private static PositionEncoding OptionalPositions(JsonObject o, string path)
    {
        var name = OptionalString(o, "attnlab_positions", path);
        try { return name is null ? PositionEncoding.Learned : PositionEncodings.Parse(name); }
        catch (ArgumentException e) { throw new InvalidDataException($"{path}: attnlab_positions: {e.Message}", e); }
    }

    private static bool? OptionalBool(JsonObject o, string key, string path) => o[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out bool flag) => flag,
        _ => throw new InvalidDataException($"{path}: '{key}' must be true or false"),
    };

    /// <summary>Loads a model: config, then every parameter by name, checking each shape against the config.</summary>
    /// <param name="attention">the kernel to run with; null means the one config.json names (<c>attnlab_attention</c>)</param>
    /// <param name="training">false loads for inference (generate, inspect, the Explorer): no gradient arena</param>
    /// <exception cref="InvalidDataException">a malformed file, a missing or unexpected tensor, a shape that does not match</exception>
    public static Gpt2Model Load(string directory, IAttentionKernel? attention = null, bool training = true)
    {
        var config = ReadConfig(directory);
        var model = new Gpt2Model(config, attention, training);
        string path = Path.Combine(directory, WeightsFileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"no {WeightsFileName} in '{directory}'", path);
        var (tensors, _) = SafeTensors.Read(path);
        var seen = new HashSet<string>();
        foreach (var (rawName, tensor) in tensors)
        {
            string name = rawName.StartsWith("transformer.", StringComparison.Ordinal) ? rawName : "transformer." + rawName;
            if (IsBuffer(name)) continue;
            if (name == "transformer.lm_head.weight" || rawName == "lm_head.weight") continue; // tied: the same values as wte
            if (!model.Layout.TryGet(name, out var view))
                throw new InvalidDataException($"{path}: unexpected tensor '{rawName}' for a GPT-2 with {config.Layers} layers");
            if (!tensor.Shape.SequenceEqual(view.Shape))
                throw new InvalidDataException($"{path}: tensor '{rawName}' has shape [{string.Join(", ", tensor.Shape)}] but config.json implies [{string.Join(", ", view.Shape)}]");
            if (!seen.Add(name)) throw new InvalidDataException($"{path}: tensor '{name}' appears twice");
            tensor.Data.CopyTo(model.Parameters[view]);
        }
        var missing = model.Layout.All.Where(v => !seen.Contains(v.Name)).Select(v => v.Name).ToList();
        if (missing.Count > 0) throw new InvalidDataException($"{path}: missing tensors: {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", …" : "")}");
        return model;
    }

    /// <summary>
    /// Saves <paramref name="model"/> as a Hugging Face GPT-2 directory (creating it). Atomic per file: each file is
    /// written to a temporary name in the target directory, flushed to disk, then renamed over the final name, so a
    /// crash never leaves a half-written model. Refuses to replace an existing model unless <paramref name="force"/>.
    /// </summary>
    /// <exception cref="IOException">the directory already holds a model and force is false</exception>
    public static void Save(Gpt2Model model, string directory, bool force = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        Directory.CreateDirectory(directory);
        string configPath = Path.Combine(directory, ConfigFileName);
        string weightsPath = Path.Combine(directory, WeightsFileName);
        if (!force && (File.Exists(configPath) || File.Exists(weightsPath)))
            throw new IOException($"'{directory}' already holds a model; pass force to overwrite it");

        var p = model.Parameters;
        // HF's own writer sorts tensors by name; the reader does not care, so arena order is kept
        var tensors = model.Layout.All.Select(v => (v.Name, v.Shape, (ReadOnlyMemory<float>)p.Data.AsMemory(v.Offset, v.Length)));
        WriteAtomically(weightsPath, s => SafeTensors.Write(s, tensors, new Dictionary<string, string> { ["format"] = "pt" }));
        WriteAtomically(configPath, s =>
        {
            var bytes = JsonSerializer.SerializeToUtf8Bytes(ConfigJson(model.Config), new JsonSerializerOptions { WriteIndented = true });
            s.Write(bytes);
        });
    }

    /// <summary>The config.json object Hugging Face transformers reads for this config (with <c>attnlab_positions</c>
    /// only when the positions are not GPT-2's learned table).</summary>
    public static JsonObject ConfigJson(Gpt2Config c)
    {
        var json = GptConfigJson(c);
        if (c.Positions != PositionEncoding.Learned) json["attnlab_positions"] = PositionEncodings.Name(c.Positions);
        return json;
    }

    private static JsonObject GptConfigJson(Gpt2Config c) => new()
    {
        ["activation_function"] = "gelu_new",
        ["architectures"] = new JsonArray("GPT2LMHeadModel"),
        ["attn_pdrop"] = 0.0,
        ["bos_token_id"] = c.VocabSize == 50257 ? 50256 : 0,
        ["embd_pdrop"] = 0.0,
        ["eos_token_id"] = c.VocabSize == 50257 ? 50256 : 0,
        ["initializer_range"] = 0.02,
        ["layer_norm_epsilon"] = c.LayerNormEpsilon,
        ["model_type"] = "gpt2",
        ["n_embd"] = c.Channels,
        ["n_head"] = c.Heads,
        ["n_inner"] = null,
        ["n_layer"] = c.Layers,
        ["n_positions"] = c.ContextLength,
        ["resid_pdrop"] = 0.0,
        ["scale_attn_by_inverse_layer_idx"] = false,
        ["scale_attn_weights"] = true,
        ["tie_word_embeddings"] = true,
        ["torch_dtype"] = "float32",
        ["vocab_size"] = c.VocabSize,
        // AttentionLab's own keys (transformers keeps unknown keys as attributes and ignores them)
        ["attnlab_attention"] = c.Attention,
        ["attnlab_causal"] = c.IsCausal,
    };

    private static bool IsBuffer(string name) =>
        name.EndsWith(".attn.bias", StringComparison.Ordinal) || name.EndsWith(".attn.masked_bias", StringComparison.Ordinal);

    private static void WriteAtomically(string path, Action<Stream> write)
    {
        string temp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }
}
