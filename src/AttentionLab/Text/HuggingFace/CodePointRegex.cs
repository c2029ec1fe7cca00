using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace AttentionLab.Text.HuggingFace;

/// <summary>
/// A pre-tokenizer regex matched over code points, as Hugging Face's (Rust, Oniguruma) tokenizers match it.
/// .NET's Regex sees a character outside the Basic Multilingual Plane as two surrogates of category Cs, so
/// <c>[^\r\n\p{L}\p{N}]?\p{L}+</c> would split "🙂abc" in two where Hugging Face keeps it one piece, and 𝐀 would
/// not be a letter. So the text is matched in a shadow copy where each such character is one BMP stand-in of the
/// same class (a letter, a digit or a symbol that none of the patterns name), and the pieces are cut from the
/// original text at the same places.
/// </summary>
public sealed class CodePointRegex(string pattern)
{
    private const char LetterStandIn = '\u4E00';   // 一, Lo: a letter with no case, so (?i:'s|…) cannot match it
    private const char DigitStandIn = '\u0660';    // ٠, Nd
    private const char SymbolStandIn = '\uE000';   // private use, Co: neither whitespace, letter nor digit

    private readonly Regex _regex = new(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(10));

    /// <summary>The pattern as the tokenizer file gives it.</summary>
    public string Pattern => pattern;

    /// <summary>Every match of the pattern as (start, length) in <paramref name="text"/>'s UTF-16 indices.</summary>
    public List<(int Start, int Length)> Matches(string text)
    {
        var result = new List<(int, int)>();
        bool hasSurrogates = text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') >= 0;
        if (!hasSurrogates)
        {
            foreach (Match m in _regex.Matches(text)) if (m.Length > 0) result.Add((m.Index, m.Length));
            return result;
        }
        var shadow = new StringBuilder(text.Length);
        var start = new List<int>(text.Length + 1);              // shadow index → original index
        for (int i = 0; i < text.Length;)
        {
            start.Add(i);
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                shadow.Append(StandIn(CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text[i], text[i + 1]))));
                i += 2;
            }
            else { shadow.Append(char.IsSurrogate(text[i]) ? SymbolStandIn : text[i]); i++; }
        }
        start.Add(text.Length);
        foreach (Match m in _regex.Matches(shadow.ToString()))
            if (m.Length > 0) result.Add((start[m.Index], start[m.Index + m.Length] - start[m.Index]));
        return result;
    }

    private static char StandIn(UnicodeCategory c) => c switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => LetterStandIn,
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => DigitStandIn,
        _ => SymbolStandIn,
    };
}
