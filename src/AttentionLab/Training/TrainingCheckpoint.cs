using System.Text.Json;
using System.Text.Json.Nodes;
using AttentionLab.Rendering;
using AttentionLab.Text;

namespace AttentionLab.Training;

/// <summary>
/// A training run's directory: the model in Hugging Face GPT-2 format (config.json, model.safetensors —
/// written by the model's own save), the tokenizer (<see cref="Tokenizers.FileName"/>), the training state
/// (<see cref="StateFile"/>: step, sampler state, options, loss history), the AdamW moments
/// (<see cref="OptimizerFile"/>) and the loss curve (<see cref="LossCurveFile"/>).
/// A save is staged in a sibling directory and swapped in with renames, so a crash leaves either the old
/// checkpoint or the new one, never half of each.
/// </summary>
public static class TrainingCheckpoint
{
    public const string StateFile = "training_state.json";
    public const string OptimizerFile = "optimizer.safetensors";
    public const string LossCurveFile = "loss_curve.svg";
    public const string Format = "attnlab-training-state/1";

    /// <summary>True when <paramref name="directory"/> already holds a model or a checkpoint (so writing there would overwrite it).</summary>
    public static bool HoldsModel(string directory) =>
        Directory.Exists(directory) &&
        new[] { "config.json", "model.safetensors", StateFile, OptimizerFile, Tokenizers.FileName }.Any(f => File.Exists(Path.Combine(directory, f)));

    /// <summary>What a run is, besides its state: saved so <c>--resume</c> needs no other arguments.</summary>
    /// <param name="Data">The training text file.</param>
    /// <param name="Model">The model's sizes as JSON (informational; config.json is authoritative).</param>
    /// <param name="DataFingerprint">Identifies the tokenized data, so a resume on different data is refused.</param>
    public sealed record RunInfo(string Data, TrainingOptions Options, JsonObject? Model = null, string? DataFingerprint = null);

    /// <summary>FNV-1a (64-bit) of the token ids and their count, as hex: equal data, equal fingerprint.</summary>
    public static string Fingerprint(ReadOnlySpan<int> tokens)
    {
        ulong h = 14695981039346656037UL;
        foreach (int t in tokens) { h ^= (uint)t; h *= 1099511628211UL; }
        return $"{tokens.Length}:{h:x16}";
    }

