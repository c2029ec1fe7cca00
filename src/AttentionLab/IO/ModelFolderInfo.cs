using System.Text.Json;
using AttentionLab.Models;
using AttentionLab.Text;

namespace AttentionLab.IO;

/// <summary>How a model folder's input becomes token ids.</summary>
public enum ModelTokenizer
{
    /// <summary>None known: a GPT-2 folder of another vocabulary without attnlab_tokenizer.json (give token ids), or a
    /// ViT (its input is an image).</summary>
    None,
    /// <summary>The folder's <see cref="Tokenizers.FileName"/> (char, gpt2 or o200k), saved by <c>attnlab train</c>.</summary>
    Saved,
    /// <summary>GPT-2's byte-level BPE: a Hugging Face GPT-2 folder (vocabulary 50257) without attnlab's file.</summary>
    Gpt2Bpe,
    /// <summary>One id per character of the config's vocabulary (BERT's <c>characters</c>).</summary>
    Characters,
    /// <summary>One id per character of the task's alphabet (seq2seq's <c>alphabet</c>).</summary>
    TaskAlphabet,
    /// <summary>A Hugging Face <c>tokenizer.json</c> (+ tokenizer_config.json) beside a Llama-family model (<see cref="HfTokenizer"/>).</summary>
    HuggingFace,
}

/// <summary>
/// The one rule for "which architecture does this folder hold, and how is its input tokenized", for the CLI's
/// generate and inspect and the Explorer's catalog alike. A model folder holds config.json and model.safetensors;
/// config.json's <c>model_type</c> names the architecture — absent or "gpt2" a GPT-2 (Hugging Face's
/// <c>save_pretrained</c> writes it), or "seq2seq", "bert", "vit" (<see cref="ModelFolder.SaveTensors"/>). Anything else is
/// refused with one line.
/// <code>
///   var info = ModelFolderInfo.Read(dir);          // info.Kind: "gpt2"; info.Tokenizer: ModelTokenizer.Saved
///   ITokenizer? tokenizer = info.OpenTokenizer();  // a GPT-2 folder's tokenizer, or null
/// </code>
/// </summary>
public sealed class ModelFolderInfo
{
    public const string Gpt2 = "gpt2";

    /// <summary>The Llama family's kind (config.json model_type llama, mistral, qwen2 or qwen3): a decoder on the one
    /// stack with RMSNorm, SwiGLU, rotary positions and grouped-query attention (<see cref="LlamaFolder"/>).</summary>
    public const string Llama = "llama";

    /// <summary>Every kind a folder may hold: gpt2, llama, seq2seq, bert, vit.</summary>
    public static IReadOnlyList<string> Kinds { get; } = [Gpt2, Llama, Seq2SeqModel.ModelType, BertModel.ModelType, VisionTransformer.ModelType];

    /// <summary>The vocabulary of Hugging Face's GPT-2 checkpoints: a folder of this size without attnlab's tokenizer
    /// file uses GPT-2's BPE.</summary>
    public const int Gpt2BpeVocabulary = 50257;

    private readonly int _vocabSize;

    private ModelFolderInfo(string directory, string kind, ModelTokenizer tokenizer, int vocabSize)
    {
        Directory = directory; Kind = kind; Tokenizer = tokenizer; _vocabSize = vocabSize;
    }

    public string Directory { get; }

    /// <summary>One of <see cref="Kinds"/>.</summary>
    public string Kind { get; }

    public ModelTokenizer Tokenizer { get; }

    /// <summary>True for a GPT-2 folder (the generate command and the Explorer's GPT views read only these).</summary>
    public bool IsGpt2 => Kind == Gpt2;

    /// <summary>True for a decoder that runs as a <see cref="DecoderModel"/> (GPT-2 or the Llama family): what generate,
    /// inspect's decoder views, hooks and the Explorer's GPT views read.</summary>
    public bool IsDecoder => Kind is Gpt2 or Llama;

