using System.Text.Json.Nodes;
using AttentionLab.Attention;
using AttentionLab.Models;

namespace AttentionLab.IO;

/// <summary>
/// A Hugging Face folder of the Llama family — <c>LlamaForCausalLM</c>, <c>MistralForCausalLM</c>,
/// <c>Qwen2ForCausalLM</c>, <c>Qwen3ForCausalLM</c> — as <c>save_pretrained</c> writes it: <c>config.json</c> and
/// <c>model.safetensors</c> or sharded <c>model-0000k-of-0000n.safetensors</c> with <c>model.safetensors.index.json</c> (F32, F16 or BF16; nn.Linear weights (out, in); a tied <c>lm_head</c> not stored). The
/// model runs on the one stack (<see cref="DecoderModel"/>) with the choices the config names; the names are mapped by
/// <see cref="LlamaStateDict"/>. A model trained here saves in the same layout (F32) and reloads.
/// <code>
///   var model = LlamaFolder.Load("SmolLM2-135M");           // inference: no gradient arena
///   LlamaFolder.Save(model, "runs/my-llama");               // config.json (model_type llama) + model.safetensors
/// </code>
/// </summary>
public static class LlamaFolder
{
    /// <summary>The one-stack config of a Hugging Face Llama-family config: RMSNorm, SwiGLU, rotary positions and the
    /// file's sizes, key/value heads, head size, biases, q/k norms and sliding window. Mistral's window, when shorter
    /// than the context, picks the <c>window:W</c> kernel (exact kernels apply the same mask).</summary>
    public static DecoderConfig ToConfig(HfTransformerConfig hf)
    {
        ArgumentNullException.ThrowIfNull(hf);
        int? window = hf.SlidingWindow is int w && w < hf.ContextLength ? w : null;
        var config = new DecoderConfig
        {
            VocabSize = hf.VocabSize, ContextLength = hf.ContextLength, Layers = hf.Layers, Channels = hf.Channels,
            Heads = hf.Heads, KeyValueHeads = hf.KeyValueHeads, HeadDim = hf.HeadDim, IntermediateSize = hf.IntermediateSize,
            LayerNormEpsilon = (float)hf.RmsNormEpsilon, Norm = NormKind.RmsNorm, Activation = MlpActivation.SwiGlu,
            Positions = PositionEncoding.Rotary, RopeTheta = hf.RopeTheta, RopeScaling = hf.RopeScaling,
            TiedOutput = hf.TiedOutput, QkvBias = hf.QkvBias, OutputProjectionBias = hf.OutputProjectionBias, MlpBias = hf.MlpBias,
            QkNorm = hf.QkNorm, SlidingWindow = window,
            Attention = window is int ww ? $"window:{ww}" : AttentionKernels.DefaultName,
        };
        return config;
    }

    /// <summary>Reads config.json as a one-stack config.</summary>
    /// <exception cref="InvalidDataException">a damaged or unsupported config: one line</exception>
    public static DecoderConfig ReadConfig(string directory)
    {
        var hf = HfTransformerConfig.Read(directory);
        var config = ToConfig(hf);
        if (ReadAttention(directory) is string kernel) config = config with { Attention = kernel };
        try { config.Validate(); }
        catch (ArgumentException e) { throw new InvalidDataException($"{Path.Combine(directory, ModelFolder.ConfigFile)}: {e.Message}", e); }
        return config;
    }

    /// <summary>The kernel a model trained here was saved with (<c>attnlab_attention</c>), or null.</summary>
    private static string? ReadAttention(string directory)
    {
        var path = Path.Combine(directory, ModelFolder.ConfigFile);
        using var doc = InputFile.ParseJson(InputFile.ReadAllBytes(path, DecoderFolder.MaxConfigBytes, ModelFolder.ConfigFile), path);
        return new JsonFields(doc.RootElement, path).OptionalString("attnlab_attention");
    }

