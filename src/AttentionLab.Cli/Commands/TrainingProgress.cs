using System.Diagnostics;
using System.Text.Json.Nodes;
using AttentionLab.Training;
using Spectre.Console;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// Runs a <see cref="Trainer"/> to the end while showing progress: a live Spectre.Console bar when stdout
/// is a terminal, a plain line every few seconds (and at each validation) otherwise, one JSON object per
/// step with --json. Calls <c>checkpoint</c> after each validation and at the end; stops early (after
/// checkpointing) on Ctrl+C or when <c>stop</c> says so.
/// </summary>
internal static class TrainingProgress
{
    public enum Mode { Live, Plain, Json }

    public static Mode Choose(TextWriter stdout, bool json) => json ? Mode.Json : CommandSupport.IsTerminal(stdout) ? Mode.Live : Mode.Plain;

    /// <returns>The last report, or null when no step ran; <c>interrupted</c> is true after Ctrl+C.</returns>
    public static StepReport? Run(Trainer trainer, Mode mode, TextWriter stdout, Action checkpoint, Func<StepReport, bool>? stop, out bool interrupted)
    {
        using var ctrlC = new CtrlCStop(stdout);
        StepReport? last = null;
        try
        {
            if (mode == Mode.Live)
            {
                Bar().Start(ctx =>
                {
                    var task = ctx.AddTask(Describe(null, trainer), maxValue: trainer.Options.Steps);
                    task.Value = trainer.State.Step;
                    while (!trainer.IsFinished && !ctrlC.Requested)
                    {
                        var r = trainer.Step();
                        last = r;
                        task.MaxValue = r.TotalSteps;
                        task.Value = r.Step;
                        task.Description = Describe(r, trainer);
                        if (r.ValidationLoss is double v)
                        {
                            AnsiConsole.MarkupLine($"[grey]step {r.Step,6}[/]  train [blue]{CommandSupport.F(r.Loss)}[/]  val [red]{CommandSupport.F(v)}[/]  [grey]({CommandSupport.Clock(r.Elapsed)})[/]");
                            checkpoint();
                        }
                        if (stop?.Invoke(r) == true) break;
                    }
                    task.StopTask();
                });
            }
            else
            {
                var sinceLine = Stopwatch.StartNew();
                while (!trainer.IsFinished && !ctrlC.Requested)
                {
                    var r = trainer.Step();
                    last = r;
                    if (mode == Mode.Json) stdout.WriteLine(Json(r).ToJsonString());
                    else if (r.ValidationLoss is not null || r.Step == 1 || trainer.IsFinished || sinceLine.Elapsed.TotalSeconds >= 5)
                    {
                        stdout.WriteLine(Line(r));
                        sinceLine.Restart();
                    }
                    if (r.ValidationLoss is not null) checkpoint();
                    if (stop?.Invoke(r) == true) break;
                }
            }
            // the final state is always saved (with a validation estimate if the last step had none)
            if (last is not null && last.ValidationLoss is null)
            {
                double v = trainer.EvaluateAndRecord();
                last = last with { ValidationLoss = v };
                if (mode == Mode.Json) stdout.WriteLine(new JsonObject { ["step"] = last.Step, ["val_loss"] = v }.ToJsonString());
                else if (mode == Mode.Plain) stdout.WriteLine(Line(last));
                else AnsiConsole.MarkupLine($"[grey]step {last.Step,6}[/]  val [red]{CommandSupport.F(v)}[/]");
            }
            if (last is not null) checkpoint();
        }
        catch (InvalidOperationException e) when (e.Message.Contains("loss became", StringComparison.Ordinal))
        {
            throw new CliError(e.Message, 1); // diverged: the last checkpoint is still good
        }
        interrupted = ctrlC.Requested;
        return last;
    }

    /// <summary>The live bar: description (step, loss, speed, ETA), bar, percentage, spinner; kept on screen when done.</summary>
    public static Progress Bar() =>
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new SpinnerColumn());

    private static string Describe(StepReport? r, Trainer trainer)
    {
        if (r is null) return $"step {trainer.State.Step}/{trainer.Options.Steps}";
        var val = trainer.State.ValidationLosses.Count > 0 ? $"  val [red]{CommandSupport.F(trainer.State.ValidationLosses[^1].Loss, "0.000")}[/]" : "";
        return $"step {r.Step}/{r.TotalSteps}  loss [blue]{CommandSupport.F(r.Loss, "0.000")}[/]{val}  {r.TokensPerSecond:N0} tok/s  " +
               $"ETA {CommandSupport.Clock(r.Remaining)}";
    }

    public static string Line(StepReport r) =>
        $"step {r.Step,6}/{r.TotalSteps}  loss {CommandSupport.F(r.Loss)}" +
        (r.ValidationLoss is double v ? $"  val {CommandSupport.F(v)}" : "") +
        $"  lr {r.LearningRate:0.00e+0}  {r.TokensPerSecond,8:N0} tok/s  elapsed {CommandSupport.Clock(r.Elapsed)}  ETA {CommandSupport.Clock(r.Remaining)}";

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
