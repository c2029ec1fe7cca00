using System.Text;
using System.Text.Json;
using AttentionLab.IO;

namespace AttentionLab.Text.HuggingFace;

/// <summary>
/// tokenizer.json's <c>normalizer</c>: what is done to each stretch of text between added tokens before it is
/// split. The types the Llama family uses: <c>NFC</c> (Qwen2), <c>Prepend</c> + <c>Replace</c> in a
/// <c>Sequence</c> (Llama 2 / TinyLlama: "▁" before the text and every space made "▁"), and none (Llama 3, SmolLM2);
/// also NFD, NFKC, NFKD and Lowercase. Any other type is refused with one line.
/// </summary>
public abstract class HfNormalizer
{
    /// <summary>The normalized text.</summary>
    public abstract string Apply(string text);

    /// <summary>Reads a normalizer object; null or JSON null is the identity.</summary>
    public static HfNormalizer? Parse(JsonElement? e, string what)
    {
        if (e is not JsonElement o || o.ValueKind == JsonValueKind.Null) return null;
        if (o.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{what}: normalizer is {InputFile.Describe(o)}, not an object");
        var f = new JsonFields(o, $"{what}: normalizer");
        string type = f.RequiredString("type");
        return type switch
        {
            "NFC" => new Canonical(UnicodeNormalization.Nfc),
            "NFD" => new Canonical(UnicodeNormalization.Nfd),
            "NFKC" => new Unicode(NormalizationForm.FormKC),   // compatibility forms: ICU's (see Unicode below)
            "NFKD" => new Unicode(NormalizationForm.FormKD),
            "Lowercase" => new Lowercase(),
            "Prepend" => new Prepend(f.RequiredString("prepend")),
            "Replace" => new Replace(HfPattern.ReadString(o, $"{what}: normalizer Replace"), f.RequiredString("content")),
            "Sequence" => new Sequence([.. HfPattern.Items(o, "normalizers", what).Select(x => Parse(x, what)).OfType<HfNormalizer>()]),
            _ => throw new InvalidDataException($"{what}: normalizer type '{HfPattern.Short(type)}' is not supported (NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Sequence are)"),
        };
    }

    /// <summary>Whether this runtime can normalize Unicode: not under InvariantGlobalization (no ICU), where .NET's
    /// string.Normalize returns its input unchanged. NFC and NFD do not need it (<see cref="UnicodeNormalization"/>).</summary>
    public static bool UnicodeNormalizationAvailable { get; } = "e\u0301".Normalize(NormalizationForm.FormC) == "\u00E9";

    /// <summary>NFC and NFD (Qwen2 uses NFC) by <see cref="UnicodeNormalization"/>, from the Unicode data embedded in
    /// the library: the same answer with or without ICU.</summary>
    private sealed class Canonical(Func<string, string> normalize) : HfNormalizer
    {
        public override string Apply(string text) => normalize(text);
    }

    /// <summary>NFKC and NFKD (compatibility forms, which need data the library does not ship). Without ICU the text
    /// passes unchanged when it is ASCII; otherwise it is refused with one line rather than tokenized differently from
    /// Hugging Face.</summary>
    private sealed class Unicode(NormalizationForm form) : HfNormalizer
    {
        public override string Apply(string text)
        {
            if (UnicodeNormalizationAvailable) return text.IsNormalized(form) ? text : text.Normalize(form);
            foreach (var r in text.EnumerateRunes())
                if (r.Value > 0x7F)
                    throw new ArgumentException($"this tokenizer normalizes text to {(form == NormalizationForm.FormKC ? "NFKC" : "NFKD")} and the text holds U+{r.Value:X4}, but this build runs without ICU (InvariantGlobalization), so it cannot normalize");
            return text;
        }
    }

    private sealed class Lowercase : HfNormalizer
    {
        public override string Apply(string text) => text.ToLowerInvariant();
    }

    /// <summary>HF's Prepend leaves an empty string empty.</summary>
    private sealed class Prepend(string prefix) : HfNormalizer
    {
        public override string Apply(string text) => text.Length == 0 ? text : prefix + text;
    }

    private sealed class Replace(string pattern, string content) : HfNormalizer
    {
        public override string Apply(string text) => pattern.Length == 0 ? text : text.Replace(pattern, content, StringComparison.Ordinal);
    }

    private sealed class Sequence(IReadOnlyList<HfNormalizer> steps) : HfNormalizer
    {
        public override string Apply(string text)
        {
            foreach (var s in steps) text = s.Apply(text);
            return text;
        }
    }
}
