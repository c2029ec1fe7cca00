using AttentionLab.Datasets;
using AttentionLab.IO;
using AttentionLab.Text;

namespace AttentionLab.Training;

/// <summary>
/// A training text, tokenized once and split into the first <see cref="TrainFraction"/> of tokens for
/// training and the rest for validation (the usual 90/10 split of nanoGPT's shakespeare_char).
/// The validation tokens are never trained on, so validation loss measures generalization, not memory.
/// </summary>
public sealed class Corpus
{
    public const double TrainFraction = 0.9;

    public ITokenizer Tokenizer { get; }
    /// <summary>Every token of the text, in order.</summary>
    public int[] Tokens { get; }
    /// <summary>The first 90% of <see cref="Tokens"/>.</summary>
    public ReadOnlyMemory<int> Train { get; }
    /// <summary>The last 10% of <see cref="Tokens"/>.</summary>
    public ReadOnlyMemory<int> Validation { get; }
    /// <summary>Where the text came from (a path or a description), for messages.</summary>
    public string Source { get; }

    private Corpus(string source, ITokenizer tokenizer, int[] tokens)
    {
        Source = source;
        Tokenizer = tokenizer;
        Tokens = tokens;
        int split = (int)(tokens.Length * TrainFraction);
        Train = tokens.AsMemory(0, split);
        Validation = tokens.AsMemory(split);
    }

    /// <summary>Tokenizes <paramref name="text"/> with <paramref name="tokenizer"/>.</summary>
    public static Corpus FromText(string text, ITokenizer tokenizer, string source = "text")
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (text.Length == 0) throw new InvalidDataException($"{source} is empty");
        return new Corpus(source, tokenizer, tokenizer.Encode(text));
    }

    /// <summary>Reads and tokenizes a UTF-8 text file; <paramref name="tokenizerName"/> as in
    /// <see cref="Tokenizers.Create"/> (the char vocabulary comes from this file).</summary>
    public static Corpus Load(string path, string tokenizerName)
    {
        var text = ReadText(path);
        return FromText(text, Tokenizers.Create(tokenizerName, text), path);
    }

    /// <summary>Reads and tokenizes a UTF-8 text file with an existing tokenizer (e.g. a saved model's).</summary>
    public static Corpus Load(string path, ITokenizer tokenizer) => FromText(ReadText(path), tokenizer, path);

    /// <summary>Data files larger than this are refused (the text, its tokens and the split must fit in memory).</summary>
    public const long MaxBytes = 1L << 30;

    /// <summary>
    /// Reads a file as UTF-8 text, refusing what is clearly not text: a missing or empty file, a directory, a FIFO or
    /// device, a file over <see cref="MaxBytes"/>, NUL bytes (binary data), or bytes that are not valid UTF-8.
    /// A leading byte-order mark is dropped. <see cref="TinyShakespeare.Source"/> reads the text embedded in the library.
    /// </summary>
    public static string ReadText(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = TinyShakespeare.Names(path) ? TinyShakespeare.Utf8.ToArray() : InputFile.ReadAllBytes(path, MaxBytes, "data file");
        if (bytes.Length == 0) throw new InvalidDataException($"data file {path} is empty");
        int nul = Array.IndexOf(bytes, (byte)0);
        if (nul >= 0) throw new InvalidDataException($"data file {path} looks binary (NUL byte at offset {nul}); give a UTF-8 text file");
        var text = InputFile.DecodeUtf8(bytes, $"data file {path}");
        if (text.Length == 0) throw new InvalidDataException($"data file {path} is empty");
        return text;
    }

    /// <summary>Throws unless both splits hold at least one window of <paramref name="context"/> + 1 tokens
    /// (a window needs T inputs and the T targets shifted by one).</summary>
    public void EnsureFits(int context)
    {
        if (Validation.Length < context + 1 || Train.Length < context + 1)
            throw new InvalidDataException(
                $"{Source} has {Tokens.Length} {Tokenizer.Name} tokens; with a 90/10 split each part needs at least context + 1 = {context + 1} " +
                $"(train has {Train.Length}, validation {Validation.Length}). Use more text or a smaller --context.");
    }
}
