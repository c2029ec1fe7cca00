using AttentionLab.Attention;
using AttentionLab.Datasets;
using AttentionLab.IO;
using AttentionLab.Models;
using AttentionLab.Training;

namespace AttentionLab.Inspection;

/// <summary>
/// One entry point for <c>attnlab inspect --model DIR</c> and the Explorer: recognizes a saved encoder-decoder,
/// BERT or ViT folder by its config's <c>model_type</c> and returns every attention map for one input, through the
/// same forward pass the model trains with.
/// <code>
/// if (TransformerModelInspector.CanInspect(dir))
///     var report = TransformerModelInspector.Inspect(dir, input);   // input: a source, a text with _ blanks, or null
///     json = report.ToJson();                                       // {"model_type", "input", "output", "attention": [...]}
/// </code>
/// </summary>
public static class TransformerModelInspector
{
    /// <summary>The model types this inspector reads.</summary>
    public static IReadOnlyList<string> ModelTypes { get; } = [Seq2SeqModel.ModelType, BertModel.ModelType, VisionTransformer.ModelType];

    /// <summary>True when <paramref name="directory"/> holds a saved seq2seq, BERT or ViT model.</summary>
    public static bool CanInspect(string directory)
    {
        try { return ModelTypes.Contains(ModelFolderInfo.Read(directory).Kind); }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>
    /// Runs the saved model on <paramref name="input"/> and returns its attention. Inputs by model type:
    /// seq2seq — a source string of the task (default: the first held-out source); bert — a text, each _ a blank to
    /// fill (default: a line of Hamlet); vit — "class:NAME" for a held-out image of that shape, or "index:N" for the
    /// N-th held-out image (default index:0). <paramref name="targetPrefix"/> (seq2seq only) is the start of the
    /// answer; greedy decoding continues from it (default: decode from &lt;s&gt; alone).
    /// </summary>
    /// <exception cref="InvalidDataException">not a model folder this inspector reads, or damaged</exception>
    /// <exception cref="ArgumentException">an input the model cannot take</exception>
    public static ModelAttention Inspect(string directory, string? input = null, IAttentionKernel? kernel = null, string? targetPrefix = null)
    {
        var type = ModelFolder.ModelType(directory);
        if (targetPrefix is not null && type != Seq2SeqModel.ModelType)
            throw new ArgumentException($"a target prefix is for seq2seq models; this is a {type ?? "unknown"} model");
        switch (type)
        {
            case Seq2SeqModel.ModelType:
            {
                var model = Seq2SeqModel.Load(directory, kernel);
                var task = Seq2SeqTask.Parse(model.Config.Task);
                var source = input ?? task.HeldOut(1, (ulong)model.Config.Seed)[0].Source;
                foreach (char c in source)
                    if (!model.Config.Alphabet.Contains(c)) throw new ArgumentException($"character '{c}' is not in the {task.Name} model's alphabet");
                return model.Inspect(source, targetPrefix);
            }
            case BertModel.ModelType:
                return BertModel.Load(directory, kernel).Inspect(input ?? "To be, or not to be, that is the q_estion");
            case VisionTransformer.ModelType:
            {
                var model = VisionTransformer.Load(directory, kernel);
                int size = model.Config.ImageSize, pixels = size * size;
                var (images, labels) = VitTrainingRun.HeldOutImages(size, 256, (ulong)model.Config.Seed);
                int index = 0;
                string spec = input ?? "index:0";
                if (spec.StartsWith("class:", StringComparison.Ordinal))
                {
                    int k = Array.IndexOf(model.Config.ClassNames, spec[6..]);
                    if (k < 0) throw new ArgumentException($"unknown class '{spec[6..]}'; classes: {string.Join(", ", model.Config.ClassNames)}");
                    index = Array.IndexOf(labels, k);
                    if (index < 0) throw new ArgumentException($"no held-out image of class '{spec[6..]}'");
                }
                else if (!spec.StartsWith("index:", StringComparison.Ordinal) || !int.TryParse(spec[6..], out index) || index < 0 || index >= labels.Length)
                    throw new ArgumentException($"a ViT input is 'class:NAME' or 'index:N' with N in [0, {labels.Length}), got '{spec}'");
                return model.Inspect(images.AsSpan(index * pixels, pixels), $"held-out image {index} ({model.Config.ClassNames[labels[index]]})");
            }
            default:
                throw new InvalidDataException($"{directory} holds no seq2seq, bert or vit model (model_type '{type ?? "missing"}')");
        }
    }
}