    /// <summary>Reads what <paramref name="directory"/> holds (a GPT-2 folder's config.json is read and checked whole).</summary>
    /// <exception cref="InvalidDataException">not a folder, not a model folder, a model type attnlab does not read, or a
    /// damaged GPT-2 config: one line that says which</exception>
    public static ModelFolderInfo Read(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!System.IO.Directory.Exists(directory))
            throw new InvalidDataException(File.Exists(directory)
                ? $"{directory} is a file; give the model folder that holds {ModelFolder.ConfigFile} and {ModelFolder.WeightsFile}"
                : $"model folder {directory} does not exist");
        if (!ModelFolder.Exists(directory))
            throw new InvalidDataException($"{directory} is not a model folder: it needs {ModelFolder.ConfigFile} and {ModelFolder.WeightsFile}");
        switch (ModelType(directory))
        {
            case null or Gpt2:
            {
                int vocab = DecoderFolder.ReadConfig(directory).VocabSize;
                var tokenizer = Tokenizers.Exists(directory) ? ModelTokenizer.Saved : vocab == Gpt2BpeVocabulary ? ModelTokenizer.Gpt2Bpe : ModelTokenizer.None;
                return new ModelFolderInfo(directory, Gpt2, tokenizer, vocab);
            }
            case "llama" or "mistral" or "qwen2" or "qwen3":
            {
                int vocab = LlamaFolder.ReadConfig(directory).VocabSize;
                var tokenizer = Tokenizers.Exists(directory) ? ModelTokenizer.Saved : HfTokenizer.Exists(directory) ? ModelTokenizer.HuggingFace : ModelTokenizer.None;
                return new ModelFolderInfo(directory, Llama, tokenizer, vocab);
            }
            case Seq2SeqModel.ModelType: return new ModelFolderInfo(directory, Seq2SeqModel.ModelType, ModelTokenizer.TaskAlphabet, 0);
            case BertModel.ModelType: return new ModelFolderInfo(directory, BertModel.ModelType, ModelTokenizer.Characters, 0);
            case VisionTransformer.ModelType: return new ModelFolderInfo(directory, VisionTransformer.ModelType, ModelTokenizer.None, 0);
            case var other:
                throw new InvalidDataException($"{directory} holds a '{(other.Length <= 40 ? other : other[..40] + "…")}' model; attnlab reads {string.Join(", ", Kinds)} folders");
        }
    }

    /// <summary>config.json's model_type, or null when it has none (or is not a JSON object; the GPT-2 reader then says
    /// what is wrong with it).</summary>
    private static string? ModelType(string directory)
    {
        var path = Path.Combine(directory, ModelFolder.ConfigFile);
        using var doc = InputFile.ParseJson(InputFile.ReadAllBytes(path, DecoderFolder.MaxConfigBytes, ModelFolder.ConfigFile), path);
        if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("model_type", out var type)) return null;
        return InputFile.GetText(type, $"{path}: 'model_type'");
    }

    /// <summary>A decoder folder's tokenizer (<see cref="ModelTokenizer.Saved"/>, <see cref="ModelTokenizer.Gpt2Bpe"/> or
    /// <see cref="ModelTokenizer.HuggingFace"/>),
    /// checked against the model's vocabulary; null when it has none or for another kind (their models read their
    /// input themselves).</summary>
    /// <exception cref="InvalidDataException">a damaged tokenizer file, or one with more ids than the model</exception>
    public ITokenizer? OpenTokenizer()
    {
        ITokenizer? tokenizer = Tokenizer switch
        {
            ModelTokenizer.Saved when IsDecoder => Tokenizers.Load(Directory),
            ModelTokenizer.Gpt2Bpe => new Gpt2Tokenizer(),
            ModelTokenizer.HuggingFace when IsDecoder => HfTokenizer.Load(Directory),
            _ => null,
        };
        if (tokenizer is not null && tokenizer.VocabSize > _vocabSize)
            throw new InvalidDataException($"the {tokenizer.Name} tokenizer has {tokenizer.VocabSize} ids but the model only {_vocabSize}");
        return tokenizer;
    }
}
