using System.Globalization;
using System.Text.Json;
using AttentionLab.Interpretability;
using AttentionLab.IO;
using AttentionLab.Rendering;
using AttentionLab.Text;

namespace AttentionLab.Cli.Commands;

/// <summary><c>attnlab analyze induction</c>: score a model's heads on a repeated random sequence, or train the
/// <see cref="InductionTask"/> model that has an induction head (<c>--train DIR</c>).</summary>
public static partial class AnalyzeCommand
{
    private static int Induction(AnalyzeInput input, TextWriter stdout)
    {
        var cfg = input.Model.Config;
        int period = input.Args.Int("period", Math.Min(24, cfg.ContextLength / 2), min: 2, max: cfg.ContextLength / 2);
        int seed = input.Args.Int("seed", 0, min: 0);
        string? svg = input.Args.Path("svg");
        input.Args.EnsureAllUsed();
        var tokens = InductionHeads.RepeatedSequence(cfg.VocabSize, period, seed);
        var result = InductionHeads.Score(input.Model, tokens);
        var (layer, head, score) = result.Top;
        float without = InductionHeads.SecondHalfLossWithout(input.Model, tokens, layer, head);
        var rows = Enumerable.Range(0, cfg.Layers).Select(l => $"blocks.{l}").ToArray();
        var heads = Enumerable.Range(0, cfg.Heads).Select(h => $"H{h}").ToArray();
        AnalyzeInput.WriteSvg(svg, SignedHeatmapSvg.Render(result.Induction, rows, heads, "induction score per head (random tokens repeated twice)",
            $"period {period}; loss first copy {F(result.FirstHalfLoss)}, second {F(result.SecondHalfLoss)}, second without {layer}.{head} {F(without)}", limit: 1));
        if (input.Json)
        {
            JsonOutput.Print(stdout, w =>
            {
                w.WriteStartObject();
                w.WriteString("method", "induction");
                Ids(w, "tokens", tokens, input);
                w.WriteNumber("period", period);
                Rows(w, "induction", result.Induction, cfg.Layers, cfg.Heads);
                Rows(w, "previous_token", result.PreviousToken, cfg.Layers, cfg.Heads);
                w.WritePropertyName("first_half_loss"); JsonOutput.Number(w, result.FirstHalfLoss);
                w.WritePropertyName("second_half_loss"); JsonOutput.Number(w, result.SecondHalfLoss);
                w.WriteStartObject("top");
                w.WriteNumber("layer", layer);
                w.WriteNumber("head", head);
                w.WritePropertyName("score"); JsonOutput.Number(w, score);
                w.WritePropertyName("second_half_loss_without"); JsonOutput.Number(w, without);
                w.WriteEndObject();
                w.WriteEndObject();
            });
            return 0;
        }
        stdout.WriteLine($"{period} random tokens repeated twice: loss on the first copy {F(result.FirstHalfLoss)}, on the second {F(result.SecondHalfLoss)}");
        stdout.WriteLine("induction score (attention to the token after the earlier copy), rows = layers:");
        var numbers = Enumerable.Range(0, cfg.Heads).Select(h => h.ToString(CultureInfo.InvariantCulture)).ToArray();
        Table(stdout, result.Induction, rows, numbers);
        stdout.WriteLine("previous-token score:");
        Table(stdout, result.PreviousToken, rows, numbers);
        stdout.WriteLine($"top induction head {layer}.{head} ({F(score)}); with it zero-ablated the second copy's loss is {F(without)} ({(without - result.SecondHalfLoss):+0.0000;-0.0000})");
        if (svg is not null) stdout.WriteLine($"wrote {svg}");
        return 0;
    }

    private static int TrainInduction(Args args, TextWriter stdout)
    {
        string dir = args.RequirePath("train");
        int steps = args.Int("steps", 600, min: 1, max: 1_000_000);
        int seed = args.Int("seed", 0, min: 0);
        bool json = args.Json;
        args.EnsureAllUsed();
        if (File.Exists(Path.Combine(dir, DecoderFolder.ConfigFileName))) throw new CliError($"{dir} already holds a model; pick a new folder");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var last = TimeSpan.Zero;
        var model = InductionTask.Train(seed, steps, r =>
        {
            if (json || (clock.Elapsed - last < TimeSpan.FromSeconds(2) && r.Step != r.TotalSteps)) return;
            last = clock.Elapsed;
            stdout.WriteLine($"  step {r.Step}/{r.TotalSteps}  loss {F(r.Loss)}  {CommandSupport.Clock(clock.Elapsed)}");
        });
        DecoderFolder.Save(model, dir);
        Tokenizers.Save(InductionTask.Tokenizer(), dir);
        var tokens = InductionHeads.RepeatedSequence(InductionTask.Config.VocabSize, 12, seed);
        var result = InductionHeads.Score(model.InferenceView(), tokens);
        if (json)
        {
            JsonOutput.Print(stdout, w =>
            {
                w.WriteStartObject();
                w.WriteString("model", dir);
                w.WriteNumber("steps", steps);
                w.WriteNumber("seconds", clock.Elapsed.TotalSeconds);
                Rows(w, "induction", result.Induction, result.Layers, result.Heads);
                w.WriteEndObject();
            });
            return 0;
        }
        var (layer, head, score) = result.Top;
        stdout.WriteLine($"trained {steps} steps in {CommandSupport.Clock(clock.Elapsed)}; saved {dir}. Top induction head {layer}.{head}: {F(score)}");
        stdout.WriteLine($"next: attnlab analyze induction --model {dir} --period 12");
        return 0;
    }
}
