using System.Text.Json.Nodes;
using AttentionLab.Datasets;
using AttentionLab.Inspection;
using AttentionLab.Models;
using AttentionLab.Rendering;
using AttentionLab.Text;
using AttentionLab.Training;

namespace AttentionLab.Cli.Commands;

/// <summary><c>attnlab bert</c>: trains (or reloads) a character-level BERT with masked-LM on a text corpus.</summary>
internal static class BertCommand
{
    public const string Summary = "BERT-style bidirectional encoder, masked-LM on tiny Shakespeare (vs a unigram baseline)";
    public const string SvgFile = "bert_vs_gpt_attention.svg";
    public const string DefaultInput = "To be, or not to be, that is the q_estion";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (ModelCommandOptions.Read(args, stdout, Usage) is not { } o) return 0;
        var a = o.Args;
        string input = a.String("input") ?? DefaultInput;
        int heldOutBatches = a.Int("held-out", 20, 1, 10_000);
        string? dataArg = a.String("data");
        BertModel model;
        JsonObject result;
        if (a.Has("model"))
        {
            var dir = ModelCommandSupport.ReadModelDir(a, "max-length");
            a.EnsureAllUsed();
            model = BertModel.Load(dir, o.Kernel);
            var corpus = Corpus.Load(DataPath(dataArg), new CharTokenizer(model.Config.Characters.EnumerateRunes()));
            var heldOut = BertTrainingRun.HeldOutBatches(corpus, model.Config.MaxLength, 32, heldOutBatches, (ulong)model.Config.Seed);
            var (guess, unigram) = BertTrainingRun.UnigramBaseline(corpus, heldOut);
            double accuracy = model.Accuracy(heldOut);
            result = new JsonObject
            {
                ["model"] = dir, ["accuracy"] = Math.Round(accuracy, 4), ["unigram_accuracy"] = Math.Round(unigram, 4), ["unigram_guess"] = guess,
                ["masked_tokens"] = heldOut.Sum(b => b.Targets.Count(t => t >= 0)),
            };
            if (!o.Json) stdout.WriteLine($"{dir}: masked-token accuracy {accuracy:P1} on held-out text; unigram baseline ('{AttentionHeatmap.Printable(guess)}' always) {unigram:P1}");
        }
        else
        {
            int seed = a.Int("seed", 1, 0);
            var config = new BertConfig
            {
                Channels = a.Int("d-model", 96, 1, 1024),
                Heads = a.Int("heads", 4, 1, 64),
                Layers = a.Int("layers", 2, 1, 12),
                MaxLength = a.Int("max-length", 64, BertTrainingRun.MinLength, 1024),
                Seed = seed,
            };
            if (config.Channels % config.Heads != 0) throw new CliError($"--d-model ({config.Channels}) must divide by --heads ({config.Heads})");
            int batch = a.Int("batch", 32, 1, 4096);
            var options = ModelCommandSupport.ReadTraining(a, TrainingOptions.TaskDefaults with
            {
                Steps = 800, LearningRate = 2e-3, MinLearningRate = 1e-4, WarmupSteps = 100, WeightDecay = 0.01, TimeBudget = TimeSpan.FromSeconds(110),
            });
            a.EnsureAllUsed();
            var corpus = Corpus.Load(DataPath(dataArg), "char");
            var run = new BertTrainingRun(corpus, config, options, batch, heldOutBatches, (ulong)seed, o.Kernel);
            model = run.Model;
            CheckInput(model, input);
            using var folder = o.LockOut(SvgFile);
            if (!o.Json)
                stdout.WriteLine($"data {corpus.Source}: {corpus.Tokens.Length:N0} characters ({corpus.Tokenizer.VocabSize} distinct). BERT {config.Layers} layers, " +
                                 $"{config.Heads} heads, {config.Channels} wide: {model.ParameterCount:N0} parameters; masked-LM, 15% of characters, " +
                                 $"sequences of {BertTrainingRun.MinLength}–{config.MaxLength} padded into batches of {batch}");
            var trained = folder.Train(run.Trainer, o.Json, stdout, run.Evaluate, model.Save, SvgFile, () => CompareSvg(model, input));
            int masked = run.HeldOut.Sum(b => b.Targets.Count(t => t >= 0));
            result = trained.AddTo(new JsonObject
            {
                ["accuracy"] = Math.Round(trained.Accuracy, 4), ["unigram_accuracy"] = Math.Round(run.UnigramAccuracy, 4), ["unigram_guess"] = run.UnigramGuess,
                ["masked_tokens"] = masked,
            }, model.ParameterCount);
            if (!o.Json)
                trained.Print(stdout, batch, "sequences", [],
                [
                    ("masked accuracy", $"{trained.Accuracy:P1} of {masked} held-out masked characters"),
                    ("unigram baseline", $"{run.UnigramAccuracy:P1} (always '{AttentionHeatmap.Printable(run.UnigramGuess)}', the commonest character)"),
                ]);
        }
        CheckInput(model, input);
        var inspection = model.Inspect(input);
        result["input"] = input;
        result["filled"] = inspection.Output;
        if (o.Svg is not null) ModelCommandSupport.WriteText(o.Svg, CompareSvg(model, input));
        if (o.ShowAttention) result["attention"] = inspection.ToJson()["attention"]!.DeepClone();
        if (o.Json) { stdout.WriteLine(result.ToJsonString()); return 0; }
        stdout.WriteLine($"\n  {input}\n  {inspection.Output}   (each _ filled in from both sides)");
        if (o.ShowAttention)
        {
            var map = inspection.Maps[^1];
            stdout.WriteLine($"\nattention of layer {map.Layer} (mean of {map.Heads} heads): every character attends to every other — a full square");
            foreach (var line in AttentionHeatmap.Render(map.MeanOverHeads(), map.QueryLabels, map.KeyLabels, 6)) stdout.WriteLine(line);
        }
        if (o.Svg is not null) stdout.WriteLine($"wrote {o.Svg}");
        return 0;
    }

    private static string DataPath(string? given) => given ?? TinyShakespeare.Source;

    private static void CheckInput(BertModel model, string input)
    {
        int length = input.EnumerateRunes().Count();
        if (length == 0 || length > model.Config.MaxLength) throw new CliError($"--input must have 1–{model.Config.MaxLength} characters, got {length}");
        foreach (var r in input.EnumerateRunes())
            if (r.Value != '_' && !model.Config.CharacterList.Contains(r.ToString()))
                throw new CliError($"--input: character '{r}' is not in the model's vocabulary (use _ for a blank)");
    }

    /// <summary>
    /// BERT's square next to GPT's triangle: the last layer's attention (mean over heads) of the trained encoder, and
    /// the same weights run under a causal mask, the only thing that makes a Transformer block a GPT block.
    /// </summary>
    internal static string CompareSvg(BertModel model, string input)
    {
        var bert = model.Inspect(input);
        var gpt = new BertModel(model.Config with { IsCausal = true });
        model.Parameters.Data.CopyTo(gpt.Parameters.Data, 0);
        var causal = gpt.Inspect(input);
        // the sharper (lower-entropy) layer shows the shape best; [MASK] is drawn as _ to fit a cell
        int layer = Enumerable.Range(0, bert.Maps.Count).MinBy(l => Entropy(bert.Maps[l]));
        var b = bert.Maps[layer];
        var g = causal.Maps[layer];
        string[] labels = [.. b.QueryLabels.Select(l => l == "[MASK]" ? "_" : l)];
        return AttentionMapSvg.Render(
        [
            new AttentionPanel($"BERT (bidirectional), layer {b.Layer}: a full square", b.MeanOverHeads(), labels, labels),
            new AttentionPanel($"GPT (causal mask), layer {g.Layer}: a lower triangle", g.MeanOverHeads(), labels, labels),
        ], "left: the trained masked-LM encoder; right: the same weights under GPT's causal mask (query i sees keys ≤ i); mean over heads; _ = [MASK]");
    }

    private static double Entropy(AttentionMap map) => AttentionHeatmap.MeanEntropy(map.MeanOverHeads(), map.QueryLength);

    private static void Usage(TextWriter w)
    {
        w.WriteLine("usage: attnlab bert [--data FILE] [--max-length T] " + ModelCommandSupport.TrainingUsage.Replace("\n", "\n                   ", StringComparison.Ordinal));
        w.WriteLine("                   [--held-out BATCHES] [--input TEXT]");
        w.WriteLine("       attnlab bert --model DIR [--data FILE] [--held-out BATCHES] [--input TEXT] [--show-attention] [--svg FILE] [--json]");
        w.WriteLine();
        w.WriteLine("Trains a character-level BERT (bidirectional pre-LayerNorm encoder) as a masked language model on --data (default");
        w.WriteLine("the bundled tiny Shakespeare, first 90%): 15% of the characters are chosen and become [MASK] (80%), a random character (10%)");
        w.WriteLine("or stay (10%); sequences of unequal lengths share a batch through a padding mask. Reports masked-character");
        w.WriteLine("accuracy on held-out text (last 10%) against the unigram baseline (always guess the commonest character), fills");
        w.WriteLine($"the _ blanks of --input (default \"{DefaultInput}\") and writes {SvgFile}: BERT's full square of");
        w.WriteLine("attention beside the triangle the same weights give under GPT's causal mask. --model DIR evaluates a saved model.");
        w.WriteLine("Defaults: 2 layers, 96 wide, 4 heads, max length 64, batch 32, lr 2e-3, at most 110 s of training.");
    }
}
