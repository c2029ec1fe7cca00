using System.Text.Json.Nodes;
using AttentionLab.Training;

namespace AttentionLab.Experiments;

/// <summary>One setting of an experiment, trained and measured.</summary>
/// <param name="Setting">e.g. "causal", "no-mask", "4 heads"</param>
/// <param name="Steps">optimizer steps taken (0 for an untrained measurement)</param>
/// <param name="TrainLoss">loss on fixed training windows after training</param>
/// <param name="ValidationLoss">loss on fixed held-out windows after training</param>
/// <param name="Seconds">training wall-clock time</param>
/// <param name="Parameters">trainable parameters</param>
/// <param name="TrainCurve">the training batches' losses, step by step</param>
/// <param name="ValidationCurve">the periodic validation estimates</param>
public sealed record ExperimentRun(string Setting, int Steps, double TrainLoss, double ValidationLoss, double Seconds, long Parameters,
    IReadOnlyList<LossPoint> TrainCurve, IReadOnlyList<LossPoint> ValidationCurve)
{
    /// <summary>What this experiment measures beyond the losses (snake_case keys, JSON values).</summary>
    public JsonObject Measures { get; init; } = new();
}

/// <summary>An experiment's outcome: its runs, the measures worth a table column, and what they show.</summary>
/// <param name="Experiment">the experiment's name ("scaling", …)</param>
/// <param name="Claim">the course material's claim the experiment tests</param>
/// <param name="Runs">one per setting, in order</param>
/// <param name="Columns">scalar keys of <see cref="ExperimentRun.Measures"/> to show in a table, in order</param>
/// <param name="Finding">what the numbers say, computed from them (e.g. which setting won, by how much)</param>
public sealed record ExperimentResult(string Experiment, string Claim, IReadOnlyList<ExperimentRun> Runs, IReadOnlyList<string> Columns, string Finding)
{
    /// <summary>Experiment-wide facts (model sizes, the budget, the task), as JSON.</summary>
    public JsonObject Setup { get; init; } = new();
}
