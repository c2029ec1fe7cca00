using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace AttentionLab.Text;

/// <summary>
/// GPT-2's byte-level BPE (Radford et al. 2019; OpenAI's encoder.py), written out in full:
/// <list type="number">
/// <item>split the text with GPT-2's regex into words, numbers, punctuation runs and whitespace;</item>
/// <item>map each piece's UTF-8 bytes to printable characters (<see cref="ByteToChar"/>), so every byte
///   sequence is representable and there is no unknown token;</item>
/// <item>repeatedly merge the adjacent pair with the lowest rank in <c>vocab.bpe</c> (50,000 merges);</item>
/// <item>look each resulting symbol up in <c>encoder.json</c> (50,257 ids; 50256 is &lt;|endoftext|&gt;).</item>
/// </list>
/// The files are the ones bundled under data/tokenizers/gpt2, embedded in this assembly.
/// (Microsoft.ML.Tokenizers' CodeGen tokenizer is close but adds CodeGen's extra whitespace tokens
/// above 50256, so it is not GPT-2.) One known difference from Python: .NET's regex sees a character
/// outside the Basic Multilingual Plane as two surrogates, so such a letter (e.g. 𝐀) is grouped as
/// punctuation; the bytes, and hence the round trip, are unaffected.
/// </summary>
public sealed class Gpt2Tokenizer : ITokenizer
{
    public const int EndOfText = 50256;

    private sealed class Tables
    {
        public required Dictionary<string, int> Encoder;
        public required string[] Decoder;
        public required Dictionary<(string, string), int> Ranks;
    }

    private static readonly Lazy<Tables> Shared = new(Load);

    // GPT-2's pre-tokenizer: contractions, optional-space + letters / digits / other, then whitespace
    // (a run of spaces keeps its last space for the following word: "\s+(?!\S)").
    private static readonly Regex Pattern = new(
        @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", RegexOptions.Compiled);

    /// <summary>bytes_to_unicode: printable bytes map to themselves, the other 68 to U+0100 onwards.</summary>
    internal static readonly char[] ByteToChar = BuildByteMap();
    private static readonly Dictionary<char, byte> CharToByte = ByteToChar.Select((c, b) => (c, b)).ToDictionary(p => p.c, p => (byte)p.b);

    private readonly Tables _tables = Shared.Value;
    private readonly Dictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    public string Name => "gpt2";
    public int VocabSize => 50257;

    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 1);
        foreach (Match m in Pattern.Matches(text))
        {
            lock (_cache)
            {
                if (!_cache.TryGetValue(m.Value, out var pieceIds))
                {
                    pieceIds = EncodePiece(m.Value);
                    if (_cache.Count < 100_000) _cache[m.Value] = pieceIds;
                }
                ids.AddRange(pieceIds);
            }
        }
        return ids.ToArray();
    }

    private int[] EncodePiece(string piece)
    {
        var bytes = Encoding.UTF8.GetBytes(piece);
        var symbols = new List<string>(bytes.Length);
        foreach (var b in bytes) symbols.Add(ByteToChar[b].ToString());
        var ranks = _tables.Ranks;
        while (symbols.Count > 1)
        {
            // the adjacent pair merged earliest in training wins
            int best = -1, bestRank = int.MaxValue;
            for (int i = 0; i + 1 < symbols.Count; i++)
                if (ranks.TryGetValue((symbols[i], symbols[i + 1]), out int r) && r < bestRank) { bestRank = r; best = i; }
            if (best < 0) break;
            var (left, right) = (symbols[best], symbols[best + 1]);
            var merged = new List<string>(symbols.Count);
            for (int i = 0; i < symbols.Count; i++)
            {
                if (i + 1 < symbols.Count && symbols[i] == left && symbols[i + 1] == right) { merged.Add(left + right); i++; }
                else merged.Add(symbols[i]);
            }
            symbols = merged;
        }
        var ids = new int[symbols.Count];
        for (int i = 0; i < ids.Length; i++) ids[i] = _tables.Encoder[symbols[i]];
        return ids;
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new List<byte>(ids.Length * 4);
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)VocabSize)
                throw new ArgumentException($"token id {id} is outside the GPT-2 vocabulary [0, {VocabSize})");
            var symbol = _tables.Decoder[id];
            if (id == EndOfText) { bytes.AddRange(Encoding.UTF8.GetBytes(symbol)); continue; }
            foreach (char c in symbol) bytes.Add(CharToByte[c]);
        }
        // like encoder.py's errors="replace": an incomplete UTF-8 sequence becomes U+FFFD
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    public string TokenText(int id) => Decode([id]);

    private static char[] BuildByteMap()
    {
        var map = new char[256];
        var printable = new List<int>();
        for (int b = '!'; b <= '~'; b++) printable.Add(b);
        for (int b = 0xA1; b <= 0xAC; b++) printable.Add(b);
        for (int b = 0xAE; b <= 0xFF; b++) printable.Add(b);
        foreach (int b in printable) map[b] = (char)b;
        int next = 0;
        for (int b = 0; b < 256; b++)
            if (!printable.Contains(b)) map[b] = (char)(256 + next++);
        return map;
    }

    private static Tables Load()
    {
        var assembly = typeof(Gpt2Tokenizer).Assembly;
        Dictionary<string, int> encoder;
        using (var s = Open(assembly, "AttentionLab.Text.gpt2.encoder.json"))
            encoder = JsonSerializer.Deserialize<Dictionary<string, int>>(s) ?? throw new InvalidDataException("encoder.json is empty");
        var decoder = new string[encoder.Count];
        foreach (var (token, id) in encoder) decoder[id] = token;
        var ranks = new Dictionary<(string, string), int>(50_000);
        using (var reader = new StreamReader(Open(assembly, "AttentionLab.Text.gpt2.vocab.bpe"), Encoding.UTF8))
        {
            string? line;
            while ((line = reader.ReadLine()) is not null)
            {
                if (line.StartsWith("#version", StringComparison.Ordinal) || line.Length == 0) continue;
                int space = line.IndexOf(' ');
                ranks[(line[..space], line[(space + 1)..])] = ranks.Count;
            }
        }
        return new Tables { Encoder = encoder, Decoder = decoder, Ranks = ranks };
    }

    private static Stream Open(Assembly assembly, string name) =>
        assembly.GetManifestResourceStream(name) ?? throw new InvalidOperationException($"embedded resource {name} is missing");
}
