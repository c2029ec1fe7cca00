namespace AttentionLab.Text;

/// <summary>
/// Text ↔ token ids. Every tokenizer the lab knows (char-level, GPT-2 byte-level BPE, o200k) sits behind
/// this one interface, so training, generation and inspection never care which one a model uses.
/// </summary>
public interface ITokenizer
{
    /// <summary>The name used on the command line and in saved models: <c>char</c>, <c>gpt2</c> or <c>o200k</c>.</summary>
    string Name { get; }

    /// <summary>Number of distinct ids; a model's embedding table needs this many rows.</summary>
    int VocabSize { get; }

    /// <summary>Text → ids, each in [0, <see cref="VocabSize"/>). Throws <see cref="ArgumentException"/>
    /// for text the tokenizer cannot represent (e.g. a character the char vocabulary has never seen).</summary>
    int[] Encode(string text);

    /// <summary>Text → ids as a model reads an input to generate from or inspect: <see cref="Encode"/> plus whatever
    /// the tokenizer puts first (a Hugging Face tokenizer's bos token, <see cref="HfTokenizer.EncodeForModel"/>). A
    /// training corpus uses <see cref="Encode"/>.</summary>
    int[] EncodeForModel(string text) => Encode(text);

    /// <summary>Ids → text. Throws <see cref="ArgumentException"/> for an id outside the vocabulary.</summary>
    string Decode(ReadOnlySpan<int> ids);

    /// <summary>A short human-readable label for one id (used as row/column labels of attention maps).</summary>
    string TokenText(int id);
}
