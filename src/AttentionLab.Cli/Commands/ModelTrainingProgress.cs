using System.Diagnostics;
using System.Text.Json.Nodes;
using AttentionLab.Training;
using Spectre.Console;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// The progress display of the seq2seq, bert and vit commands, the same three modes as <see cref="TrainingProgress"/>:
/// a live Spectre.Console bar on a terminal, a plain line every few seconds otherwise, nothing per step with --json
/// (the command prints one JSON object at the end). Ctrl+C stops training early; the model trained so far is kept.
/// </summary>
internal static class ModelTrainingProgress
{
    /// <returns>the last step's report, or null when no step ran</returns>
    public static StepReport? Run(ModelTrainer trainer, TrainingProgress.Mode mode, TextWriter stdout, out bool interrupted)
    {
        using var ctrlC = new CtrlCStop(stdout);
        StepReport? last = null;
        try
        {
            if (mode == TrainingProgress.Mode.Live)
            {
                TrainingProgress.Bar().Start(ctx =>
                {
                    var task = ctx.AddTask($"step 0/{trainer.Options.Steps}", maxValue: trainer.Options.Steps);
                    while (!trainer.IsFinished && !ctrlC.Requested)
                    {
                        var r = trainer.Next();
                        last = r;
                        task.Value = r.Step;
                        task.Description = $"step {r.Step}/{r.TotalSteps}  loss [blue]{CommandSupport.F(r.Loss, "0.000")}[/]  {r.TokensPerSecond:N0} ex/s  ETA {CommandSupport.Clock(r.Remaining)}";
                    }
                    task.Value = task.MaxValue;
                    task.StopTask();
                });
            }
            else
            {
                var sinceLine = Stopwatch.StartNew();
                while (!trainer.IsFinished && !ctrlC.Requested)
                {
                    var r = trainer.Next();
                    last = r;
                    if (mode == TrainingProgress.Mode.Plain && (r.Step == 1 || trainer.IsFinished || sinceLine.Elapsed.TotalSeconds >= 5))
                    {
                        stdout.WriteLine(Line(r));
                        sinceLine.Restart();
                    }
                }
            }
        }
        catch (InvalidOperationException e) when (e.Message.Contains("loss became", StringComparison.Ordinal))
        {
            throw new CliError(e.Message, 1);
        }
        interrupted = ctrlC.Requested;
        return last;
    }

    public static string Line(StepReport r) =>
        $"step {r.Step,5}/{r.TotalSteps}  loss {CommandSupport.F(r.Loss)}  lr {r.LearningRate:0.00e+0}  {r.TokensPerSecond,7:N0} ex/s  " +
        $"elapsed {CommandSupport.Clock(r.Elapsed)}  ETA {CommandSupport.Clock(r.Remaining)}";

    /// <summary>The loss curve (every step) for --json output: [[step, loss], …], thinned to at most 200 points.</summary>
    public static JsonArray Curve(ModelTrainer trainer)
    {
        var points = trainer.Losses;
        int stride = Math.Max(1, points.Count / 200);
        var array = new JsonArray();
        for (int i = 0; i < points.Count; i += stride) array.Add(new JsonArray(points[i].Step, Math.Round(points[i].Loss, 5)));
        return array;
    }
}
