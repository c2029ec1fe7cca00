namespace AttentionLab.Interpretability;

/// <summary>How far a sweep (patching, ablation) has come: <paramref name="Done"/> of <paramref name="Total"/> passes.</summary>
public readonly record struct SweepProgress(int Done, int Total);
