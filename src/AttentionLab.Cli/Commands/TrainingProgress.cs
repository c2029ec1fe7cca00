using System.Diagnostics;
using System.Text.Json.Nodes;
using AttentionLab.Training;
using Spectre.Console;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// Shows a training's progress while the library's <see cref="RunPolicy"/> runs it (the policy, not this display,
/// validates, checkpoints and saves): a live Spectre.Console bar when stdout is a terminal, a plain line every few
/// seconds (and at each validation) otherwise, one JSON object per step with --json where the command streams them.
/// Ctrl+C (<see cref="CtrlCStop"/>) cancels the run after the current step; a diverged loss is one line, exit 1.
/// </summary>
internal static class TrainingProgress
{
    public enum Mode { Live, Plain, Json }

    /// <summary>What a step's throughput counts, and whether --json streams one object per step.</summary>
    /// <param name="Unit">"tok/s" or "ex/s"</param>
    /// <param name="JsonPerStep">false: the command prints one JSON object at the end and nothing per step</param>
    public sealed record Style(string Unit, bool JsonPerStep)
    {
        /// <summary>attnlab train and demo: tokens per second, a JSON line per step.</summary>
        public static Style Tokens { get; } = new("tok/s", true);
        /// <summary>seq2seq, bert and vit: examples per second, no JSON per step.</summary>
        public static Style Examples { get; } = new("ex/s", false);
    }

    public static Mode Choose(TextWriter stdout, bool json) => json ? Mode.Json : CommandSupport.IsTerminal(stdout) ? Mode.Live : Mode.Plain;

    /// <summary>Runs <paramref name="run"/> under the run policy, rendering each report.</summary>
    /// <param name="stop">asked after each step whether to stop (the demo's time budget); null: never</param>
    public static RunResult Run(ITrainingRun run, Style style, Mode mode, TextWriter stdout, Func<StepReport, bool>? stop = null)
    {
        using var ctrlC = new CtrlCStop(stdout);
        try
        {
            if (mode != Mode.Live) return RunPolicy.Run(run, new TextView(run, style, mode, stdout), ctrlC.Token, stop);
            RunResult? result = null;
            Bar().Start(ctx =>
            {
                var task = ctx.AddTask($"step {run.CompletedSteps}/{run.PlannedSteps}", maxValue: run.PlannedSteps);
                task.Value = run.CompletedSteps;
                result = RunPolicy.Run(run, new LiveView(task, style), ctrlC.Token, stop);
                if (run.IsFinished) task.Value = task.MaxValue;
                task.StopTask();
            });
            return result!;
        }
        catch (TrainingDivergedException e)
        {
            throw new CliError(e.Message, 1); // the last checkpoint is still good
        }
    }

    /// <summary>The live bar: description (step, loss, speed, ETA), bar, percentage, spinner; kept on screen when done.</summary>
    public static Progress Bar() =>
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new SpinnerColumn());

    /// <summary>One line per report: step, loss, validation loss (when made), learning rate, speed, elapsed, ETA.</summary>
    public static string Line(StepReport r, string unit = "tok/s") =>
        $"step {r.Step,6}/{r.TotalSteps}  loss {CommandSupport.F(r.Loss)}" +
        (r.ValidationLoss is double v ? $"  val {CommandSupport.F(v)}" : "") +
        $"  lr {r.LearningRate:0.00e+0}  {r.TokensPerSecond,8:N0} {unit}  elapsed {CommandSupport.Clock(r.Elapsed)}  ETA {CommandSupport.Clock(r.Remaining)}";

    /// <summary>The bar's description and a line above it at each validation.</summary>
    private sealed class LiveView(ProgressTask task, Style style) : IProgress<StepReport>
    {
        private double? _validation;

        public void Report(StepReport r)
        {
            if (r.ValidationLoss is double v)
            {
                _validation = v;
                AnsiConsole.MarkupLine(r.ValidationOnly
                    ? $"[grey]step {r.Step,6}[/]  val [red]{CommandSupport.F(v)}[/]"
                    : $"[grey]step {r.Step,6}[/]  train [blue]{CommandSupport.F(r.Loss)}[/]  val [red]{CommandSupport.F(v)}[/]  [grey]({CommandSupport.Clock(r.Elapsed)})[/]");
            }
            if (r.ValidationOnly) return;
            task.MaxValue = r.TotalSteps;
            task.Value = r.Step;
            var val = _validation is double last ? $"  val [red]{CommandSupport.F(last, "0.000")}[/]" : "";
            task.Description = $"step {r.Step}/{r.TotalSteps}  loss [blue]{CommandSupport.F(r.Loss, "0.000")}[/]{val}  {r.TokensPerSecond:N0} {style.Unit}  " +
                               $"ETA {CommandSupport.Clock(r.Remaining)}";
        }
    }

    /// <summary>Plain lines (the first step, each validation, the last step, and every 5 s), or JSON lines.</summary>
    private sealed class TextView(ITrainingRun run, Style style, Mode mode, TextWriter stdout) : IProgress<StepReport>
    {
        private readonly Stopwatch _sinceLine = Stopwatch.StartNew();

        public void Report(StepReport r)
        {
            if (mode == Mode.Json)
            {
                if (!style.JsonPerStep) return;
                stdout.WriteLine((r.ValidationOnly ? new JsonObject { ["step"] = r.Step, ["val_loss"] = r.ValidationLoss } : Json(r)).ToJsonString());
            }
            else if (r.ValidationOnly || r.ValidationLoss is not null || r.Step == 1 || run.IsFinished || _sinceLine.Elapsed.TotalSeconds >= 5)
            {
                stdout.WriteLine(Line(r, style.Unit));
                _sinceLine.Restart();
            }
        }
    }

    private static JsonObject Json(StepReport r)
    {
        var o = new JsonObject
        {
            ["step"] = r.Step,
            ["steps"] = r.TotalSteps,
            ["loss"] = r.Loss,
            ["lr"] = r.LearningRate,
            ["grad_norm"] = r.GradientNorm,
            ["tokens_per_second"] = Math.Round(r.TokensPerSecond, 1),
            ["elapsed_s"] = Math.Round(r.Elapsed.TotalSeconds, 3),
            ["eta_s"] = Math.Round(r.Remaining.TotalSeconds, 3),
        };
        if (r.ValidationLoss is double v) o["val_loss"] = v;
        return o;
    }
}
