using Microsoft.ML.Tokenizers;

namespace AttentionLab.Text;

/// <summary>
/// GPT-2's byte-level BPE (Radford et al. 2019): the text is split by GPT-2's regex into words, numbers,
/// punctuation runs and whitespace; each piece's UTF-8 bytes are merged pairwise by rank (50,000 merges)
/// into ids; 50,257 ids in all, 50256 being <c>&lt;|endoftext|&gt;</c>. GPT-2's vocabulary is tiktoken's
/// <c>r50k_base</c>, which Microsoft.ML.Tokenizers ships (package Microsoft.ML.Tokenizers.Data.R50kBase), so
/// this class wraps that tokenizer. It gives the same ids as OpenAI's encoder.py on every test string
/// (tabs, newlines, CR LF, non-ASCII; fixtures/gpt2_tokens.json) and on the whole tiny Shakespeare corpus
/// (docs/training.md), with two differences:
/// <list type="bullet">
/// <item>the literal text <c>&lt;|endoftext|&gt;</c> becomes the special id 50256 (as in Hugging Face's
///   GPT2TokenizerFast), where encoder.py spells it out as 7 ordinary tokens;</item>
/// <item>.NET's regex sees a character outside the Basic Multilingual Plane (e.g. 𝐀) as two surrogates,
///   not a letter, so it is grouped as punctuation: "x𝐀y" is split into three pieces, not one. The bytes,
///   and hence the round trip, are unaffected.</item>
/// </list>
/// </summary>
public sealed class Gpt2Tokenizer : ITokenizer
{
    /// <summary>The id of <c>&lt;|endoftext|&gt;</c>, GPT-2's document separator.</summary>
    public const int EndOfText = 50256;

    private static readonly Lazy<TiktokenTokenizer> Shared = new(() => TiktokenTokenizer.CreateForEncoding("r50k_base"));
    private readonly TiktokenTokenizer _bpe = Shared.Value;

    public string Name => "gpt2";
    public int VocabSize => 50257;

    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return [.. _bpe.EncodeToIds(text)];
    }

    /// <summary>Ids → text; bytes that do not complete a UTF-8 character become U+FFFD (like encoder.py's
    /// <c>errors="replace"</c>), which <see cref="StreamingDecoder"/> relies on.</summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        foreach (int id in ids)
            if ((uint)id >= (uint)VocabSize)
                throw new ArgumentException($"token id {id} is outside the GPT-2 vocabulary [0, {VocabSize})");
        return _bpe.Decode(ids.ToArray()) ?? "";
    }

    public string TokenText(int id) => Decode([id]);
}
