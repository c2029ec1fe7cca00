using AttentionLab.Attention;
using AttentionLab.IO;
using AttentionLab.Models;
using AttentionLab.Text;

namespace AttentionLab.Training;

/// <summary>
/// A GPT-2 training run tied to its directory: starts a new one (fresh weights from the seed) or resumes
/// one from its checkpoint, and saves checkpoints there (<see cref="TrainingCheckpoint"/>). The run holds the
/// directory's <see cref="RunDirectoryLock"/> from start to <see cref="Dispose"/>, so a second writer is refused.
/// The steps run on the CPU unless a <c>device</c> (<see cref="Kernels.ComputeDevice.TrainingBackend"/>) puts them on a GPU; the host model and
/// optimizer stay the checkpoint's source either way (<see cref="ITrainingBackend.SynchronizeHost"/>).
/// <see cref="Run"/> trains it under the <see cref="RunPolicy"/>: a checkpoint after each validation and at the end.
/// <code>
///   using var run = DecoderTrainingRun.StartNew(corpus, dataPath, config, options, directory: null, attention);
///   var result = run.Run(progress, cancellation);             // runs/&lt;timestamp&gt;, released by Dispose
/// </code>
/// </summary>
public sealed class DecoderTrainingRun : IDisposable, ITrainingRun
{
    private readonly RunDirectoryLock _lock;
    private readonly IReadOnlyList<(string Name, byte[] Bytes)> _companions;

    private DecoderTrainingRun(string directory, Corpus corpus, DecoderModel model, Trainer trainer, TrainingCheckpoint.RunInfo info, RunDirectoryLock directoryLock,
        IReadOnlyList<(string Name, byte[] Bytes)>? companions = null)
    {
        Directory = directory; Corpus = corpus; Model = model; Trainer = trainer; Info = info; _lock = directoryLock; _companions = companions ?? [];
    }

    /// <summary>Releases the backend's device memory (if any) and the directory's lock.</summary>
    public void Dispose()
    {
        try { (Trainer.Backend as IDisposable)?.Dispose(); }
        finally { _lock.Dispose(); }
    }

    public string Directory { get; }
    public Corpus Corpus { get; }
    public DecoderModel Model { get; }
    public Trainer Trainer { get; }
    public TrainingCheckpoint.RunInfo Info { get; }

    /// <summary>
    /// Trains to the end (or until <paramref name="cancellation"/>, or the budget's hard limit) under the
    /// <see cref="RunPolicy"/>: a checkpoint after each validation and one at the end.
    /// </summary>
    /// <param name="budget">fits the step count to a wall-clock budget as it goes (the demo); null: the planned steps</param>
    public RunResult Run(IProgress<StepReport>? progress, CancellationToken cancellation, TimeBudgetPlan? budget = null) =>
        RunPolicy.Run(this, progress, cancellation, budget is null ? null : r => budget.ShouldStop(r, Trainer));

    int ITrainingRun.CompletedSteps => Trainer.State.Step;
    int ITrainingRun.PlannedSteps => Trainer.Options.Steps;
    bool ITrainingRun.IsFinished => Trainer.IsFinished;
    StepReport ITrainingRun.Step() => Trainer.Step();
    double? ITrainingRun.Validate() => Trainer.EvaluateAndRecord();

    /// <summary>
    /// A new run in its own directory: <paramref name="directory"/> (created if needed), or a new
    /// <paramref name="runsRoot"/>/&lt;timestamp&gt; when null. The directory is locked before it is checked or written, so
    /// two trainings never share it; one that already holds files a checkpoint would write is refused unless
    /// <paramref name="replace"/>; and a directory this call created is removed again when the start fails.
    /// </summary>
    /// <exception cref="RunDirectoryBusyException">another training writes the directory</exception>
    /// <exception cref="RunDirectoryOccupiedException">it holds checkpoint files and <paramref name="replace"/> is false</exception>
    public static DecoderTrainingRun StartNew(Corpus corpus, string dataPath, DecoderConfig config, TrainingOptions options, string? directory,
        IAttentionKernel attention, bool replace = false, string runsRoot = "runs", Kernels.ComputeDevice? device = null)
    {
        Checked(corpus, config, options, attention); // bad data and sizes that cannot fit are refused before any directory is made
        return InClaimedDirectory(directory, runsRoot, replace,
            directoryLock => Start(corpus, dataPath, config, options, directoryLock.Directory, attention, directoryLock, device));
    }

