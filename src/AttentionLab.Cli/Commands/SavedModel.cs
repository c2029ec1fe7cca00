using AttentionLab.Attention;
using AttentionLab.IO;
using AttentionLab.Models;
using AttentionLab.Text;

namespace AttentionLab.Cli.Commands;

/// <summary>A model directory opened for generate and inspect: weights, tokenizer (if known) and a generator.</summary>
internal sealed class SavedModel
{
    public required Gpt2Model Model { get; init; }
    public ITokenizer? Tokenizer { get; init; }
    public required Gpt2Generator Generator { get; init; }

    /// <param name="attention">a kernel name to run with instead of the one the model was saved with (--attention)</param>
    public static SavedModel Open(string directory, string? attention = null)
    {
        if (!Directory.Exists(directory))
            throw new CliError(File.Exists(directory) ? $"--model {directory} is a file; give the directory that holds config.json and model.safetensors" : $"model directory {directory} does not exist");
        IAttentionKernel? kernel = null;
        if (attention is not null)
        {
            try { kernel = AttentionKernels.Parse(attention); }
            catch (ArgumentException e) { throw new CliError($"--attention: {e.Message}"); }
        }
        var model = Gpt2ModelDirectory.Load(directory, kernel, training: false);
        ITokenizer? tokenizer = null;
        if (Tokenizers.Exists(directory)) tokenizer = Tokenizers.Load(directory);
        else if (model.Config.VocabSize == 50257) tokenizer = new Gpt2Tokenizer(); // a Hugging Face GPT-2 directory
        if (tokenizer is not null && tokenizer.VocabSize > model.Config.VocabSize)
            throw new CliError($"the {tokenizer.Name} tokenizer has {tokenizer.VocabSize} ids but the model only {model.Config.VocabSize}");
        return new SavedModel { Model = model, Tokenizer = tokenizer, Generator = new Gpt2Generator(model) };
    }

    /// <summary>The ids of <c>--text/--prompt</c> or <c>--ids</c> (exactly one of them).</summary>
    public int[] Input(string? text, string? ids, string textOption)
    {
        if ((text is null) == (ids is null)) throw new CliError($"give exactly one of --{textOption} TEXT or --ids 1,2,3");
        int[] result;
        if (ids is not null)
        {
            result = CommandSupport.ParseIds(ids);
            foreach (int id in result)
                if (id >= Model.Config.VocabSize) throw new CliError($"token id {id} is outside the model's vocabulary [0, {Model.Config.VocabSize})");
        }
        else
        {
            if (Tokenizer is null) throw new CliError($"this model directory has no {Tokenizers.FileName}; give token ids with --ids");
            try { result = Tokenizer.Encode(text!); }
            catch (ArgumentException e) { throw new CliError(e.Message); }
        }
        if (result.Length == 0) throw new CliError($"the input is empty; give at least one token");
        return result;
    }
}