    /// <summary>Writes a complete checkpoint into <paramref name="directory"/>, replacing an earlier one there.</summary>
    /// <param name="writeModel">Writes the model files (config.json, model.safetensors) into the directory it is given.</param>
    public static void Save(string directory, Action<string> writeModel, ITokenizer tokenizer, RunInfo run, TrainingState state, AdamW optimizer, string title)
    {
        ArgumentNullException.ThrowIfNull(writeModel);
        var full = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar);
        var parent = Path.GetDirectoryName(full) ?? throw new ArgumentException($"cannot save into {directory}");
        Directory.CreateDirectory(parent);
        var staging = $"{full}.saving-{Environment.ProcessId}";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        try
        {
            writeModel(staging);
            Tokenizers.Save(tokenizer, staging);
            WriteOptimizer(Path.Combine(staging, OptimizerFile), optimizer);
            File.WriteAllText(Path.Combine(staging, LossCurveFile), LossCurveSvg.Render(
                state.TrainLosses.Select(p => (p.Step, p.Loss)).ToList(), state.ValidationLosses.Select(p => (p.Step, p.Loss)).ToList(), title, Math.Log(tokenizer.VocabSize)));
            File.WriteAllText(Path.Combine(staging, StateFile), StateJson(run, state, optimizer, tokenizer));
        }
        catch
        {
            Directory.Delete(staging, recursive: true);
            throw;
        }
        Swap(staging, full);
    }

    /// <summary>Moves the staged directory into place; files there that a checkpoint does not write are kept.</summary>
    private static void Swap(string staging, string target)
    {
        if (!Directory.Exists(target)) { Directory.Move(staging, target); return; }
        var previous = $"{target}.previous-{Environment.ProcessId}";
        if (Directory.Exists(previous)) Directory.Delete(previous, recursive: true);
        Directory.Move(target, previous);
        Directory.Move(staging, target);
        foreach (var entry in Directory.EnumerateFileSystemEntries(previous))
        {
            var name = Path.GetFileName(entry);
            var destination = Path.Combine(target, name);
            if (File.Exists(destination) || Directory.Exists(destination)) continue;
            if (Directory.Exists(entry)) Directory.Move(entry, destination); else File.Move(entry, destination);
        }
        Directory.Delete(previous, recursive: true);
    }

    private static string StateJson(RunInfo run, TrainingState state, AdamW optimizer, ITokenizer tokenizer)
    {
        var o = new JsonObject
        {
            ["format"] = Format,
            ["step"] = state.Step,
            ["sampler_state"] = state.SamplerState.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["optimizer_step"] = optimizer.StepCount,
            ["seconds"] = state.Seconds,
            ["tokens"] = state.Tokens,
            ["data"] = run.Data,
            ["data_fingerprint"] = run.DataFingerprint,
            ["tokenizer"] = tokenizer.Name,
            ["options"] = JsonSerializer.SerializeToNode(run.Options),
            ["model"] = run.Model?.DeepClone(),
            ["train_losses"] = new JsonArray(state.TrainLosses.Select(p => (JsonNode)new JsonArray(p.Step, p.Loss)).ToArray()),
            ["validation_losses"] = new JsonArray(state.ValidationLosses.Select(p => (JsonNode)new JsonArray(p.Step, p.Loss)).ToArray()),
        };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Reads <see cref="StateFile"/>: the run description and the state to continue from.</summary>
    public static (RunInfo Run, TrainingState State, int OptimizerStep) LoadState(string directory)
    {
        var path = Path.Combine(directory, StateFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{directory} has no {StateFile}; --resume needs a directory written by 'attnlab train'");
        try
        {
            var o = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            if ((string?)o["format"] != Format) throw new InvalidDataException($"{path} is not an {Format} file");
            var options = o["options"].Deserialize<TrainingOptions>() ?? throw new InvalidDataException($"{path} has no options");
            var state = new TrainingState
            {
                Step = (int)o["step"]!,
                SamplerState = ulong.Parse((string)o["sampler_state"]!, System.Globalization.CultureInfo.InvariantCulture),
                Seconds = (double)o["seconds"]!,
                Tokens = (long)o["tokens"]!,
                TrainLosses = o["train_losses"]!.AsArray().Select(p => new LossPoint((int)p![0]!, (double)p[1]!)).ToList(),
                ValidationLosses = o["validation_losses"]!.AsArray().Select(p => new LossPoint((int)p![0]!, (double)p[1]!)).ToList(),
            };
            var run = new RunInfo((string)o["data"]!, options, o["model"]?.DeepClone().AsObject(), (string?)o["data_fingerprint"]);
            return (run, state, (int)o["optimizer_step"]!);
        }
        catch (Exception e) when (e is JsonException or NullReferenceException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new InvalidDataException($"{path} is damaged or not an attnlab training state ({e.Message})");
        }
    }

    /// <summary>Restores the AdamW moments and step count saved in <see cref="OptimizerFile"/>.</summary>
    public static void LoadOptimizer(string directory, AdamW optimizer, int step)
    {
        var path = Path.Combine(directory, OptimizerFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{directory} has no {OptimizerFile}");
        var tensors = ReadSafetensors(path);
        if (!tensors.TryGetValue("exp_avg", out var m) || !tensors.TryGetValue("exp_avg_sq", out var v))
            throw new InvalidDataException($"{path} lacks exp_avg / exp_avg_sq");
        if (m.Length != optimizer.FirstMoment.Length || v.Length != optimizer.SecondMoment.Length)
            throw new InvalidDataException($"{path} holds moments for {m.Length} parameters, the model has {optimizer.FirstMoment.Length}");
        optimizer.Restore(m, v, step);
    }

    /// <summary>The AdamW moments as F32 tensors <c>exp_avg</c> and <c>exp_avg_sq</c> (PyTorch's names), step in the metadata.</summary>
    private static void WriteOptimizer(string path, AdamW optimizer)
    {
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        AttentionLab.IO.SafeTensors.Write(file,
            [("exp_avg", [optimizer.FirstMoment.Length], optimizer.FirstMoment),
             ("exp_avg_sq", [optimizer.SecondMoment.Length], optimizer.SecondMoment)],
            new Dictionary<string, string> { ["step"] = optimizer.StepCount.ToString(System.Globalization.CultureInfo.InvariantCulture) });
    }

    /// <summary>Optimizer tensors by name, read and checked by the shared safetensors reader.</summary>
    private static Dictionary<string, float[]> ReadSafetensors(string path) =>
        AttentionLab.IO.SafeTensors.Read(path).Tensors.ToDictionary(t => t.Key, t => t.Value.Data);
}
