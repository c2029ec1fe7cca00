namespace AttentionLab.Text;

/// <summary>
/// Turns a stream of token ids into a stream of text pieces. With byte-level BPE one character can be
/// split over several tokens (an emoji is 3–4 byte tokens), so a token may decode to half a character
/// (U+FFFD). We hold such tokens back until the character is complete, then emit the new text.
/// </summary>
public sealed class StreamingDecoder(ITokenizer tokenizer)
{
    /// <summary>Emitted ids kept as context: a SentencePiece-style decoder strips the leading space of the text it
    /// decodes (Llama 2's Strip step), so "▁world" alone would lose its space; decoded after a previous token it keeps it.</summary>
    private const int Context = 3;

    private readonly List<int> _pending = [];
    private readonly List<int> _emitted = [];

    /// <summary>Adds one id; returns the text it completes (possibly empty).</summary>
    public string Push(int id)
    {
        _pending.Add(id);
        var text = NewText();
        // a trailing replacement character means an incomplete UTF-8 sequence: wait for more bytes
        // (up to 4 tokens, the longest UTF-8 sequence; after that it is a real U+FFFD)
        if (text.EndsWith('\uFFFD') && _pending.Count < 4) return "";
        Emit();
        return text;
    }

    /// <summary>Whatever is still held back.</summary>
    public string Flush()
    {
        var text = NewText();
        Emit();
        return text;
    }

    /// <summary>The text the pending ids add after the last emitted ones: decode(context + pending) − decode(context).</summary>
    private string NewText()
    {
        if (_pending.Count == 0) return "";
        if (_emitted.Count == 0) return tokenizer.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending));
        var context = _emitted.Count <= Context ? _emitted : _emitted.GetRange(_emitted.Count - Context, Context);
        string head = tokenizer.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(context));
        string full = tokenizer.Decode([.. context, .. _pending]);
        return full.StartsWith(head, StringComparison.Ordinal)
            ? full[head.Length..]
            : tokenizer.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending));
    }

    private void Emit()
    {
        _emitted.AddRange(_pending);
        if (_emitted.Count > 4 * Context) _emitted.RemoveRange(0, _emitted.Count - Context);
        _pending.Clear();
    }
}
