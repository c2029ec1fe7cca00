namespace AttentionLab.Experiments;

/// <summary>Every experiment by name, in the order the course meets them.</summary>
public static class ExperimentCatalog
{
    public static IReadOnlyList<IExperiment> All { get; } =
    [
        new InitLossExperiment(),
        new ScalingExperiment(),
        new CausalMaskExperiment(),
        new HeadsExperiment(),
        new PositionsExperiment(),
        new GqaExperiment(),
        new AttentionVsRnnExperiment(),
    ];

    public static IEnumerable<string> Names => All.Select(e => e.Name);

    /// <exception cref="ArgumentException">an unknown name; the message lists the known ones</exception>
    public static IExperiment Find(string name) =>
        All.FirstOrDefault(e => e.Name == name)
        ?? throw new ArgumentException($"unknown experiment '{name}'; known: {string.Join(", ", Names)}");
}
