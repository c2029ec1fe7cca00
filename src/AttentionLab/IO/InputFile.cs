using System.Text;
using System.Text.Json;

namespace AttentionLab.IO;

/// <summary>
/// Reads a file the user named, totally: a missing path, a directory, a FIFO, a device (or a symlink to one), a
/// file over the size the caller allows, bytes that are not UTF-8 or not JSON each give one
/// <see cref="FileNotFoundException"/> or <see cref="InvalidDataException"/> naming the path — never a hang, an
/// unbounded read or another exception. Every reader of user files (safetensors, config.json, the tokenizer and
/// training-state files, corpora, matrices) goes through here.
/// </summary>
public static class InputFile
{
    /// <summary>Opens a regular file for reading. The stream's length is fixed when it is opened.</summary>
    /// <param name="what">What the file is, for messages ("config.json", "data file").</param>
    public static FileStream OpenRead(string path, string what)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0) throw new FileNotFoundException($"{what}: the path is empty");
        if (NativeFile.IsSupported)
        {
            var (handle, kind) = NativeFile.OpenForReading(path);
            if (handle is null)
                throw new InvalidDataException(kind == NativeFile.Kind.Directory
                    ? $"{what} {path} is a directory, not a file"
                    : $"{what} {path} is not a regular file (a FIFO, socket or device); give a file");
            return new FileStream(handle, FileAccess.Read, bufferSize: 1 << 16);
        }
        if (Directory.Exists(path)) throw new InvalidDataException($"{what} {path} is a directory, not a file");
        if (!File.Exists(path)) throw new FileNotFoundException($"{what} {path} does not exist", path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
    }

    /// <summary>Every byte of a regular file of at most <paramref name="maxBytes"/> bytes.</summary>
    public static byte[] ReadAllBytes(string path, long maxBytes, string what)
    {
        using var stream = OpenRead(path, what);
        long length = stream.Length;
        if (length > maxBytes)
            throw new InvalidDataException($"{what} {path} is {length:N0} bytes, more than the {maxBytes:N0} allowed");
        var bytes = new byte[length];
        int read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        if (read != bytes.Length) throw new InvalidDataException($"{what} {path} shrank while it was read");
        return bytes;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>A UTF-8 text file of at most <paramref name="maxBytes"/> bytes (a leading byte-order mark dropped).</summary>
    public static string ReadAllText(string path, long maxBytes, string what) => DecodeUtf8(ReadAllBytes(path, maxBytes, what), $"{what} {path}");

    /// <summary>Strict UTF-8 decoding; invalid bytes give one line naming the offset.</summary>
    public static string DecodeUtf8(ReadOnlySpan<byte> bytes, string what)
    {
        if (bytes.StartsWith("\uFEFF"u8)) bytes = bytes[3..];
        try { return StrictUtf8.GetString(bytes); }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException($"{what} is not valid UTF-8 text (bad byte near offset {Math.Max(e.Index, 0)})");
        }
    }

    /// <summary>
    /// Parses JSON, with a one-line message naming the line and byte of the first problem (System.Text.Json's
    /// own message can quote the input). Strings with escaped lone surrogates parse; callers that read them
    /// must use <see cref="GetText"/>.
    /// </summary>
    public static JsonDocument ParseJson(ReadOnlyMemory<byte> utf8, string what)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = 64 }); }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{what} is not valid JSON (line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1})");
        }
        try { CheckStrings(doc.RootElement, what); }
        catch { doc.Dispose(); throw; }
        return doc;
    }

    /// <summary>
    /// Every name and string of a document must be text: an escaped lone surrogate (<c>"\ud800"</c>) parses, but
    /// reading it — even looking a property up by name — throws InvalidOperationException. Checked once here, so
    /// no reader meets one later.
    /// </summary>
    private static void CheckStrings(JsonElement e, string what)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject()) { GetName(p, $"{what}: a name"); CheckStrings(p.Value, what); }
                break;
            case JsonValueKind.Array:
                foreach (var x in e.EnumerateArray()) CheckStrings(x, what);
                break;
            case JsonValueKind.String:
                GetText(e, $"{what}: a string");
                break;
        }
    }

    /// <summary>A JSON string's value, refusing escaped lone surrogates (which no text can hold).</summary>
    public static string GetText(JsonElement e, string what)
    {
        if (e.ValueKind != JsonValueKind.String) throw new InvalidDataException($"{what} must be a string, got {Describe(e)}");
        string s;
        try { s = e.GetString()!; }
        catch (InvalidOperationException) { throw new InvalidDataException($"{what} is not valid text (an escaped lone surrogate)"); }
        return CheckText(s, what);
    }

    /// <summary>A JSON property's name, refusing escaped lone surrogates.</summary>
    public static string GetName(JsonProperty p, string what)
    {
        string s;
        try { s = p.Name; }
        catch (InvalidOperationException) { throw new InvalidDataException($"{what} is not valid text (an escaped lone surrogate)"); }
        return CheckText(s, what);
    }

    /// <summary>Returns <paramref name="s"/> unless it holds a lone surrogate.</summary>
    public static string CheckText(string s, string what)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { i++; continue; }
            if (char.IsSurrogate(s[i])) throw new InvalidDataException($"{what} holds a lone surrogate (U+{(int)s[i]:X4}), which is not text");
        }
        return s;
    }

    /// <summary>"a string", "the number 3", "null"… for messages.</summary>
    public static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
