using System.Text.Json;
using System.Text.Json.Nodes;
using AttentionLab.Inspection;
using AttentionLab.IO;
using AttentionLab.Models;

namespace AttentionLab.Explorer;

/// <summary>
/// The sizes the page needs of a saved encoder-decoder, BERT or ViT folder: which attention groups it has
/// (<see cref="AttentionKinds"/>), how many layers and heads, and the longest input it reads.
/// </summary>
/// <param name="Kind">"seq2seq", "bert" or "vit"</param>
/// <param name="Groups">the attention kinds its inspection returns, in the order the page offers them</param>
/// <param name="Context">longest input: source characters, text characters, or image tokens ([CLS] + patches)</param>
/// <param name="Details">kind-specific fields for GET /api/models (task and alphabet, classes and image size, ...)</param>
public sealed record EncoderModelInfo(string Kind, IReadOnlyList<string> Groups, int Layers, int Heads, int Channels, int Context, JsonObject Details)
{
    /// <summary>Held-out images a ViT input may pick with "index:N" (the count <see cref="TransformerModelInspector"/> draws).</summary>
    public const int VitImages = 256;

    /// <summary>Reads the folder's config (<see cref="ModelFolder.ReadConfig"/>).</summary>
    /// <exception cref="InvalidDataException">a damaged config</exception>
    public static EncoderModelInfo Read(string directory, string kind)
    {
        var config = ModelFolder.ReadConfig(directory, kind);
        switch (kind)
        {
            case Seq2SeqModel.ModelType:
            {
                var c = ModelFolder.Deserialize<Seq2SeqConfig>(config, directory);
                return new(kind, [AttentionKinds.EncoderSelf, AttentionKinds.DecoderSelf, AttentionKinds.Cross],
                    Math.Max(c.EncoderLayers, c.DecoderLayers), c.Heads, c.Channels, c.MaxSourceLength, new JsonObject
                    {
                        ["task"] = c.Task, ["alphabet"] = c.Alphabet, ["encoder_layers"] = c.EncoderLayers, ["decoder_layers"] = c.DecoderLayers,
                        ["max_target"] = c.MaxTargetLength,
                    });
            }
            case BertModel.ModelType:
            {
                var c = ModelFolder.Deserialize<BertConfig>(config, directory);
                return new(kind, [c.IsCausal ? AttentionKinds.DecoderSelf : AttentionKinds.EncoderSelf], c.Layers, c.Heads, c.Channels, c.MaxLength,
                    new JsonObject { ["causal"] = c.IsCausal, ["vocab"] = c.VocabSize, ["mask_token"] = "[MASK]" });
            }
            case VisionTransformer.ModelType:
            {
                var c = ModelFolder.Deserialize<VitConfig>(config, directory);
                return new(kind, [AttentionKinds.EncoderSelf], c.Layers, c.Heads, c.Channels, c.Patches + 1, new JsonObject
                {
                    ["image_size"] = c.ImageSize, ["patch_size"] = c.PatchSize, ["images"] = VitImages,
                    ["classes"] = new JsonArray(c.ClassNames.Select(n => (JsonNode)n).ToArray()),
                });
            }
            default:
                throw new InvalidDataException($"{directory} holds no seq2seq, bert or vit model (model_type '{kind}')");
        }
    }
}

public sealed partial class ExplorerApi
{
    /// <summary>The views of the page that read a seq2seq, BERT or ViT model; the others need a GPT-2 model.</summary>
    private static readonly string[] EncoderViews = ["model", "head", "roles"];

    /// <summary>GET /api/models' entry for a seq2seq, BERT or ViT folder.</summary>
    private static JsonObject EncoderModelEntry(string name, string directory, string kind)
    {
        var entry = new JsonObject { ["name"] = name, ["kind"] = kind };
        try
        {
            var info = EncoderModelInfo.Read(directory, kind);
            entry["layers"] = info.Layers; entry["heads"] = info.Heads; entry["channels"] = info.Channels; entry["context"] = info.Context;
            entry["groups"] = new JsonArray(info.Groups.Select(g => (JsonNode)g).ToArray());
            entry["views"] = new JsonArray(EncoderViews.Select(v => (JsonNode)v).ToArray());
            foreach (var (k, v) in info.Details) entry[k] = v?.DeepClone();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or JsonException or FormatException)
        {
            entry["error"] = e.Message.Split('\n')[0];
        }
        return entry;
    }

    /// <summary>
    /// POST /api/inspect for a seq2seq, BERT or ViT model: <see cref="TransformerModelInspector.Inspect"/>, the call
    /// <c>attnlab inspect --model DIR --json</c> makes, so the answer is the CLI's JSON for the same input. Fields:
    /// "text" (seq2seq: the source; BERT: a text with _ or [MASK] blanks; ViT: "index:N" or "class:NAME"), "image"
    /// (ViT: N, the same as "index:N"), "target" (seq2seq: the start of the answer), "attention" (a kernel).
    /// Missing input: the inspector's default (the first held-out source, a line of Hamlet, image 0).
    /// </summary>
    private static JsonNode InspectEncoderModel(RequestReader r, string directory, string kind)
    {
        if (r.Has("ids")) throw new ExplorerException(400, $"\"ids\" is for GPT-2 models; give this {kind} model its input as \"text\"");
        EncoderModelInfo info;
        try { info = EncoderModelInfo.Read(directory, kind); }
        catch (Exception e) when (e is IOException or InvalidDataException or JsonException)
        {
            throw new ExplorerException(422, $"the model cannot be opened: {e.Message.Split('\n')[0]}");
        }
        var text = r.String("text");
        if (text is not null && text.Length > RequestReader.MaxTextLength)
            throw new ExplorerException(413, $"the text has {text.Length} characters; at most {RequestReader.MaxTextLength} are accepted");
        if (r.Has("image"))
        {
            if (kind != VisionTransformer.ModelType) throw new ExplorerException(400, $"\"image\" is for ViT models; this is a {kind} model");
            if (text is not null) throw new ExplorerException(400, "give one of \"text\" (index:N or class:NAME) or \"image\"");
            text = $"index:{r.Int("image", 0, EncoderModelInfo.VitImages - 1)}";
        }
        if (kind != VisionTransformer.ModelType && text is not null && CountInput(text, kind) > info.Context)
            throw new ExplorerException(413, $"the input has {CountInput(text, kind)} characters; this {kind} model reads at most {info.Context}");
        var target = r.String("target");
        var kernel = r.Kernel();
        r.Int("layer", 0, info.Layers - 1);
        r.Int("head", 0, info.Heads - 1);
        ModelAttention report;
        try { report = TransformerModelInspector.Inspect(directory, text, kernel, target); }
        catch (InvalidDataException e) { throw new ExplorerException(422, $"the model cannot be opened: {e.Message.Split('\n')[0]}"); }
        return report.ToJson();
    }

    /// <summary>Input positions of a text: seq2seq reads characters (UTF-16), BERT runes with each "[MASK]" one position.</summary>
    private static int CountInput(string text, string kind) =>
        kind == BertModel.ModelType ? text.Replace("[MASK]", "_", StringComparison.Ordinal).EnumerateRunes().Count() : text.Length;
}