    /// <summary>
    /// The run policy of a new run's directory: lock it (a new timestamped one under <paramref name="runsRoot"/> when
    /// <paramref name="directory"/> is null), refuse one that holds checkpoint files unless <paramref name="replace"/>,
    /// and hand the lock to <paramref name="start"/>; when anything fails, release the lock and remove a directory this
    /// call created.
    /// </summary>
    private static DecoderTrainingRun InClaimedDirectory(string? directory, string runsRoot, bool replace, Func<RunDirectoryLock, DecoderTrainingRun> start)
    {
        bool created = directory is null || !System.IO.Directory.Exists(directory);
        var directoryLock = directory is null ? RunDirectoryLock.AcquireNew(runsRoot) : RunDirectoryLock.Acquire(directory);
        try
        {
            var existing = TrainingCheckpoint.ExistingFiles(directoryLock.Directory);
            if (existing.Count > 0 && !replace)
                throw new RunDirectoryOccupiedException(directoryLock.Directory, existing, TrainingCheckpoint.HoldsModel(directoryLock.Directory));
            return start(directoryLock);
        }
        catch
        {
            directoryLock.Dispose();
            if (created) RunDirectoryLock.RemoveIfOnlyLock(directoryLock.Directory);
            throw;
        }
    }

    /// <summary>A new run. <paramref name="config"/>'s vocabulary size is replaced by the tokenizer's.</summary>
    /// <param name="corpus">The tokenized data (its tokenizer is saved with the model).</param>
    /// <param name="directoryLock">The directory's lock if the caller already holds it (the run takes it over), or
    /// null to acquire it here (creating the directory).</param>
    /// <param name="device">where the steps run (null: the CPU)</param>
    /// <exception cref="RunDirectoryBusyException">another training writes <paramref name="directory"/></exception>
    public static DecoderTrainingRun Start(Corpus corpus, string dataPath, DecoderConfig config, TrainingOptions options, string directory, IAttentionKernel attention,
        RunDirectoryLock? directoryLock = null, Kernels.ComputeDevice? device = null)
    {
        config = Checked(corpus, config, options, attention);
        directoryLock ??= RunDirectoryLock.Acquire(directory);
        try
        {
            TrainingCheckpoint.Recover(directory); // a killed earlier run's staging is ours to clean
            var model = new DecoderModel(config, attention);
            model.InitializeWeights(unchecked((int)(options.Seed & 0x7FFF_FFFF)));
            var info = new TrainingCheckpoint.RunInfo(dataPath, options, DecoderFolder.ConfigJson(config), TrainingCheckpoint.Fingerprint(corpus.Tokens));
            var trainer = new Trainer(Backend(model, Trainer.CreateOptimizer(new DecoderLanguageModel(model), options), device), corpus, options);
            return new DecoderTrainingRun(directory, corpus, model, trainer, info, directoryLock);
        }
        catch { directoryLock.Dispose(); throw; }
    }