    /// <summary>Loads the folder: config, then every tensor by its Hugging Face name from <c>model.safetensors</c> or
    /// the shards of <c>model.safetensors.index.json</c> (<see cref="CheckpointFiles"/>). Every name and shape is
    /// checked against the config from the headers alone, and a folder whose weights and working set exceed the
    /// available memory is refused (<see cref="CheckpointFiles.EnsureFits"/>), before the arena is allocated; the
    /// tensors are then copied into it one at a time. A tied model's stored <c>lm_head.weight</c> and old checkpoints'
    /// <c>rotary_emb.inv_freq</c> buffers are skipped (both are derived).</summary>
    /// <param name="attention">the kernel to run with; null: the config's</param>
    /// <param name="training">true: with gradients (fine-tuning); false: for inference</param>
    /// <exception cref="InvalidDataException">a malformed file, a missing, unexpected or mis-shaped tensor</exception>
    /// <exception cref="ModelTooLargeException">the folder does not fit this machine's memory</exception>
    public static DecoderModel Load(string directory, IAttentionKernel? attention = null, bool training = false)
    {
        var config = ReadConfig(directory);
        using var files = CheckpointFiles.Open(directory);
        string path = files.IsSharded ? Path.Combine(directory, CheckpointFiles.IndexFile) : Path.Combine(directory, ModelFolder.WeightsFile);
        var map = LlamaStateDict.For(new DecoderLayout(config));
        var used = new List<string>();
        foreach (var name in files.Names)
        {
            if (name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal)) continue;
            if (config.TiedOutput && name == "lm_head.weight") continue;
            StateDictEntry entry;
            try { entry = map[name]; }
            catch (KeyNotFoundException) { throw new InvalidDataException($"{path}: unexpected tensor '{name}' for this {config.Layers}-layer model"); }
            var shape = files.Entry(name).Shape;
            if (!shape.AsSpan().SequenceEqual(entry.Shape))
                throw new InvalidDataException($"{path}: tensor '{name}' has shape [{string.Join(", ", shape)}] but config.json implies [{string.Join(", ", entry.Shape)}]");
            used.Add(name);
        }
        var missing = map.Names.Except(used, StringComparer.Ordinal).ToList();
        if (missing.Count > 0) throw new InvalidDataException($"{path}: missing tensors: {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", …" : "")}");
        files.EnsureFits();
        var model = new DecoderModel(config, attention, training);
        var target = LlamaStateDict.For(model.Layout);
        foreach (var name in used) target.Write(name, files.Read(name), model.Parameters.Data);
        return model;
    }

    /// <summary>Saves <paramref name="model"/> as a Hugging Face folder of its model_type (float32), atomically per
    /// file (<see cref="ModelFolder.SaveTensors"/>); refuses a folder that already holds a model unless
    /// <paramref name="force"/>.</summary>
    /// <exception cref="IOException">the folder holds a model and force is false</exception>
    public static void Save(DecoderModel model, string directory, bool force = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!force && ModelFolder.Exists(directory))
            throw new IOException($"'{directory}' already holds a model; pass force to overwrite it");
        var map = LlamaStateDict.For(model.Layout);
        var config = ConfigJson(model.Config);
        string type = (string)config["model_type"]!;
        config.Remove("model_type");
        ModelFolder.SaveTensors(directory, type, config, map.Export(model.Parameters.Data));
    }

    /// <summary>The model_type whose Hugging Face class computes exactly this config: qwen3 (q/k norms), mistral
    /// (a sliding window), qwen2 (q/k/v biases without an o bias), else llama.</summary>
    public static string ModelType(DecoderConfig c) =>
        c.QkNorm ? "qwen3" : c.SlidingWindow is not null ? "mistral" : c.QkvBias && !c.OutputProjectionBias && !c.MlpBias ? "qwen2" : "llama";

    /// <summary>The config.json Hugging Face transformers reads for this config (plus <c>attnlab_attention</c>).</summary>
    /// <exception cref="ArgumentException">choices no Llama-family class has (e.g. biases Llama cannot express)</exception>
    public static JsonObject ConfigJson(DecoderConfig c)
    {
        ArgumentNullException.ThrowIfNull(c);
        if (!LlamaStateDict.IsLlamaFamily(c)) throw new ArgumentException("not a Llama-family config (RMSNorm, SwiGLU, rotary positions)");
        string type = ModelType(c);
        bool expressible = type switch
        {
            "llama" => c.QkvBias == c.OutputProjectionBias,
            "qwen3" => c.QkvBias == c.OutputProjectionBias && !c.MlpBias,
            "mistral" => !c.QkvBias && !c.OutputProjectionBias && !c.MlpBias,
            _ => true,
        };
        if (!expressible) throw new ArgumentException($"these biases (q/k/v {c.QkvBias}, o {c.OutputProjectionBias}, MLP {c.MlpBias}) have no Hugging Face {type} config");
        string architecture = type switch { "qwen3" => "Qwen3ForCausalLM", "qwen2" => "Qwen2ForCausalLM", "mistral" => "MistralForCausalLM", _ => "LlamaForCausalLM" };
        var json = new JsonObject
        {
            ["model_type"] = type,
            ["architectures"] = new JsonArray(architecture),
            ["vocab_size"] = c.VocabSize,
            ["hidden_size"] = c.Channels,
            ["intermediate_size"] = c.IntermediateSize,
            ["num_hidden_layers"] = c.Layers,
            ["num_attention_heads"] = c.Heads,
            ["num_key_value_heads"] = c.KeyValueHeads,
            ["head_dim"] = c.HeadDim,
            ["max_position_embeddings"] = c.ContextLength,
            ["rms_norm_eps"] = (double)c.LayerNormEpsilon,
            ["rope_theta"] = c.RopeTheta,
            ["hidden_act"] = "silu",
            ["tie_word_embeddings"] = c.TiedOutput,
            ["torch_dtype"] = "float32",
            ["attnlab_attention"] = c.Attention,
        };
        if (type is "llama" or "qwen3") json["attention_bias"] = c.QkvBias;
        if (type == "llama") json["mlp_bias"] = c.MlpBias;
        if (c.SlidingWindow is int w) json["sliding_window"] = w;
        if (c.RopeScaling is { } s)
            json["rope_scaling"] = new JsonObject
            {
                ["rope_type"] = "llama3", ["factor"] = s.Factor, ["low_freq_factor"] = s.LowFrequencyFactor,
                ["high_freq_factor"] = s.HighFrequencyFactor, ["original_max_position_embeddings"] = s.OriginalContextLength,
            };
        return json;
    }
}
