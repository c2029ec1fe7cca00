using System.Text;
using System.Text.Json;
using AttentionLab.IO;

namespace AttentionLab.Text.HuggingFace;

/// <summary>
/// tokenizer.json's <c>decoder</c>: token strings → text. The types the Llama family uses: <c>ByteLevel</c> (Qwen2,
/// Llama 3, SmolLM2: the characters back to their bytes, UTF-8 with U+FFFD for an incomplete character) and the
/// Llama 2 chain <c>Sequence[Replace ▁→" ", ByteFallback, Fuse, Strip(" ", 1, 0)]</c>. Any other type is refused with
/// one line.
/// </summary>
public abstract class HfDecoder
{
    /// <summary>One decoding step over the list of token strings.</summary>
    public abstract List<string> Apply(List<string> tokens);

    /// <summary>The text: every step, then the pieces joined.</summary>
    public string Decode(List<string> tokens) => string.Concat(Apply(tokens));

    /// <summary>Reads a decoder object; null or JSON null joins the tokens as they are.</summary>
    public static HfDecoder Parse(JsonElement? e, string what)
    {
        if (e is not JsonElement o || o.ValueKind == JsonValueKind.Null) return new Sequence([]);
        if (o.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{what}: decoder is {InputFile.Describe(o)}, not an object");
        var f = new JsonFields(o, $"{what}: decoder");
        string type = f.RequiredString("type");
        return type switch
        {
            "ByteLevel" => new ByteLevel(),
            "Replace" => new Replace(HfPattern.ReadString(o, $"{what}: decoder Replace"), f.RequiredString("content")),
            "ByteFallback" => new ByteFallback(),
            "Fuse" => new Fuse(),
            "Metaspace" => new Metaspace((f.OptionalString("replacement") ?? "▁") is { Length: 1 } r ? r[0] : throw new InvalidDataException($"{what}: Metaspace replacement must be one character"),
                (f.OptionalString("prepend_scheme") ?? ((f.OptionalBool("add_prefix_space") ?? true) ? "always" : "never")) != "never"),
            "Strip" => new Strip(f.RequiredString("content"), f.OptionalInt("start", 0, 1 << 20) ?? 0, f.OptionalInt("stop", 0, 1 << 20) ?? 0, what),
            "Sequence" => new Sequence([.. HfPattern.Items(o, "decoders", what).Select(x => Parse(x, what))]),
            _ => throw new InvalidDataException($"{what}: decoder type '{HfPattern.Short(type)}' is not supported (ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, Sequence are)"),
        };
    }

    private sealed class ByteLevel : HfDecoder
    {
        public override List<string> Apply(List<string> tokens)
        {
            var bytes = new List<byte>();
            foreach (var t in tokens) ByteLevelAlphabet.AppendBytes(t, bytes);
            return [Encoding.UTF8.GetString(bytes.ToArray())];
        }
    }

    private sealed class Replace(string pattern, string content) : HfDecoder
    {
        public override List<string> Apply(List<string> tokens) => [.. tokens.Select(t => pattern.Length == 0 ? t : t.Replace(pattern, content, StringComparison.Ordinal))];
    }

    /// <summary>Runs of <c>&lt;0xXX&gt;</c> tokens become the text of their bytes, or one U+FFFD per byte when the
    /// bytes are not valid UTF-8 (decoders/byte_fallback.rs).</summary>
    private sealed class ByteFallback : HfDecoder
    {
        private static readonly UTF8Encoding Strict = new(false, throwOnInvalidBytes: true);

        public static int ByteOf(string t) =>
            t.Length == 6 && t.StartsWith("<0x", StringComparison.Ordinal) && t[5] == '>' &&
            byte.TryParse(t.AsSpan(3, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out byte b) ? b : -1;

        public override List<string> Apply(List<string> tokens)
        {
            var result = new List<string>();
            var pending = new List<byte>();
            void Flush()
            {
                if (pending.Count == 0) return;
                try { result.Add(Strict.GetString(pending.ToArray())); }
                catch (DecoderFallbackException) { result.Add(new string('\uFFFD', pending.Count)); }
                pending.Clear();
            }
            foreach (var t in tokens)
            {
                int b = ByteOf(t);
                if (b >= 0) { pending.Add((byte)b); continue; }
                Flush();
                result.Add(t);
            }
            Flush();
            return result;
        }
    }

    /// <summary>"▁" back to spaces in every token, and the first token's leading space dropped unless nothing was
    /// prepended (decoders: metaspace.rs decode_chain).</summary>
    private sealed class Metaspace(char replacement, bool stripFirst) : HfDecoder
    {
        public override List<string> Apply(List<string> tokens) => [.. tokens.Select((t, i) =>
        {
            string s = t.Replace(replacement, ' ');
            return i == 0 && stripFirst && s.StartsWith(' ') ? s[1..] : s;
        })];
    }

    private sealed class Fuse : HfDecoder
    {
        public override List<string> Apply(List<string> tokens) => [string.Concat(tokens)];
    }

    /// <summary>Removes up to <c>start</c> leading and <c>stop</c> trailing copies of one character from each token.</summary>
    private sealed class Strip(string content, int start, int stop, string what) : HfDecoder
    {
        private readonly char _c = content.Length == 1 ? content[0] : throw new InvalidDataException($"{what}: decoder Strip content must be one character");

        public override List<string> Apply(List<string> tokens) => [.. tokens.Select(t =>
        {
            int a = 0, b = t.Length;
            while (a < b && a < start && t[a] == _c) a++;
            while (b > a && t.Length - b < stop && t[b - 1] == _c) b--;
            return t[a..b];
        })];
    }

    private sealed class Sequence(IReadOnlyList<HfDecoder> steps) : HfDecoder
    {
        public override List<string> Apply(List<string> tokens)
        {
            foreach (var s in steps) tokens = s.Apply(tokens);
            return tokens;
        }
    }
}