    /// <summary>
    /// A new run that starts from the weights of a saved model folder (fine-tuning): a GPT-2 folder or a Llama-family
    /// Hugging Face folder, trained by the same trainer with fresh AdamW moments and the schedule of
    /// <paramref name="options"/>, saved in the folder's own layout (<see cref="DecoderFolder.Save"/> writes the
    /// layout of its config: GPT-2 Conv1D, or LlamaForCausalLM / Qwen2 / Qwen3 / Mistral), so the run reloads and resumes
    /// like any other. The tokens are the folder's tokenizer's: its <c>attnlab_tokenizer.json</c>, its Hugging Face
    /// <c>tokenizer.json</c> (<see cref="HfTokenizer"/>: the data is one stream of <see cref="HfTokenizer.Encode(string)"/>, no
    /// bos token; the run saves tokenizer.json, tokenizer_config.json and generation_config.json beside its weights,
    /// <see cref="TrainingCheckpoint.HuggingFaceFileNames"/>), or GPT-2's BPE for a 50,257-token GPT-2 folder; a folder
    /// without one takes <paramref name="tokenizerName"/> (a char vocabulary is built from the data), whose ids must
    /// fit the model's vocabulary.
    /// </summary>
    /// <param name="initFrom">the model folder whose weights start the run (it is only read)</param>
    /// <param name="tokenizerName">the tokenizer for a folder without one; null to use the folder's</param>
    /// <param name="attention">the kernel to train with; null: the one the folder was saved with</param>
    /// <exception cref="InvalidDataException">a folder that is not a decoder, a tokenizer that does not fit the model
    /// or disagrees with the folder's</exception>
    /// <exception cref="ModelTooLargeException">the four float32 copies and the working set do not fit this process's
    /// memory (<see cref="EnsureFineTuningFits"/>), refused before a tensor is read</exception>
    /// <exception cref="RunDirectoryOccupiedException">the directory holds files a checkpoint would overwrite and
    /// <paramref name="replace"/> is false</exception>
    public static DecoderTrainingRun FineTune(string initFrom, string dataPath, string? tokenizerName, TrainingOptions options, string? directory,
        IAttentionKernel? attention, bool replace = false, string runsRoot = "runs", Kernels.ComputeDevice? device = null)
    {
        ArgumentNullException.ThrowIfNull(initFrom);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var info = ModelFolderInfo.Read(initFrom);
        if (!info.IsDecoder) throw new InvalidDataException($"{initFrom} holds a {info.Kind} model; fine-tuning starts from GPT-2 and Llama-family folders");
        EnsureFineTuningFits(initFrom, DecoderFolder.ReadConfig(initFrom), GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
        var corpus = FineTuneTokenizer(info, tokenizerName) is { } own ? Corpus.Load(dataPath, own) : Corpus.Load(dataPath, tokenizerName!);
        var tokenizer = corpus.Tokenizer;
        // the eos ids generation stops at travel with the weights (a Hugging Face folder's generation_config.json)
        var generationConfig = Path.Combine(initFrom, GenerationConfig.FileName);
        IReadOnlyList<(string, byte[])> companions = tokenizer is HfTokenizer && File.Exists(generationConfig)
            ? [(GenerationConfig.FileName, InputFile.ReadAllBytes(generationConfig, DecoderFolder.MaxConfigBytes, GenerationConfig.FileName))] : [];
        var model = DecoderFolder.Load(initFrom, attention, training: true);
        var config = model.Config;
        if (tokenizer.VocabSize > config.VocabSize)
            throw new InvalidDataException($"the {tokenizer.Name} tokenizer has {tokenizer.VocabSize} ids but the model in {initFrom} only {config.VocabSize}");
        EnsureActivationsFit(config, options.BatchSize, model.Attention);
        corpus.EnsureFits(config.ContextLength);
        return InClaimedDirectory(directory, runsRoot, replace, directoryLock =>
        {
            TrainingCheckpoint.Recover(directoryLock.Directory);
            var runInfo = new TrainingCheckpoint.RunInfo(dataPath, options, DecoderFolder.ConfigJson(config), TrainingCheckpoint.Fingerprint(corpus.Tokens));
            var trainer = new Trainer(Backend(model, Trainer.CreateOptimizer(new DecoderLanguageModel(model), options), device), corpus, options);
            return new DecoderTrainingRun(directoryLock.Directory, corpus, model, trainer, runInfo, directoryLock, companions);
        });
    }

    /// <summary>Refuses, before any tensor is read, a folder whose training copies do not fit: the weights, their
    /// gradients and AdamW's two moments (4 float32 copies) plus <see cref="LoadMemory"/>'s working set.</summary>
    /// <exception cref="ModelTooLargeException">one line with the figures</exception>
    public static void EnsureFineTuningFits(string initFrom, DecoderConfig config, long availableBytes)
    {
        var m = FineTuningMemory(config, availableBytes);
        long parameters = config.ParameterCount;
        if (!m.Fits)
            throw new ModelTooLargeException($"fine-tuning {initFrom} needs about {LoadMemory.Format(m.RequiredBytes)} ({parameters:N0} parameters × 4 float32 " +
                $"copies: weights, gradients, AdamW's two moments, {LoadMemory.Format(m.WeightBytes)}, + {LoadMemory.Format(m.WorkingSetBytes)} working set) " +
                $"but this process can use {LoadMemory.Format(m.AvailableBytes)}");
    }

    /// <summary>What fine-tuning <paramref name="config"/> needs: the weights, their gradients and AdamW's two moments
    /// (4 float32 copies, <see cref="LoadMemory.WeightBytes"/>) plus <see cref="LoadMemory"/>'s working set (twice the
    /// token embedding, the largest tensor, and 256 MiB). SmolLM2-135M: 2.00 GiB + 472 MiB.</summary>
    public static LoadMemory FineTuningMemory(DecoderConfig config, long availableBytes)
    {
        ArgumentNullException.ThrowIfNull(config);
        return LoadMemory.Estimate(4 * config.ParameterCount, (long)config.VocabSize * config.Channels, "the token embedding", availableBytes);
    }

    /// <summary>The folder's own tokenizer, or null when it has none and <paramref name="tokenizerName"/> (checked
    /// here) is to be built on the data.</summary>
    private static ITokenizer? FineTuneTokenizer(ModelFolderInfo info, string? tokenizerName)
    {
        string? own = info.Tokenizer switch
        {
            ModelTokenizer.Saved => Tokenizers.Load(info.Directory).Name,
            ModelTokenizer.Gpt2Bpe => "gpt2",
            ModelTokenizer.HuggingFace => HfTokenizer.FileName,
            _ => null,
        };
        if (own is not null && tokenizerName is not null && tokenizerName != own)
            throw new InvalidDataException($"{info.Directory} reads {own} tokens; --tokenizer {tokenizerName} would give its weights other ids");
        if (own is not null) return info.OpenTokenizer()!;
        if (tokenizerName is null)
            throw new InvalidDataException($"{info.Directory} has no tokenizer; name the one its ids are (--tokenizer char|gpt2|o200k)");
        if (!Tokenizers.Names.Contains(tokenizerName))
            throw new InvalidDataException($"unknown tokenizer '{tokenizerName}' (expected one of: {string.Join(", ", Tokenizers.Names)})");
        return null;
    }

    /// <summary>The config the run trains (the tokenizer's vocabulary, the kernel's name), after refusing what cannot
    /// train: bad options, activations that do not fit, a corpus too short for the context.</summary>
    private static DecoderConfig Checked(Corpus corpus, DecoderConfig config, TrainingOptions options, IAttentionKernel attention)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ArgumentNullException.ThrowIfNull(attention);
        config = config with { VocabSize = corpus.Tokenizer.VocabSize, Attention = attention.Name };
        config.Validate();
        EnsureActivationsFit(config, options.BatchSize, attention);
        corpus.EnsureFits(config.ContextLength);
        return config;
    }

