using System.Text.Json;
using System.Text.Json.Nodes;
using AttentionLab.Attention;
using AttentionLab.Kernels;
using AttentionLab.Models;

namespace AttentionLab.IO;

/// <summary>
/// A decoder's model directory: a Llama-family folder (model_type llama, mistral, qwen2, qwen3) is read and written by
/// <see cref="LlamaFolder"/>, so every caller (generate, inspect, hooks, the Explorer, training) opens both. Otherwise
/// a Hugging Face GPT-2 model directory, as <c>GPT2LMHeadModel.save_pretrained</c> writes it: <c>config.json</c> and
/// <c>model.safetensors</c> with Conv1D weights stored (in_features, out_features) and <c>lm_head.weight</c> absent
/// (tied to <c>transformer.wte.weight</c>). Loading also accepts OpenAI-hub checkpoints whose names lack the
/// <c>transformer.</c> prefix and that carry the causal-mask buffers <c>attn.bias</c>/<c>attn.masked_bias</c>.
/// </summary>
public static class DecoderFolder
{
    public const string ConfigFileName = "config.json";
    public const string WeightsFileName = "model.safetensors";

    /// <summary>config.json files larger than this are refused (Hugging Face's are about 1 KB).</summary>
    public const long MaxConfigBytes = 1 << 20;

