using Microsoft.ML.Tokenizers;

namespace AttentionLab.Text;

/// <summary>
/// OpenAI's o200k_base (GPT-4o): byte-level BPE with about 200k ranks, from the
/// Microsoft.ML.Tokenizers.Data.O200kBase package. <see cref="VocabSize"/> counts the special tokens
/// (<c>&lt;|endoftext|&gt;</c> = 199999, <c>&lt;|endofprompt|&gt;</c> = 200018), so it is 200,019.
/// </summary>
public sealed class O200kTokenizer : ITokenizer
{
    private static readonly Lazy<TiktokenTokenizer> Shared = new(() => TiktokenTokenizer.CreateForModel("gpt-4o"));
    private readonly TiktokenTokenizer _bpe = Shared.Value;

    public string Name => "o200k";
    public int VocabSize => 200019; // tiktoken's n_vocab for o200k_base: the highest id is <|endofprompt|> = 200018

    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _bpe.EncodeToIds(text).ToArray();
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        foreach (int id in ids)
            if ((uint)id >= (uint)VocabSize)
                throw new ArgumentException($"token id {id} is outside the o200k vocabulary [0, {VocabSize})");
        return _bpe.Decode(ids.ToArray()) ?? "";
    }

    public string TokenText(int id) => Decode([id]);
}
