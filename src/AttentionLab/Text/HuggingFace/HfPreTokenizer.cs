using System.Text;
using System.Text.Json;
using AttentionLab.IO;

namespace AttentionLab.Text.HuggingFace;

/// <summary>
/// tokenizer.json's <c>pre_tokenizer</c>: splits normalized text into the pieces BPE merges within. The types the
/// Llama family uses: <c>Split</c> with a regex and behavior <c>Isolated</c> (Qwen2's and Llama 3's patterns), then
/// <c>ByteLevel</c> without its regex (Qwen2, Llama 3); <c>Digits</c> then <c>ByteLevel</c> with GPT-2's regex
/// (SmolLM2); none (Llama 2 / TinyLlama: the whole normalized text is one piece); <c>Metaspace</c> (newer
/// SentencePiece conversions, Mistral v0.3). A <c>ByteLevel</c> step writes each
/// piece in <see cref="ByteLevelAlphabet"/>. Regexes are matched over code points (<see cref="CodePointRegex"/>).
/// Any other type or behavior is refused with one line.
/// </summary>
public abstract class HfPreTokenizer
{
    /// <summary>GPT-2's pattern, what <c>ByteLevel</c> with <c>use_regex: true</c> splits by.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>Splits each piece further; the result replaces <paramref name="pieces"/>.</summary>
    /// <param name="atTextStart">true when the first piece starts the whole text (offset 0, no added token before it):
    /// Metaspace's prepend_scheme "first" puts "▁" only there</param>
    public abstract List<string> Apply(List<string> pieces, bool atTextStart);

    /// <summary>True when a step maps the pieces to byte-level characters.</summary>
    public abstract bool IsByteLevel { get; }