    /// <summary>Reads and checks <c>config.json</c>. Total: any file gives a config or one
    /// <see cref="InvalidDataException"/> (<see cref="FileNotFoundException"/> when it is missing).</summary>
    /// <exception cref="InvalidDataException">missing fields, a field of the wrong type, sizes no model can have, a model
    /// type other than gpt2, an activation other than GELU-tanh</exception>
    public static DecoderConfig ReadConfig(string directory)
    {
        string path = Path.Combine(directory, ConfigFileName);
        var bytes = InputFile.ReadAllBytes(path, MaxConfigBytes, ConfigFileName);
        using var doc = InputFile.ParseJson(bytes, path);
        var o = new JsonFields(doc.RootElement, path);
        string? modelType = o.OptionalString("model_type");
        if (modelType is not null && HfTransformerConfig.ModelTypes.Contains(modelType)) return LlamaFolder.ReadConfig(directory);
        if (modelType is not null && modelType != "gpt2") throw new InvalidDataException($"{path}: model_type '{modelType}' is not gpt2");
        string? activation = o.OptionalString("activation_function");
        if (activation is not null && activation is not ("gelu_new" or "gelu_pytorch_tanh" or "gelu_fast"))
            throw new InvalidDataException($"{path}: activation_function '{activation}' is not the tanh GELU this model implements");
        int vocab = o.RequiredInt("vocab_size", 1), context = o.RequiredInt("n_positions", 1), layers = o.RequiredInt("n_layer", 1);
        int channels = o.RequiredInt("n_embd", 1), heads = o.RequiredInt("n_head", 1);
        double epsilon = o.OptionalDouble("layer_norm_epsilon", double.Epsilon, 1) ?? 1e-5;
        // V·C + T·C + L·(12·C² + 13·C) + 2·C in floating point: the integer formula wraps for hostile sizes
        bool tied = o.OptionalBool("tie_word_embeddings") ?? true, outputBias = o.OptionalBool("attnlab_output_bias") ?? false;
        double c = channels, parameters = (double)vocab * c + (double)context * c + layers * (12 * c * c + 13 * c) + 2 * c
            + (tied ? 0 : (double)vocab * c) + (outputBias ? vocab : 0);
        if (parameters > Array.MaxLength)
            throw new InvalidDataException($"{path}: sizes (vocab {vocab}, n_positions {context}, n_layer {layers}, n_embd {channels}) give {parameters:G3} parameters, more than one array holds ({Array.MaxLength:N0})");
        if (o.OptionalLong("n_inner") is long inner && inner != 4L * channels)
            throw new InvalidDataException($"{path}: n_inner {inner} is not 4·n_embd = {4L * channels}");
        var config = new DecoderConfig
        {
            VocabSize = vocab, ContextLength = context, Layers = layers, Channels = channels, Heads = heads,
            LayerNormEpsilon = (float)epsilon,
            Attention = o.OptionalString("attnlab_attention") ?? AttentionKernels.DefaultName,
            IsCausal = o.OptionalBool("attnlab_causal") ?? true,
            Positions = OptionalPositions(o.OptionalString("attnlab_positions"), path),
            NormPlacement = OptionalPlacement(o.OptionalString("attnlab_norm_placement"), path),
            TiedOutput = tied, OutputBias = outputBias,
        };
        try { config.Validate(); }
        catch (ArgumentException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
        return config;
    }

    /// <summary>attnlab_norm_placement: "pre" (absent) or "post".</summary>
    private static NormPlacement OptionalPlacement(string? name, string path) => name switch
    {
        null or "pre" => NormPlacement.Pre,
        "post" => NormPlacement.Post,
        _ => throw new InvalidDataException($"{path}: attnlab_norm_placement must be \"pre\" or \"post\", got \"{(name.Length <= 20 ? name : name[..20] + "…")}\""),
    };

    private static PositionEncoding OptionalPositions(string? name, string path)
    {
        try { return name is null ? PositionEncoding.Learned : PositionEncodings.Parse(name); }
        catch (ArgumentException e) { throw new InvalidDataException($"{path}: attnlab_positions: {e.Message}", e); }
    }

    /// <summary>Loads a model: config, then every parameter by name, checking each shape against the config.</summary>
    /// <param name="attention">the kernel to run with; null means the one config.json names (<c>attnlab_attention</c>)</param>
    /// <param name="training">true loads for training (a gradient arena as large as the weights, saved attention
    /// state); the default, false, loads for inference (generate, inspect, the Explorer, hooks) and allocates no gradients</param>
    /// <exception cref="InvalidDataException">a malformed file, a missing or unexpected tensor, a shape that does not match</exception>
    /// <param name="format">how to hold the streamed matrices (block linears, token table, an untied head) for inference:
    /// null means the folder's own dtype (<see cref="WeightFormat.BF16"/> for a BF16 folder, which then loads without
    /// any float32 copy of those matrices); a float32 folder loaded as BF16/F16 is rounded tensor by tensor. Training
    /// always loads float32.</param>
    public static DecoderModel Load(string directory, IAttentionKernel? attention = null, bool training = false, WeightFormat? format = null)
    {
        var config = ReadConfig(directory);
        if (LlamaStateDict.IsLlamaFamily(config))
        {
            // its own names and layout ((out, in) Linears, q/k/v stored apart): read as float32, then rounded, so a 16-bit
            // Llama-family folder passes through one transient float32 copy (GPT-2 folders adopt their 16-bit bits)
            var llama = LlamaFolder.Load(directory, attention, training);
            var want = training ? WeightFormat.F32 : format ?? ReadWeightFormat(directory);
            return want == WeightFormat.F32 ? llama : llama.WithWeightFormat(want);
        }
        string path = Path.Combine(directory, WeightsFileName);
        // read the file (its real size bounds what that allocates) and match it against the layout before allocating
        // the arena that config.json asks for; 16-bit tensors stay 16-bit unless float32 is wanted
        bool keep16Bit = !training && format != WeightFormat.F32;
        var (tensors, _) = SafeTensors.Read(path, keep16Bit);
        var layout = new DecoderLayout(config);
        var matched = new List<(ParameterView View, SafeTensor Tensor)>();
        var seen = new HashSet<string>();
        foreach (var (rawName, tensor) in tensors)
        {
            string name = rawName.StartsWith("transformer.", StringComparison.Ordinal) ? rawName : "transformer." + rawName;
            if (IsBuffer(name)) continue;
            if (rawName.StartsWith("lm_head.", StringComparison.Ordinal)) name = rawName;                  // the head is not under transformer.
            if (config.TiedOutput && name == "lm_head.weight") continue;                                    // tied: the same values as wte
            if (!layout.TryGet(name, out var view))
                throw new InvalidDataException($"{path}: unexpected tensor '{rawName}' for a GPT-2 with {config.Layers} layers");
            if (!tensor.Shape.SequenceEqual(view.Shape))
                throw new InvalidDataException($"{path}: tensor '{rawName}' has shape [{string.Join(", ", tensor.Shape)}] but config.json implies [{string.Join(", ", view.Shape)}]");
            if (!seen.Add(name)) throw new InvalidDataException($"{path}: tensor '{name}' appears twice");
            matched.Add((view, tensor));
        }
        var missing = layout.All.Where(v => !seen.Contains(v.Name)).Select(v => v.Name).ToList();
        if (missing.Count > 0) throw new InvalidDataException($"{path}: missing tensors: {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", …" : "")}");
        var streamed = WeightStore.StreamedViews(layout).ToHashSet();
        var target = training ? WeightFormat.F32 : format ?? FolderFormat(matched.Where(m => streamed.Contains(m.View)).Select(m => m.Tensor));
        if (target == WeightFormat.F32)
        {
            var model = new DecoderModel(config, attention, training);
            foreach (var (view, tensor) in matched) Values(tensor).CopyTo(model.Parameters[model.Layout[view.Name]]);
            return model;
        }
        var store = new WeightStore(target);
        foreach (var (view, tensor) in matched)
        {
            if (!streamed.Contains(view)) continue;
            try
            {
                store.Add(view, tensor.Bits is { } bits && WeightFormats.FromSafeTensors(tensor.DType) == target
                    ? new HalfMatrix(target, bits, view.Shape[0], view.Shape[1])                    // adopted as read: no copy
                    : WeightMatrices.FromSingle(Values(tensor), target, view.Shape[0], view.Shape[1]));
            }
            catch (Exception e) when (e is OverflowException or ArgumentException) { throw new InvalidDataException($"{path}: tensor '{tensor.Name}' does not fit {target.Name()}: {e.Message}", e); }
        }
        var half = DecoderModel.ForInference(config, attention, store);
        foreach (var (view, tensor) in matched)
            if (!streamed.Contains(view)) Values(tensor).CopyTo(half.Parameters[view]);
        return half;
    }

    /// <summary>A tensor's values as float32 (16-bit ones widened).</summary>
    private static float[] Values(SafeTensor tensor)
    {
        if (tensor.Bits is null) return tensor.Data;
        var values = new float[tensor.Bits.Length];
        HalfConversion.Widen(tensor.Bits, WeightFormats.FromSafeTensors(tensor.DType), values);
        return values;
    }

    /// <summary>The folder's dtype: BF16 or F16 when every streamed matrix is stored so, else F32.</summary>
    private static WeightFormat FolderFormat(IEnumerable<SafeTensor> streamed)
    {
        var dtypes = streamed.Select(t => t.DType).Distinct().ToList();
        return dtypes.Count == 1 && dtypes[0] is "BF16" or "F16" ? WeightFormats.FromSafeTensors(dtypes[0]) : WeightFormat.F32;
    }

    /// <summary>The dtype of the streamed matrices in a model directory's weights (F32, BF16, F16), read from the
    /// safetensors header alone: what <see cref="Load"/> holds them as when no format is given.</summary>
    public static WeightFormat ReadWeightFormat(string directory)
    {
        var config = ReadConfig(directory);
        List<string> dtypes;
        if (LlamaStateDict.IsLlamaFamily(config))                                                     // every matrix, every shard
        {
            using var files = CheckpointFiles.Open(directory);
            dtypes = files.Names.Select(files.Entry).Where(e => e.Shape.Length == 2).Select(e => e.DType).Distinct().ToList();
        }
        else
        {
            var header = SafeTensors.ReadHeader(Path.Combine(directory, WeightsFileName)).Entries;
            var streamed = WeightStore.StreamedViews(new DecoderLayout(config)).Select(v => v.Name).ToHashSet();
            dtypes = header
                .Where(e => streamed.Contains(e.Name.StartsWith("transformer.", StringComparison.Ordinal) || e.Name.StartsWith("lm_head.", StringComparison.Ordinal) ? e.Name : "transformer." + e.Name))
                .Select(e => e.DType).Distinct().ToList();
        }
        return dtypes.Count == 1 && dtypes[0] is "BF16" or "F16" ? WeightFormats.FromSafeTensors(dtypes[0]) : WeightFormat.F32;
    }

    /// <summary>
    /// Saves <paramref name="model"/> as a Hugging Face GPT-2 directory (creating it). Atomic per file: each file is
    /// written to a temporary name in the target directory, flushed to disk, then renamed over the final name, so a
    /// crash never leaves a half-written model. Refuses to replace an existing model unless <paramref name="force"/>.
    /// </summary>
    /// <exception cref="IOException">the directory already holds a model and force is false</exception>
    public static void Save(DecoderModel model, string directory, bool force = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.WeightFormat == WeightFormat.Q8_0)
            throw new ArgumentException("q8_0 weights are quantized for inference and have no safetensors dtype; save the float32, bf16 or f16 model they came from");
        if (LlamaStateDict.IsLlamaFamily(model.Config))
        {
            // LlamaFolder writes float32 from the arena: a 16-bit model is widened first (its values exactly)
            LlamaFolder.Save(model.Weights16 is null ? model : model.WithWeightFormat(WeightFormat.F32), directory, force);
            return;
        }
        if (!model.Config.IsGpt2Architecture && !(model.Config with { Positions = PositionEncoding.Learned }).IsGpt2Architecture)
            throw new ArgumentException("this model's choices (norm, MLP, key/value heads, biases) have no GPT-2 folder format");
        Directory.CreateDirectory(directory);
        string configPath = Path.Combine(directory, ConfigFileName);
        string weightsPath = Path.Combine(directory, WeightsFileName);
        if (!force && (File.Exists(configPath) || File.Exists(weightsPath)))
            throw new IOException($"'{directory}' already holds a model; pass force to overwrite it");

        var p = model.Parameters;
        // HF's own writer sorts tensors by name; the reader does not care, so arena order is kept. A 16-bit model's
        // streamed matrices are written in its format (a BF16 model saved here stays BF16), the rest float32.
        var tensors = model.Layout.All.Select(v => model.Weights16?.Find(v) is HalfMatrix half
            ? TensorToWrite.Half(v.Name, v.Shape, half.Bits, half.Format)
            : TensorToWrite.F32(v.Name, v.Shape, p.Data.AsMemory(v.Offset, v.Length)));
        DurableFile.Replace(weightsPath, s => SafeTensors.Write(s, tensors, new Dictionary<string, string> { ["format"] = "pt" }));
        DurableFile.Replace(configPath, s =>
        {
            var json = ConfigJson(model.Config);
            json["torch_dtype"] = model.WeightFormat.TorchDType();
            var bytes = JsonSerializer.SerializeToUtf8Bytes(json, new JsonSerializerOptions { WriteIndented = true });
            s.Write(bytes);
        });
    }

    /// <summary>The config.json object Hugging Face transformers reads for this config (with <c>attnlab_positions</c>
    /// only when the positions are not GPT-2's learned table; a Llama-family config's is <see cref="LlamaFolder.ConfigJson"/>).</summary>
    public static JsonObject ConfigJson(DecoderConfig c)
    {
        if (LlamaStateDict.IsLlamaFamily(c)) return LlamaFolder.ConfigJson(c);           // what its folder's config.json holds
        var json = GptConfigJson(c);
        if (c.Positions != PositionEncoding.Learned) json["attnlab_positions"] = PositionEncodings.Name(c.Positions);
        if (c.NormPlacement == NormPlacement.Post) json["attnlab_norm_placement"] = "post";
        if (!c.TiedOutput) json["tie_word_embeddings"] = false;
        if (c.OutputBias) json["attnlab_output_bias"] = true;
        return json;
    }

    private static JsonObject GptConfigJson(DecoderConfig c) => new()
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
}
