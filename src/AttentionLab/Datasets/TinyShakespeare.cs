using System.Reflection;

namespace AttentionLab.Datasets;

/// <summary>
/// Karpathy's tiny Shakespeare (data/tinyshakespeare.txt, 1,115,394 characters of the plays, as nanoGPT's
/// shakespeare_char uses it), embedded in this library so the commands that train on it by default work from any
/// directory. <see cref="Source"/> stands for it wherever a data path goes: <see cref="Training.Corpus.Load(string, string)"/>
/// reads it from here, and a run started on it records this name, so <c>--resume</c> finds it again.
/// </summary>
public static class TinyShakespeare
{
    /// <summary>The name that stands for the embedded text in place of a file path.</summary>
    public const string Source = "bundled:tinyshakespeare.txt";

    private const string ResourceName = "AttentionLab.Data.tinyshakespeare.txt";

    private static readonly Lazy<byte[]> Bytes = new(() =>
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"the library was built without its {ResourceName} resource");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    /// <summary>The text's UTF-8 bytes, as in the repository's data/tinyshakespeare.txt.</summary>
    public static ReadOnlySpan<byte> Utf8 => Bytes.Value;

    /// <summary>True when <paramref name="path"/> names the embedded text rather than a file.</summary>
    public static bool Names(string path) => string.Equals(path, Source, StringComparison.Ordinal);
}