    /// <summary>Reads a pre_tokenizer object; null or JSON null means no splitting.</summary>
    public static HfPreTokenizer? Parse(JsonElement? e, string what)
    {
        if (e is not JsonElement o || o.ValueKind == JsonValueKind.Null) return null;
        if (o.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{what}: pre_tokenizer is {InputFile.Describe(o)}, not an object");
        var f = new JsonFields(o, $"{what}: pre_tokenizer");
        string type = f.RequiredString("type");
        switch (type)
        {
            case "Split":
            {
                var (isRegex, text) = HfPattern.Read(o, $"{what}: pre_tokenizer Split");
                string behavior = f.OptionalString("behavior") ?? "Isolated";
                if (behavior != "Isolated")
                    throw new InvalidDataException($"{what}: Split behavior '{HfPattern.Short(behavior)}' is not supported (Isolated is)");
                if (f.OptionalBool("invert") == true) throw new InvalidDataException($"{what}: Split with invert: true is not supported");
                return new Split(new CodePointRegex(isRegex ? text : System.Text.RegularExpressions.Regex.Escape(text)), what);
            }
            case "ByteLevel":
                return new ByteLevel(f.OptionalBool("add_prefix_space") ?? true, f.OptionalBool("use_regex") ?? true, what);
            case "Digits":
                return new Digits(f.OptionalBool("individual_digits") ?? false);
            case "Metaspace":
            {
                string replacement = f.OptionalString("replacement") ?? "▁";
                if (replacement.Length != 1) throw new InvalidDataException($"{what}: Metaspace replacement must be one character");
                string scheme = f.OptionalString("prepend_scheme") ?? ((f.OptionalBool("add_prefix_space") ?? true) ? "always" : "never");
                if (scheme is not ("always" or "first" or "never"))
                    throw new InvalidDataException($"{what}: Metaspace prepend_scheme '{HfPattern.Short(scheme)}' is not always, first or never");
                return new Metaspace(replacement[0], scheme, f.OptionalBool("split") ?? true);
            }
            case "Sequence":
                return new Sequence([.. HfPattern.Items(o, "pretokenizers", what).Select(x => Parse(x, what)).OfType<HfPreTokenizer>()]);
            default:
                throw new InvalidDataException($"{what}: pre_tokenizer type '{HfPattern.Short(type)}' is not supported (Split, ByteLevel, Digits, Metaspace, Sequence are)");
        }
    }

    /// <summary>The matches become the pieces; unmatched stretches between them are pieces too (Isolated).</summary>
    private static List<string> Isolate(CodePointRegex regex, List<string> pieces, string what)
    {
        var result = new List<string>();
        foreach (var p in pieces)
        {
            int at = 0;
            List<(int Start, int Length)> matches;
            try { matches = regex.Matches(p); }
            catch (System.Text.RegularExpressions.RegexMatchTimeoutException) { throw new ArgumentException($"{what}: the pre-tokenizer regex took too long on this text"); }
            foreach (var (start, length) in matches)
            {
                if (start > at) result.Add(p[at..start]);
                result.Add(p.Substring(start, length));
                at = start + length;
            }
            if (at < p.Length) result.Add(p[at..]);
        }
        return result;
    }

    private sealed class Split(CodePointRegex regex, string what) : HfPreTokenizer
    {
        public override bool IsByteLevel => false;
        public override List<string> Apply(List<string> pieces, bool atTextStart) => Isolate(regex, pieces, what);
    }

    private sealed class ByteLevel(bool addPrefixSpace, bool useRegex, string what) : HfPreTokenizer
    {
        private static readonly CodePointRegex Gpt2 = new(Gpt2Pattern);
        public override bool IsByteLevel => true;
        public override List<string> Apply(List<string> pieces, bool atTextStart)
        {
            if (addPrefixSpace) pieces = [.. pieces.Select(p => p.StartsWith(' ') ? p : " " + p)];
            if (useRegex) pieces = Isolate(Gpt2, pieces, what);
            return [.. pieces.Select(ByteLevelAlphabet.Encode)];
        }
    }

    /// <summary>Digits are split from the rest: each one alone (individual_digits) or in runs.</summary>
    private sealed class Digits(bool individual) : HfPreTokenizer
    {
        public override bool IsByteLevel => false;
        public override List<string> Apply(List<string> pieces, bool atTextStart)
        {
            var result = new List<string>();
            foreach (var p in pieces)
            {
                var current = new StringBuilder();
                bool inDigits = false;
                foreach (var r in p.EnumerateRunes())
                {
                    bool digit = Rune.IsNumber(r);
                    if (current.Length > 0 && (digit != inDigits || (digit && individual))) { result.Add(current.ToString()); current.Clear(); }
                    current.Append(r.ToString());
                    inDigits = digit;
                }
                if (current.Length > 0) result.Add(current.ToString());
            }
            return result;
        }
    }

    /// <summary>SentencePiece's whitespace as a pre-tokenizer (pre_tokenizers/metaspace.rs): spaces become "▁", a "▁"
    /// is put before a piece that does not start with one (every piece: always; the text's first: first), and with
    /// split the pieces are cut before each "▁" (MergedWithNext).</summary>
    private sealed class Metaspace(char replacement, string scheme, bool split) : HfPreTokenizer
    {
        public override bool IsByteLevel => false;
        public override List<string> Apply(List<string> pieces, bool atTextStart)
        {
            var result = new List<string>();
            for (int i = 0; i < pieces.Count; i++)
            {
                string p = pieces[i].Replace(' ', replacement);
                bool prepend = scheme == "always" || (scheme == "first" && atTextStart && i == 0);
                if (prepend && p.Length > 0 && p[0] != replacement) p = replacement + p;
                if (!split) { result.Add(p); continue; }
                int start = 0;
                for (int k = 1; k < p.Length; k++)
                    if (p[k] == replacement) { result.Add(p[start..k]); start = k; }
                if (p.Length > 0) result.Add(p[start..]);
            }
            return result;
        }
    }

    private sealed class Sequence(IReadOnlyList<HfPreTokenizer> steps) : HfPreTokenizer
    {
        public override bool IsByteLevel => steps.Any(s => s.IsByteLevel);
        public override List<string> Apply(List<string> pieces, bool atTextStart)
        {
            foreach (var s in steps) pieces = s.Apply(pieces, atTextStart);
            return pieces;
        }
    }
}
