namespace AttentionLab.Text;

/// <summary>
/// Turns a stream of token ids into a stream of text pieces. With byte-level BPE one character can be
/// split over several tokens (an emoji is 3–4 byte tokens), so a token may decode to half a character
/// (U+FFFD). We hold such tokens back until the character is complete, then emit the new text.
/// </summary>
public sealed class StreamingDecoder(ITokenizer tokenizer)
{
    private readonly List<int> _pending = [];

    /// <summary>Adds one id; returns the text it completes (possibly empty).</summary>
    public string Push(int id)
    {
        _pending.Add(id);
        var text = tokenizer.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending));
        // a trailing replacement character means an incomplete UTF-8 sequence: wait for more bytes
        // (up to 4 tokens, the longest UTF-8 sequence; after that it is a real U+FFFD)
        if (text.EndsWith('\uFFFD') && _pending.Count < 4) return "";
        _pending.Clear();
        return text;
    }

    /// <summary>Whatever is still held back.</summary>
    public string Flush()
    {
        var text = tokenizer.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending));
        _pending.Clear();
        return text;
    }
}
