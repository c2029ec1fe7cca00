namespace AttentionLab.Text.HuggingFace;

/// <summary>
/// GPT-2's reversible map between the 256 byte values and 256 printable characters (<c>bytes_to_unicode</c> in
/// encoder.py; Hugging Face's ByteLevel pre-tokenizer and decoder): the printable Latin-1 bytes map to themselves,
/// the other 68 (control characters, space, 0x7F–0xA0, 0xAD) to U+0100 onward in byte order, so a space is 'Ġ'
/// (U+0120) and a newline 'Ċ' (U+010A). A byte-level vocabulary is written in these characters.
/// </summary>
public static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = Build();
    private static readonly Dictionary<char, byte> CharToByte = Enumerable.Range(0, 256).ToDictionary(b => ByteToChar[b], b => (byte)b);

    private static char[] Build()
    {
        var map = new char[256];
        var printable = new bool[256];
        for (int b = '!'; b <= '~'; b++) printable[b] = true;
        for (int b = 0xA1; b <= 0xAC; b++) printable[b] = true;
        for (int b = 0xAE; b <= 0xFF; b++) printable[b] = true;
        int next = 256;
        for (int b = 0; b < 256; b++) map[b] = printable[b] ? (char)b : (char)next++;
        return map;
    }

    /// <summary>The character that stands for byte <paramref name="b"/>.</summary>
    public static char Char(byte b) => ByteToChar[b];

    /// <summary>A piece of text as the characters of its UTF-8 bytes ("é" → "Ã©").</summary>
    public static string Encode(string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    /// <summary>The bytes a byte-level string stands for; a character outside the alphabet (an added token's own
    /// text, say) contributes its own UTF-8 bytes.</summary>
    public static void AppendBytes(string token, List<byte> bytes)
    {
        foreach (char c in token)
        {
            if (CharToByte.TryGetValue(c, out byte b)) bytes.Add(b);
            else bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(c.ToString()));
        }
    }
}
