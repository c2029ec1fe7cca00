using System.Globalization;
using System.Reflection;
using System.Text;

namespace AttentionLab.Text;

/// <summary>
/// Unicode normalization forms C and D (UAX #15) without ICU: this build runs with InvariantGlobalization, where
/// .NET's <c>string.Normalize</c> does nothing, and Qwen2's tokenizer.json normalizes its input to NFC. The data —
/// canonical decompositions, composition exclusions, combining classes — is Unicode <see cref="UnicodeVersion"/>'s,
/// made from Python's <c>unicodedata</c> by data/make_unicode_nfc.py into data/unicode_nfc.txt, embedded here.
/// The three steps, each written as the standard states it:
/// <list type="number">
/// <item>canonical decomposition: each character replaced by its decomposition mapping, recursively; a Hangul
///   syllable by its jamo, computed (UAX #15 / Unicode §3.12: S = 0xAC00 + (L·21 + V)·28 + T);</item>
/// <item>canonical ordering: each run of non-starters (combining class > 0) sorted, stably, by class;</item>
/// <item>canonical composition (NFC only): each character joins the last starter before it when that pair has a
///   primary composite (one not excluded) and nothing between them blocks it — no character of class 0 or of a class
///   ≥ its own; Hangul L+V and LV+T composed by the same arithmetic.</item>
/// </list>
/// <code>
///   UnicodeNormalization.Nfc("e\u0301")   // "é" (U+00E9)
///   UnicodeNormalization.Nfd("한")        // "\u1112\u1161\u11AB"
/// </code>
/// Tested against Python's <c>unicodedata.normalize</c> on Latin with combining marks, Vietnamese, Hangul jamo, CJK
/// compatibility ideographs, composition exclusions, already-normalized text and random mixtures
/// (tests/…/fixtures/nfc_cases.json, tests/…/fixtures/make_nfc_fixture.py).
/// </summary>
public static class UnicodeNormalization
{
    private const string ResourceName = "AttentionLab.Data.unicode_nfc.txt";

    // Hangul syllables (Unicode §3.12)
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    private sealed class Tables
    {
        public readonly Dictionary<int, int[]> Decomposition = new();    // one step, as UnicodeData.txt gives it
        public readonly Dictionary<(int, int), int> Composition = new(); // primary composites only
        public readonly Dictionary<int, byte> CombiningClass = new();
        public string Version = "";
    }

    private static readonly Lazy<Tables> Data = new(Load);

    /// <summary>The Unicode version of the embedded data ("14.0.0").</summary>
    public static string UnicodeVersion => Data.Value.Version;

    /// <summary>Normalization form C: canonical decomposition, canonical ordering, canonical composition.</summary>
    public static string Nfc(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (IsBelowCombiningMarks(text)) return text;   // nothing below U+0300 decomposes or composes (checked by the data script)
        var code = Decompose(text);
        Compose(code);
        return ToString(code);
    }

    /// <summary>Normalization form D: canonical decomposition and canonical ordering.</summary>
    public static string Nfd(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var code = Decompose(text);
        return ToString(code);
    }

    /// <summary>The canonical combining class of a code point (0 for a starter).</summary>
    public static int CombiningClass(int codePoint) => Data.Value.CombiningClass.GetValueOrDefault(codePoint);

    private static bool IsBelowCombiningMarks(string text)
    {
        foreach (char c in text) if (c >= '\u0300') return false;
        return true;
    }

    /// <summary>Steps 1 and 2: the full canonical decomposition, each run of non-starters sorted by class.</summary>
    private static List<int> Decompose(string text)
    {
        var t = Data.Value;
        var code = new List<int>(text.Length);
        foreach (var rune in text.EnumerateRunes()) DecomposeInto(rune.Value, code, t);   // a lone surrogate arrives as U+FFFD
        // canonical ordering: a stable insertion sort of each run of non-starters by combining class
        for (int i = 1; i < code.Count; i++)
        {
            int c = code[i], ccc = CombiningClass(c);
            if (ccc == 0) continue;
            int j = i;
            while (j > 0 && CombiningClass(code[j - 1]) > ccc) { code[j] = code[j - 1]; j--; }
            code[j] = c;
        }
        return code;
    }

    private static void DecomposeInto(int c, List<int> code, Tables t)
    {
        if (c is >= SBase and < SBase + SCount)
        {
            int s = c - SBase;
            code.Add(LBase + s / NCount);
            code.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0) code.Add(TBase + s % TCount);
            return;
        }
        if (t.Decomposition.TryGetValue(c, out var mapping))
            foreach (int m in mapping) DecomposeInto(m, code, t);
        else code.Add(c);
    }

    /// <summary>Step 3, in place: each character composes with the last starter unless blocked.</summary>
    private static void Compose(List<int> code)
    {
        if (code.Count == 0) return;
        var t = Data.Value;
        int starter = 0;
        int lastClass = CombiningClass(code[0]) == 0 ? 0 : 256;   // a text that starts with a non-starter has no starter to join
        int write = 1;
        for (int read = 1; read < code.Count; read++)
        {
            int c = code[read], ccc = CombiningClass(c);
            // not blocked: c follows the starter directly (the last kept character was the starter, class 0), or
            // everything kept since the starter has a lower class than c
            bool unblocked = lastClass == 0 || lastClass < ccc;
            if (unblocked && Composite(code[starter], c, t) is int composite)
            {
                code[starter] = composite;
                continue;
            }
            if (ccc == 0) starter = write;
            lastClass = ccc;
            code[write++] = c;
        }
        code.RemoveRange(write, code.Count - write);
    }

    /// <summary>The primary composite of a pair, Hangul's by arithmetic, or null.</summary>
    private static int? Composite(int first, int second, Tables t)
    {
        if (first is >= LBase and < LBase + LCount && second is >= VBase and < VBase + VCount)
            return SBase + ((first - LBase) * VCount + (second - VBase)) * TCount;
        if (first is >= SBase and < SBase + SCount && (first - SBase) % TCount == 0 && second is > TBase and < TBase + TCount)
            return first + (second - TBase);
        return t.Composition.TryGetValue((first, second), out int c) ? c : null;
    }

    private static string ToString(List<int> code)
    {
        var sb = new StringBuilder(code.Count);
        foreach (int c in code) sb.Append(char.ConvertFromUtf32(c));
        return sb.ToString();
    }

    /// <summary>Reads the embedded data/unicode_nfc.txt (see data/make_unicode_nfc.py for its format).</summary>
    private static Tables Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"the embedded resource {ResourceName} is missing from this build");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var t = new Tables();
        var excluded = new HashSet<int>();
        static int Hex(string s) => int.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        while (reader.ReadLine() is string line)
        {
            if (line.Length == 0) continue;
            var f = line.Split(' ');
            switch (f[0])
            {
                case "#":
                    if (t.Version.Length == 0 && f.Length > 3 && f[2] == "Unicode") t.Version = f[3];
                    break;
                case "D": t.Decomposition[Hex(f[1])] = [.. f.Skip(2).Select(Hex)]; break;
                case "X": excluded.Add(Hex(f[1])); break;
                case "C":
                    for (int c = Hex(f[1]), last = Hex(f[2]); c <= last; c++) t.CombiningClass[c] = byte.Parse(f[3], CultureInfo.InvariantCulture);
                    break;
                default: throw new InvalidOperationException($"{ResourceName}: unexpected line '{line}'");
            }
        }
        foreach (var (c, mapping) in t.Decomposition)
            if (mapping.Length == 2 && !excluded.Contains(c)) t.Composition[(mapping[0], mapping[1])] = c;
        return t;
    }
}
