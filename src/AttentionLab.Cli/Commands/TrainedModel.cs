using System.Text.Json.Nodes;
using AttentionLab.Training;

namespace AttentionLab.Cli.Commands;

/// <summary>What a seq2seq, bert or vit training leaves for its command to report (<see cref="ModelOutputFolder.Train"/>).</summary>
/// <param name="Last">the last step's report, or null when no step ran</param>
/// <param name="Accuracy">the held-out score, measured in <paramref name="EvalSeconds"/></param>
internal sealed record TrainedModel(Trainer Trainer, StepReport? Last, bool Interrupted, double CpuSeconds, double Accuracy, double EvalSeconds,
    string Directory, string SvgFile)
{
    /// <summary>Adds the fields every training reports: steps, train_seconds, train_cpu_seconds, train_loss, parameters,
    /// interrupted, out and loss_curve.</summary>
    public JsonObject AddTo(JsonObject result, long parameters)
    {
        result["steps"] = Trainer.State.Step;
        result["train_seconds"] = Math.Round(Trainer.Elapsed.TotalSeconds, 2);
        result["train_cpu_seconds"] = Math.Round(CpuSeconds, 2);
        result["train_loss"] = Last is null ? null : Math.Round(Last.Loss, 5);
        result["parameters"] = parameters;
        result["interrupted"] = Interrupted;
        result["out"] = Directory;
        result["loss_curve"] = Curve();
        return result;
    }

    /// <summary>The loss curve (every step) for --json output: [[step, loss], …], thinned to at most 200 points.</summary>
    private JsonArray Curve()
    {
        var points = Trainer.State.TrainLosses;
        int stride = Math.Max(1, points.Count / 200);
        var array = new JsonArray();
        for (int i = 0; i < points.Count; i += stride) array.Add(new JsonArray(points[i].Step, Math.Round(points[i].Loss, 5)));
        return array;
    }

    /// <summary>
    /// The summary after training: <paramref name="first"/>, the steps and train loss, <paramref name="scores"/>, then
    /// where the model was saved; labels padded to one column.
    /// </summary>
    /// <param name="batch">examples per step, in <paramref name="unit"/> ("examples", "sequences", "images")</param>
    public void Print(TextWriter stdout, int batch, string unit, IReadOnlyList<(string Label, string Value)> first, IReadOnlyList<(string Label, string Value)> scores)
    {
        List<(string Label, string Value)> rows =
        [
            .. first,
            ("steps", $"{Trainer.State.Step} × {batch} {unit} in {Trainer.Elapsed.TotalSeconds:0.0} s ({CpuSeconds:0.0} s of CPU){(Interrupted ? " (interrupted)" : "")}"),
            ("train loss", Last is null ? "-" : CommandSupport.F(Last.Loss)),
            .. scores,
            ("saved", $"{Directory}  ({IO.ModelFolder.ConfigFile}, {IO.ModelFolder.WeightsFile}, {SvgFile})"),
        ];
        int width = rows.Max(r => r.Label.Length) + 2;
        stdout.WriteLine();
        foreach (var (label, value) in rows) stdout.WriteLine($"  {label.PadRight(width)} {value}");
    }
}
