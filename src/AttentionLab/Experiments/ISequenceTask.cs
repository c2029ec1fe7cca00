using AttentionLab.Training;

namespace AttentionLab.Experiments;

/// <summary>A synthetic task that draws fresh token windows with their targets (<see cref="CopyTask"/>, <see cref="RecallTask"/>).</summary>
public interface ISequenceTask
{
    /// <summary>Ids the model must know.</summary>
    int VocabSize { get; }

    /// <summary>T, positions per window.</summary>
    int Context { get; }

    /// <summary>Throws <see cref="ArgumentException"/> for sizes that do not make a task.</summary>
    void Validate();

    /// <summary>Fills <paramref name="batch"/> fresh windows.</summary>
    /// <param name="inputs">(B, T)</param>
    /// <param name="targets">(B, T)</param>
    void Fill(ref SplitMix64 random, Span<int> inputs, Span<int> targets, int batch);
}
