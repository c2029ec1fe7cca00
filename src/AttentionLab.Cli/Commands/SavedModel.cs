using AttentionLab.Attention;
using AttentionLab.IO;
using AttentionLab.Kernels;
using AttentionLab.Models;
using AttentionLab.Text;

namespace AttentionLab.Cli.Commands;

/// <summary>A model directory opened for generate and inspect: weights, tokenizer (if known) and a generator.</summary>
internal sealed class SavedModel
{
    public required DecoderModel Model { get; init; }
    public ITokenizer? Tokenizer { get; init; }
    public required TextGenerator Generator { get; init; }
    /// <summary>The ids that end generation: generation_config.json's eos_token_id (or a Llama-family config.json's);
    /// empty for a folder without them (the GPT-2 models trained here).</summary>
    public GenerationConfig Stop { get; init; } = new();

    /// <param name="attention">a kernel name to run with instead of the one the model was saved with (--attention)</param>
    /// <param name="dtype">--dtype: f32, bf16, f16 or q8_0 for the streamed weights; null: the folder's own (float32 on a GPU)</param>
    /// <param name="device">--device: 16-bit weights run on the CPU only</param>
    public static SavedModel Open(string directory, string? attention = null, string? dtype = null, string device = "cpu")
    {
        var info = ModelFolderInfo.Read(directory);
        if (!info.IsDecoder)
            throw new CliError($"{directory} holds a {info.Kind} model; generate reads GPT-2 and Llama-family models (inspect reads every kind)");
        IAttentionKernel? kernel = null;
        if (attention is not null)
        {
            try { kernel = AttentionKernels.Parse(attention); }
            catch (ArgumentException e) { throw new CliError($"--attention: {e.Message}"); }
        }
        WeightFormat? format = dtype is null ? null : CommandSupport.WeightFormat(dtype);
        if (device != "cpu")
        {
            if (format is not null && format != WeightFormat.F32) throw new CliError($"--dtype {format.Value.Name()} runs on the CPU only; use --dtype f32 with --device {device}");
            format = WeightFormat.F32;
        }
        var model = DecoderFolder.Load(directory, kernel, training: false, format);
        var tokenizer = info.OpenTokenizer();
        return new SavedModel { Model = model, Tokenizer = tokenizer, Generator = new TextGenerator(model), Stop = GenerationConfig.Read(directory) };
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
            // a Hugging Face tokenizer starts a prompt with its bos token where it says so (Llama 2, TinyLlama, Llama 3)
            try { result = Tokenizer.EncodeForModel(text!); }
            catch (ArgumentException e) { throw new CliError(e.Message); }
        }
        if (result.Length == 0) throw new CliError($"the input is empty; give at least one token");
        return result;
    }
}
