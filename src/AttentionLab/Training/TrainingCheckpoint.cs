using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AttentionLab.IO;
using AttentionLab.Rendering;
using AttentionLab.Text;

namespace AttentionLab.Training;

/// <summary>
/// A training run's directory: the model in Hugging Face GPT-2 format (config.json, model.safetensors —
/// written by the model's own save), the tokenizer (<see cref="Tokenizers.FileName"/>), the training state
/// (<see cref="StateFile"/>: step, sampler state, options, loss history), the AdamW moments
/// (<see cref="OptimizerFile"/>) and the loss curve (<see cref="LossCurveFile"/>).
/// <para>
/// A save never moves the directory and never touches a file it did not write. It writes every file into
/// <see cref="StagingDirectory"/> inside the run directory (each fsynced), renames that to
/// <see cref="CommitDirectory"/> (the commit point: from here on the new checkpoint is complete on disk), then
/// renames each file over its final name (rename(2) is atomic per file) and fsyncs the directory. A kill before
/// the commit point leaves the previous checkpoint untouched and a stale staging directory that the next save or
/// <see cref="Recover"/> deletes; a kill after it leaves a commit directory that <see cref="Recover"/> finishes
/// publishing. Every file in the run directory is at every instant a complete file of the old or the new
/// checkpoint; <see cref="StateFile"/> records a SHA-256 of each other file, so a resume checks that they belong together.
/// </para>
/// One writer per directory: <see cref="RunDirectoryLock"/>.
/// </summary>
public static class TrainingCheckpoint
{
    public const string StateFile = "training_state.json";
    public const string OptimizerFile = "optimizer.safetensors";
    public const string LossCurveFile = "loss_curve.svg";
    public const string Format = "attnlab-training-state/1";

    /// <summary>Where a save writes before its commit point (inside the run directory).</summary>
    public const string StagingDirectory = ".attnlab-staging";
    /// <summary>A complete, committed checkpoint whose files are being renamed into place.</summary>
    public const string CommitDirectory = ".attnlab-commit";

    /// <summary>training_state.json files larger than this are refused (a million logged steps is about 60 MB).</summary>
    public const long MaxStateBytes = 256 << 20;

    /// <summary>The files a checkpoint writes (and so may replace) in a run directory, with one of attnlab's
    /// tokenizers (<see cref="Tokenizers.FileName"/>).</summary>
    public static IReadOnlyList<string> FileNames { get; } =
        ["config.json", "model.safetensors", Tokenizers.FileName, OptimizerFile, LossCurveFile, StateFile];

    /// <summary>What a run with a Hugging Face tokenizer (<see cref="HfTokenizer"/>, a fine-tuned Llama-family folder)
    /// writes instead of <see cref="Tokenizers.FileName"/>: the source folder's tokenizer.json and tokenizer_config.json,
    /// byte for byte, and its generation_config.json where it had one (the <c>companions</c> of <see cref="Save"/>), so
    /// the run stays a Hugging Face folder that transformers and attnlab open with the same tokenizer and eos ids.</summary>
    public static IReadOnlyList<string> HuggingFaceFileNames { get; } = [HfTokenizer.FileName, HfTokenizer.ConfigFileName, GenerationConfig.FileName];

    /// <summary>True when <paramref name="directory"/> already holds a model or a checkpoint (so writing there would overwrite it).</summary>
    public static bool HoldsModel(string directory) =>
        Directory.Exists(directory) &&
        new[] { "config.json", "model.safetensors", StateFile, OptimizerFile, Tokenizers.FileName }.Any(f => File.Exists(Path.Combine(directory, f)));

    /// <summary>The files of <see cref="FileNames"/> already in <paramref name="directory"/> (a save would replace them).</summary>
    public static IReadOnlyList<string> ExistingFiles(string directory) =>
        Directory.Exists(directory) ? FileNames.Concat(HuggingFaceFileNames).Where(f => Path.Exists(Path.Combine(directory, f))).ToList() : [];

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