    /// <summary>
    /// Refuses a (B, T) whose activations cannot be held in one array, before anything is allocated. The count is
    /// <see cref="DecoderActivations"/>' in floating point: per layer 20·N·C + 4·N + what the attention kernel saves
    /// (B·H·T² weights for the materializing kernels, B·H·T for flash), plus 16·N·C + N·V + 4·N, with N = B·T.
    /// </summary>
    /// <param name="attention">the kernel that will train; null counts the B·H·T² weights</param>
    public static void EnsureActivationsFit(DecoderConfig config, int batch, IAttentionKernel? attention = null)
    {
        double b = batch, t = config.ContextLength, n = b * t, c = config.Channels;
        double saved = b * config.Heads * t * t;
        if (attention is not null && b * config.Heads * t * t * 4 < long.MaxValue / 4 && b * config.Heads <= int.MaxValue && t <= int.MaxValue)
            saved = attention.SavedLength(new AttentionShape((int)b, config.Heads, (int)t, (int)t, config.HeadDim));
        double floats = config.Layers * (20 * n * c + 4 * n + saved) + 16 * n * c + n * config.VocabSize + 4 * n;
        if (floats > Array.MaxLength)
            throw new ArgumentException($"batch {batch} × context {config.ContextLength} needs {floats * 4 / (1L << 30):N1} GiB of activations " +
                                        $"({floats:G3} floats, more than one array holds); lower the batch or the context");
    }

