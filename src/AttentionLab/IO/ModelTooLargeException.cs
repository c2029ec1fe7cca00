namespace AttentionLab.IO;

/// <summary>A model folder whose weights and working set do not fit the memory this process may use; refused before
/// any tensor is read (see <see cref="CheckpointFiles.EnsureFits"/>). An <see cref="IOException"/>, so every command
/// reports it as one line (InvalidDataException, the readers' usual refusal, is sealed).</summary>
public sealed class ModelTooLargeException(string message) : IOException(message);