    /// <summary>Writes a complete checkpoint into <paramref name="directory"/> (creating it), replacing an earlier
    /// one there; other files in the directory are left alone. The caller holds the directory's <see cref="RunDirectoryLock"/>.</summary>
    /// <param name="writeModel">Writes the model files (config.json, model.safetensors) into the directory it is given.</param>
    /// <param name="companions">Files written as they are beside the model (a fine-tuned Hugging Face folder's
    /// generation_config.json, the one name accepted).</param>
    /// <remarks>A <see cref="HfTokenizer"/> is saved as its own tokenizer.json and tokenizer_config.json, any other as
    /// <see cref="Tokenizers.FileName"/>; after the publish, a file of the other set left by an earlier run this one
    /// replaced (<c>--force</c>) is removed, so the folder names one tokenizer.</remarks>
    public static void Save(string directory, Action<string> writeModel, ITokenizer tokenizer, RunInfo run, TrainingState state, AdamW optimizer, string title,
        IReadOnlyList<(string Name, byte[] Bytes)>? companions = null)
    {
        ArgumentNullException.ThrowIfNull(writeModel);
        var full = Path.GetFullPath(directory);
        Directory.CreateDirectory(full);
        Recover(full);
        var staging = Path.Combine(full, StagingDirectory);
        Directory.CreateDirectory(staging);
        try
        {
            writeModel(staging);
            FaultPoint?.Invoke("staging");
            if (tokenizer is HfTokenizer hf)
                foreach (var (name, bytes) in hf.Files) DurableFile.Write(Path.Combine(staging, name), s => s.Write(bytes));
            else DurableFile.Write(Path.Combine(staging, Tokenizers.FileName), s => s.Write(Encoding.UTF8.GetBytes(Tokenizers.ToJson(tokenizer))));
            foreach (var (name, bytes) in companions ?? [])
            {
                if (name != GenerationConfig.FileName) throw new ArgumentException($"'{name}' is not a companion file a checkpoint writes");
                DurableFile.Write(Path.Combine(staging, name), s => s.Write(bytes));
            }
            DurableFile.Write(Path.Combine(staging, OptimizerFile), s => WriteOptimizer(s, optimizer));
            DurableFile.Write(Path.Combine(staging, LossCurveFile), s => s.Write(Encoding.UTF8.GetBytes(LossCurveSvg.Render(
                state.TrainLosses.Select(p => (p.Step, p.Loss)).ToList(), state.ValidationLosses.Select(p => (p.Step, p.Loss)).ToList(), title, Math.Log(tokenizer.VocabSize)))));
            var hashes = Directory.EnumerateFiles(staging).Select(Path.GetFileName).Order(StringComparer.Ordinal)
                .ToDictionary(name => name!, name => Sha256(Path.Combine(staging, name!)));
            DurableFile.Write(Path.Combine(staging, StateFile), s => s.Write(Encoding.UTF8.GetBytes(StateJson(run, state, optimizer, tokenizer, hashes))));
            DurableFile.SyncDirectory(staging);
        }
        catch
        {
            try { Directory.Delete(staging, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
        var written = Directory.GetFiles(staging).Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
        FaultPoint?.Invoke("staged");
        Directory.Move(staging, Path.Combine(full, CommitDirectory)); // the commit point
        DurableFile.SyncDirectory(full);
        FaultPoint?.Invoke("committed");
        Recover(full);
        foreach (var stale in FileNames.Concat(HuggingFaceFileNames).Where(f => !written.Contains(f)))
            if (File.Exists(Path.Combine(full, stale))) File.Delete(Path.Combine(full, stale));
    }

    /// <summary>Tests only: called at each step of a save ("staging", "staged", "committed", "published:NAME"); a test
    /// that throws there leaves the directory as a kill at that instant would.</summary>
    [ThreadStatic] internal static Action<string>? FaultPoint;

    /// <summary>
    /// Brings <paramref name="directory"/> to a consistent checkpoint after a save was killed: finishes publishing a
    /// committed checkpoint, deletes a staging directory that never reached its commit point. Idempotent; touches
    /// only <see cref="StagingDirectory"/>, <see cref="CommitDirectory"/> and the files a commit replaces.
    /// </summary>
    public static void Recover(string directory)
    {
        var full = Path.GetFullPath(directory);
        var commit = Path.Combine(full, CommitDirectory);
        if (Directory.Exists(commit))
        {
            foreach (var file in Directory.GetFiles(commit).Order(StringComparer.Ordinal))
            {
                File.Move(file, Path.Combine(full, Path.GetFileName(file)), overwrite: true);
                FaultPoint?.Invoke("published:" + Path.GetFileName(file));
            }
            DurableFile.SyncDirectory(full);
            Directory.Delete(commit, recursive: true);
            DurableFile.SyncDirectory(full);
        }
        var staging = Path.Combine(full, StagingDirectory);
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
    }

    /// <summary>Checks that the files <see cref="StateFile"/> lists have the hashes it recorded (they belong to one checkpoint).</summary>
    public static void Verify(string directory, IReadOnlyDictionary<string, string> files)
    {
        foreach (var (name, hash) in files)
        {
            var path = Path.Combine(directory, name);
            if (!File.Exists(path)) throw new InvalidDataException($"{path} is missing; the checkpoint in {directory} is incomplete");
            if (Sha256(path) != hash)
                throw new InvalidDataException($"{path} does not belong to the checkpoint {StateFile} describes (its SHA-256 differs); the file was changed or damaged");
        }
    }

    private static string Sha256(string path)
    {
        using var stream = InputFile.OpenRead(path, "checkpoint file");
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static string StateJson(RunInfo run, TrainingState state, AdamW optimizer, ITokenizer tokenizer, IReadOnlyDictionary<string, string> files)
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
            ["files"] = new JsonObject(files.Select(f => KeyValuePair.Create(f.Key, (JsonNode?)f.Value))),
        };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>A state's step counts stay below this (and seconds below a million years), so nothing downstream overflows.</summary>
    private const int MaxSteps = 1_000_000_000;

    /// <summary>Reads <see cref="StateFile"/>: the run description and the state to continue from. Total: any file
    /// gives the state or one <see cref="InvalidDataException"/> (<see cref="FileNotFoundException"/> when missing).</summary>
    public static (RunInfo Run, TrainingState State, int OptimizerStep) LoadState(string directory)
    {
        var (run, state, step, _) = LoadStateWithFiles(directory);
        return (run, state, step);
    }

    /// <summary><see cref="LoadState"/> plus the SHA-256 of each checkpoint file, for <see cref="Verify"/>.</summary>
    public static (RunInfo Run, TrainingState State, int OptimizerStep, IReadOnlyDictionary<string, string> Files) LoadStateWithFiles(string directory)
    {
        var path = Path.Combine(directory, StateFile);
        if (!Path.Exists(path)) throw new FileNotFoundException($"{directory} has no {StateFile}; --resume needs a directory written by 'attnlab train'");
        var bytes = InputFile.ReadAllBytes(path, MaxStateBytes, StateFile);
        using var doc = InputFile.ParseJson(bytes, path);
        var o = new JsonFields(doc.RootElement, path);
        if (o.OptionalString("format") != Format) throw new InvalidDataException($"{path} is not an {Format} file");
        TrainingOptions options;
        var optionsElement = o.Optional("options", JsonValueKind.Object) ?? throw new InvalidDataException($"{path} has no options");
        try { options = optionsElement.Deserialize<TrainingOptions>() ?? throw new InvalidDataException($"{path} has no options"); }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: 'options' are damaged ({Plain(e)})");
        }
        try { options.Validate(); }
        catch (ArgumentException e) { throw new InvalidDataException($"{path}: 'options': {e.Message}"); }
        if (options.Steps > MaxSteps) throw new InvalidDataException($"{path}: 'options' plan {options.Steps} steps, more than {MaxSteps:N0}");
        var samplerText = o.RequiredString("sampler_state");
        if (!ulong.TryParse(samplerText, NumberStyles.None, CultureInfo.InvariantCulture, out ulong sampler))
            throw new InvalidDataException($"{path}: 'sampler_state' '{Shorten(samplerText)}' is not an unsigned 64-bit integer");
        var state = new TrainingState
        {
            Step = o.RequiredInt("step", 0, MaxSteps),
            SamplerState = sampler,
            Seconds = o.RequiredDouble("seconds", 0, 3e13),
            Tokens = o.RequiredLong("tokens", 0),
            TrainLosses = Losses(o, "train_losses", path),
            ValidationLosses = Losses(o, "validation_losses", path),
        };
        int optimizerStep = o.RequiredInt("optimizer_step", 0, MaxSteps);
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        if (o.Optional("files", JsonValueKind.Object) is JsonElement filesElement)
            foreach (var f in filesElement.EnumerateObject())
            {
                var name = InputFile.GetName(f, $"{path}: a 'files' name");
                if (name != Path.GetFileName(name) || name is "." or ".." || name.Length == 0)
                    throw new InvalidDataException($"{path}: 'files' names '{Shorten(name)}', which is not a file of this directory");
                files[name] = InputFile.GetText(f.Value, $"{path}: files.{name}");
            }
        JsonObject? model = null;
        if (o.Optional("model", JsonValueKind.Object) is JsonElement m) model = JsonNode.Parse(m.GetRawText())!.AsObject();
        var run = new RunInfo(o.RequiredString("data"), options, model, o.OptionalString("data_fingerprint"));
        return (run, state, optimizerStep, files);
    }

    private static List<LossPoint> Losses(JsonFields o, string name, string path)
    {
        var array = o.Optional(name, JsonValueKind.Array) ?? throw new InvalidDataException($"{path}: missing '{name}'");
        var result = new List<LossPoint>(Math.Min(array.GetArrayLength(), 1 << 20));
        foreach (var p in array.EnumerateArray())
        {
            if (p.ValueKind != JsonValueKind.Array || p.GetArrayLength() != 2 ||
                p[0].ValueKind != JsonValueKind.Number || !p[0].TryGetInt32(out int step) || step < 0 ||
                p[1].ValueKind != JsonValueKind.Number || !p[1].TryGetDouble(out double loss) || !double.IsFinite(loss))
                throw new InvalidDataException($"{path}: every entry of '{name}' must be [step ≥ 0, finite loss]");
            result.Add(new LossPoint(step, loss));
        }
        return result;
    }

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";

    private static string Plain(Exception e) => e.Message.Split('\n')[0].Trim();

    /// <summary>Restores the AdamW moments and step count saved in <see cref="OptimizerFile"/>.</summary>
    public static void LoadOptimizer(string directory, AdamW optimizer, int step)
    {
        var path = Path.Combine(directory, OptimizerFile);
        if (!Path.Exists(path)) throw new FileNotFoundException($"{directory} has no {OptimizerFile}");
        var (tensors, metadata) = SafeTensors.Read(path);
        if (!tensors.TryGetValue("exp_avg", out var m) || !tensors.TryGetValue("exp_avg_sq", out var v))
            throw new InvalidDataException($"{path} lacks exp_avg / exp_avg_sq");
        if (m.Data.Length != optimizer.FirstMoment.Length || v.Data.Length != optimizer.SecondMoment.Length)
            throw new InvalidDataException($"{path} holds moments for {m.Data.Length} parameters, the model has {optimizer.FirstMoment.Length}");
        if (metadata.TryGetValue("step", out var saved) && saved != step.ToString(CultureInfo.InvariantCulture))
            throw new InvalidDataException($"{path} is from optimizer step {saved} but {StateFile} from {step}: the files come from different checkpoints");
        if (v.Data.Any(x => x < 0)) throw new InvalidDataException($"{path}: exp_avg_sq holds a negative value; the file is damaged");
        optimizer.Restore(m.Data, v.Data, step);
    }

    /// <summary>The AdamW moments as F32 tensors <c>exp_avg</c> and <c>exp_avg_sq</c> (PyTorch's names), step in the metadata.</summary>
    private static void WriteOptimizer(Stream file, AdamW optimizer) =>
        SafeTensors.Write(file,
            [("exp_avg", [optimizer.FirstMoment.Length], optimizer.FirstMoment),
             ("exp_avg_sq", [optimizer.SecondMoment.Length], optimizer.SecondMoment)],
            new Dictionary<string, string> { ["step"] = optimizer.StepCount.ToString(CultureInfo.InvariantCulture) });
}