    /// <summary>Continues the run saved in <paramref name="directory"/>.</summary>
    /// <param name="dataPath">The data file, or null for the one the run was started with.</param>
    /// <param name="steps">A new total step count (to extend a finished run), or null to keep the saved one.</param>
    /// <param name="attention">the kernel to continue with; null: the one the run was saved with</param>
    /// <param name="device">where the steps run (null: the CPU)</param>
    /// <exception cref="RunDirectoryBusyException">another training writes <paramref name="directory"/></exception>
    public static DecoderTrainingRun Resume(string directory, string? dataPath, int? steps, IAttentionKernel? attention,
        Kernels.ComputeDevice? device = null)
    {
        if (!System.IO.Directory.Exists(directory))
            throw new DirectoryNotFoundException(File.Exists(directory) ? $"{directory} is a file, not a run directory" : $"run directory {directory} does not exist");
        var directoryLock = RunDirectoryLock.Acquire(directory);
        try { return Resume(directory, dataPath, steps, attention, device, directoryLock); }
        catch { directoryLock.Dispose(); throw; }
    }

    private static DecoderTrainingRun Resume(string directory, string? dataPath, int? steps, IAttentionKernel? attention,
        Kernels.ComputeDevice? device, RunDirectoryLock directoryLock)
    {
        TrainingCheckpoint.Recover(directory); // finish a publish that a kill interrupted
        var (info, state, optimizerStep, files) = TrainingCheckpoint.LoadStateWithFiles(directory);
        TrainingCheckpoint.Verify(directory, files);
        var options = info.Options;
        if (steps is int s)
        {
            if (s < state.Step) throw new ArgumentException($"the run has already done {state.Step} steps; --steps {s} would end before that");
            options = options with { Steps = s };
        }
        // a fine-tuned Hugging Face folder's checkpoint lists its tokenizer.json; every other run its attnlab_tokenizer.json
        bool huggingFace = files.ContainsKey(HfTokenizer.FileName);
        ITokenizer tokenizer = huggingFace ? HfTokenizer.Load(directory) : Tokenizers.Load(directory);
        var generationConfig = Path.Combine(directory, GenerationConfig.FileName);
        IReadOnlyList<(string, byte[])> companions = huggingFace && files.ContainsKey(GenerationConfig.FileName)
            ? [(GenerationConfig.FileName, InputFile.ReadAllBytes(generationConfig, DecoderFolder.MaxConfigBytes, GenerationConfig.FileName))] : [];
        var data = dataPath ?? info.Data;
        var corpus = Corpus.Load(data, tokenizer);
        var fingerprint = TrainingCheckpoint.Fingerprint(corpus.Tokens);
        if (info.DataFingerprint is not null && info.DataFingerprint != fingerprint)
            throw new InvalidDataException($"{data} is not the data this run was trained on (fingerprint {fingerprint}, expected {info.DataFingerprint})");
        var model = DecoderFolder.Load(directory, attention, training: true);
        if (model.Config.VocabSize < tokenizer.VocabSize)
            throw new InvalidDataException($"the {tokenizer.Name} tokenizer in {directory} has {tokenizer.VocabSize} ids but the model only {model.Config.VocabSize}");
        EnsureActivationsFit(model.Config, options.BatchSize, model.Attention);   // the kernel the run continues with
        var lm = new DecoderLanguageModel(model);
        var optimizer = Trainer.CreateOptimizer(lm, options);
        TrainingCheckpoint.LoadOptimizer(directory, optimizer, optimizerStep);
        var trainer = new Trainer(Backend(model, optimizer, device), corpus, options, state);
        return new DecoderTrainingRun(directory, corpus, model, trainer, info with { Data = data, Options = options }, directoryLock, companions);
    }

    private static ITrainingBackend Backend(DecoderModel model, AdamW optimizer, Kernels.ComputeDevice? device) =>
        (device ?? Kernels.ComputeDevice.Cpu).TrainingBackend(model, optimizer);

    /// <summary>Saves model, tokenizer, optimizer, state and loss curve into <see cref="Directory"/> (staged inside it, then
    /// published by atomic renames; see <see cref="TrainingCheckpoint"/>); a device's weights and moments are copied back first.</summary>
    public void Checkpoint()
    {
        Trainer.SynchronizeHost();
        var c = Model.Config;
        var title = $"{(LlamaStateDict.IsLlamaFamily(c) ? LlamaFolder.ModelType(c) : "GPT-2")} {c.Layers}L {c.Heads}H {c.Channels}C, context {c.ContextLength}, {Corpus.Tokenizer.Name} tokens — step {Trainer.State.Step}";
        TrainingCheckpoint.Save(Directory, d => DecoderFolder.Save(Model, d, force: true), Corpus.Tokenizer, Info, Trainer.State, Trainer.Optimizer, title, _companions);
    }
}
