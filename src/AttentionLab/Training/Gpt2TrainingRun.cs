using AttentionLab.Attention;
using AttentionLab.IO;
using AttentionLab.Models;
using AttentionLab.Text;

namespace AttentionLab.Training;

/// <summary>
/// A GPT-2 training run tied to its directory: starts a new one (fresh weights from the seed) or resumes
/// one from its checkpoint, and saves checkpoints there (<see cref="TrainingCheckpoint"/>).
/// </summary>
public sealed class Gpt2TrainingRun
{
    private Gpt2TrainingRun(string directory, Corpus corpus, Gpt2Model model, Trainer trainer, TrainingCheckpoint.RunInfo info)
    {
        Directory = directory; Corpus = corpus; Model = model; Trainer = trainer; Info = info;
    }

    public string Directory { get; }
    public Corpus Corpus { get; }
    public Gpt2Model Model { get; }
    public Trainer Trainer { get; }
    public TrainingCheckpoint.RunInfo Info { get; }

    /// <summary>A new run. <paramref name="config"/>'s vocabulary size is replaced by the tokenizer's.</summary>
    /// <param name="corpus">The tokenized data (its tokenizer is saved with the model).</param>
    public static Gpt2TrainingRun Start(Corpus corpus, string dataPath, Gpt2Config config, TrainingOptions options, string directory, IAttentionKernel attention)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        options.Validate();
        ArgumentNullException.ThrowIfNull(attention);
        config = config with { VocabSize = corpus.Tokenizer.VocabSize, Attention = attention.Name };
        config.Validate();
        corpus.EnsureFits(config.ContextLength);
        var model = new Gpt2Model(config, attention);
        model.InitializeWeights(unchecked((int)(options.Seed & 0x7FFF_FFFF)));
        var lm = new Gpt2LanguageModel(model);
        var info = new TrainingCheckpoint.RunInfo(dataPath, options, Gpt2ModelDirectory.ConfigJson(config), TrainingCheckpoint.Fingerprint(corpus.Tokens));
        return new Gpt2TrainingRun(directory, corpus, model, new Trainer(lm, corpus, options), info);
    }

    /// <summary>Continues the run saved in <paramref name="directory"/>.</summary>
    /// <param name="dataPath">The data file, or null for the one the run was started with.</param>
    /// <param name="steps">A new total step count (to extend a finished run), or null to keep the saved one.</param>
    /// <param name="attention">the kernel to continue with; null: the one the run was saved with</param>
    public static Gpt2TrainingRun Resume(string directory, string? dataPath, int? steps, IAttentionKernel? attention)
    {
        var (info, state, optimizerStep) = TrainingCheckpoint.LoadState(directory);
        var options = info.Options;
        if (steps is int s)
        {
            if (s < state.Step) throw new ArgumentException($"the run has already done {state.Step} steps; --steps {s} would end before that");
            options = options with { Steps = s };
        }
        var tokenizer = Tokenizers.Load(directory);
        var data = dataPath ?? info.Data;
        var corpus = Corpus.Load(data, tokenizer);
        var fingerprint = TrainingCheckpoint.Fingerprint(corpus.Tokens);
        if (info.DataFingerprint is not null && info.DataFingerprint != fingerprint)
            throw new InvalidDataException($"{data} is not the data this run was trained on (fingerprint {fingerprint}, expected {info.DataFingerprint})");
        var model = Gpt2ModelDirectory.Load(directory, attention);
        var lm = new Gpt2LanguageModel(model);
        var optimizer = Trainer.CreateOptimizer(lm, options);
        TrainingCheckpoint.LoadOptimizer(directory, optimizer, optimizerStep);
        var trainer = new Trainer(lm, corpus, options, state, optimizer);
        return new Gpt2TrainingRun(directory, corpus, model, trainer, info with { Data = data, Options = options });
    }

    /// <summary>Saves model, tokenizer, optimizer, state and loss curve into <see cref="Directory"/> (staged, then swapped in).</summary>
    public void Checkpoint()
    {
        var c = Model.Config;
        var title = $"GPT-2 {c.Layers}L {c.Heads}H {c.Channels}C, context {c.ContextLength}, {Corpus.Tokenizer.Name} tokens — step {Trainer.State.Step}";
        TrainingCheckpoint.Save(Directory, d => Gpt2ModelDirectory.Save(Model, d, force: true), Corpus.Tokenizer, Info, Trainer.State, Trainer.Optimizer, title);
    }
}
