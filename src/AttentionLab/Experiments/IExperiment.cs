namespace AttentionLab.Experiments;

/// <summary>An ablation: trains the same model under each of its settings and measures what differs.</summary>
public interface IExperiment
{
    /// <summary>What the command line calls it ("causal-mask").</summary>
    string Name { get; }

    /// <summary>One line: the claim and how it is tested.</summary>
    string Summary { get; }

    /// <summary>Trains and measures every setting.</summary>
    ExperimentResult Run(ExperimentContext context);
}

/// <summary>Progress of one training step of one setting, for a display.</summary>
/// <param name="Setting">the setting being trained</param>
/// <param name="Index">its position among the experiment's training runs (0-based)</param>
/// <param name="Count">how many training runs the experiment makes</param>
/// <param name="Step">steps done in this run</param>
/// <param name="PlannedSteps">steps planned (changes as a time budget is fitted)</param>
/// <param name="Loss">this step's training loss</param>
public sealed record ExperimentProgress(string Setting, int Index, int Count, int Step, int PlannedSteps, double Loss);
