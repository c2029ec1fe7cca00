using System.Diagnostics;
using AttentionLab.Interpretability;
using AttentionLab.IO;
using AttentionLab.Models;
using AttentionLab.Text;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// What every <c>attnlab analyze</c> method reads: the model (<c>--model DIR</c>, or <c>--preset NAME</c> with
/// weights drawn from <c>--seed</c>, for timing and shapes), token inputs (<c>--text</c>, <c>--ids</c> or
/// <c>--random N</c>), single tokens (<c>--token " Mary"</c> or <c>--token-id 5</c>), token labels, a progress line
/// for sweeps and the atomic <c>--svg</c> write.
/// </summary>
internal sealed class AnalyzeInput(Args args, DecoderModel model, ITokenizer? tokenizer, TextWriter stdout, bool json)
{
    public Args Args { get; } = args;
    public DecoderModel Model { get; } = model;
    public ITokenizer? Tokenizer { get; } = tokenizer;
    public bool Json { get; } = json;

    public static AnalyzeInput Open(Args args, TextWriter stdout)
    {
        string? dir = args.Path("model"), preset = args.String("preset");
        bool json = args.Json;
        if ((dir is null) == (preset is null)) throw new CliError("give exactly one of --model DIR or --preset NAME");
        if (dir is not null)
        {
            var saved = SavedModel.Open(dir);
            return new AnalyzeInput(args, saved.Model, saved.Tokenizer, stdout, json);
        }
        var config = DecoderConfig.Preset(preset!);
        var model = new DecoderModel(config, training: false);
        model.InitializeWeights(args.Int("seed", 0, min: 0));
        return new AnalyzeInput(args, model, config.VocabSize == 50257 ? new Gpt2Tokenizer() : null, stdout, json);
    }

    /// <summary>The ids of <c>--{textOption}</c>, <c>--{idsOption}</c> or (when allowed) <c>--random N</c>.</summary>
    public int[] Tokens(string textOption = "text", string idsOption = "ids", string? randomSeedOffset = null)
    {
        string? text = Args.String(textOption), ids = Args.String(idsOption);
        int random = randomSeedOffset is null ? 0 : Args.Int("random", 0, min: 1, max: Model.Config.ContextLength);
        int given = (text is null ? 0 : 1) + (ids is null ? 0 : 1) + (random > 0 ? 1 : 0);
        if (given != 1)
            throw new CliError($"give exactly one of --{textOption} TEXT or --{idsOption} 1,2,3" + (randomSeedOffset is null ? "" : " or --random N"));
        int[] result;
        if (random > 0)
        {
            var rng = new Random(Args.Int("seed", 0, min: 0) + (randomSeedOffset == "corrupt" ? 1 : 0));
            result = Enumerable.Range(0, random).Select(_ => rng.Next(Model.Config.VocabSize)).ToArray();
        }
        else if (ids is not null) result = CommandSupport.ParseIds(ids);
        else
        {
            if (Tokenizer is null) throw new CliError($"this model has no tokenizer; give token ids with --{idsOption}");
            try { result = Tokenizer.EncodeForModel(text!); }   // with the bos token where the tokenizer says so
            catch (ArgumentException e) { throw new CliError(e.Message); }
        }
        if (result.Length == 0) throw new CliError($"--{(text is not null ? textOption : idsOption)} is empty; give at least one token");
        if (result.Length > Model.Config.ContextLength) throw new CliError($"{result.Length} tokens exceed the model's context of {Model.Config.ContextLength}");
        foreach (int id in result)
            if ((uint)id >= (uint)Model.Config.VocabSize) throw new CliError($"token id {id} is outside the model's vocabulary [0, {Model.Config.VocabSize})");
        return result;
    }

    /// <summary>One token from <c>--{name} TEXT</c> (exactly one token) or <c>--{name}-id N</c>; null when neither.</summary>
    public int? Token(string name)
    {
        string? text = Args.String(name);
        bool hasId = Args.Has(name + "-id");
        if (text is not null && hasId) throw new CliError($"give --{name} TEXT or --{name}-id N, not both");
        if (hasId) return Args.Int(name + "-id", 0, min: 0, max: Model.Config.VocabSize - 1);
        if (text is null) return null;
        if (Tokenizer is null) throw new CliError($"this model has no tokenizer; give --{name}-id N");
        int[] ids;
        try { ids = Tokenizer.Encode(text); }
        catch (ArgumentException e) { throw new CliError(e.Message); }
        if (ids.Length != 1) throw new CliError($"--{name} '{text}' is {ids.Length} tokens; give exactly one (or --{name}-id N)");
        return ids[0];
    }

    public int RequireToken(string name) => Token(name) ?? throw new CliError($"missing --{name} TEXT (or --{name}-id N)");

    /// <summary>A token's label: its text, or #id without a tokenizer.</summary>
    public string Label(int id) => Tokenizer is null ? $"#{id}" : Tokenizer.TokenText(id);

    public string[] Labels(int[] ids) => ids.Select(Label).ToArray();

    /// <summary>Writes an SVG atomically (a temporary file renamed over the target: never half written).</summary>
    public static void WriteSvg(string? path, string svg)
    {
        if (path is null) return;
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(directory)) throw new CliError($"--svg: the folder {directory} does not exist");
        DurableFile.Replace(path, svg);
    }

    /// <summary>A sweep's progress: a line every 2 s (and at the end) with passes done, elapsed and left; nothing with --json.</summary>
    public IProgress<SweepProgress>? Progress(string what) => Json ? null : new SweepLine(stdout, what);

    private sealed class SweepLine(TextWriter stdout, string what) : IProgress<SweepProgress>
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private TimeSpan _last = TimeSpan.Zero;

        public void Report(SweepProgress value)
        {
            var now = _clock.Elapsed;
            if (value.Done != value.Total && (value.Done == 0 || now - _last < TimeSpan.FromSeconds(2))) return;
            _last = now;
            double perPass = value.Done == 0 ? 0 : now.TotalSeconds / value.Done;
            var left = TimeSpan.FromSeconds(perPass * (value.Total - value.Done));
            stdout.WriteLine($"  {what}: {value.Done}/{value.Total} passes, {CommandSupport.Clock(now)} elapsed, {CommandSupport.Clock(left)} left");
        }
    }
}
