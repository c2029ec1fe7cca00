using System.Text.Json.Nodes;

namespace AttentionLab.Inspection;

/// <summary>
/// The maps of one attention of a Transformer, by layer: an encoder's self-attention, a decoder's (causal)
/// self-attention, or the cross-attention of an encoder-decoder's decoder over its encoder. Every report
/// (<see cref="IAttentionReport"/>) is a list of these: GPT-2 has one (decoder), BERT and ViT one (encoder), an
/// encoder-decoder three (encoder, decoder, cross). The page and the CLI draw whatever groups a report has.
/// <code>
/// JSON: {"name": "cross", "kind": "cross", "layers": L, "heads": H, "query_labels": [Tq], "key_labels": [Tk]}
/// </code>
/// </summary>
/// <param name="Name">"encoder", "decoder" or "cross": the page's <c>?group=</c></param>
/// <param name="Kind">one of <see cref="AttentionKinds"/>: which roles its heads are scored for</param>
/// <param name="Maps">(L) one map (H, Tq, Tk) per layer, in layer order; every map has the same heads and labels</param>
public sealed record AttentionGroup(string Name, string Kind, IReadOnlyList<AttentionMap> Maps)
{
    public const string Encoder = "encoder", Decoder = "decoder", Cross = "cross";

    public int Layers => Maps.Count;
    public int Heads => Maps.Count == 0 ? 0 : Maps[0].Heads;
    public IReadOnlyList<string> QueryLabels => Maps.Count == 0 ? [] : Maps[0].QueryLabels;
    public IReadOnlyList<string> KeyLabels => Maps.Count == 0 ? [] : Maps[0].KeyLabels;

    /// <summary>The group a map of <paramref name="kind"/> belongs to.</summary>
    public static string NameOf(string kind) => kind switch
    {
        AttentionKinds.EncoderSelf => Encoder,
        AttentionKinds.DecoderSelf => Decoder,
        AttentionKinds.Cross => Cross,
        _ => throw new ArgumentException($"unknown attention kind '{kind}'"),
    };

    /// <summary>Maps in any order → groups in the order encoder, decoder, cross, each by layer.</summary>
    public static IReadOnlyList<AttentionGroup> Of(IEnumerable<AttentionMap> maps)
    {
        ArgumentNullException.ThrowIfNull(maps);
        string[] order = [AttentionKinds.EncoderSelf, AttentionKinds.DecoderSelf, AttentionKinds.Cross];
        return maps.GroupBy(m => m.Kind).OrderBy(g => Array.IndexOf(order, g.Key))
            .Select(g => new AttentionGroup(NameOf(g.Key), g.Key, g.OrderBy(m => m.Layer).ToList())).ToList();
    }

    public JsonObject ToJson() => Describe(Name, Kind, Layers, Heads, QueryLabels, KeyLabels);

    /// <summary>A group's JSON from its shape alone (the page's fast GPT-2 path keeps one layer's maps, not all).</summary>
    public static JsonObject Describe(string name, string kind, int layers, int heads, IReadOnlyList<string> queryLabels, IReadOnlyList<string> keyLabels) => new()
    {
        ["name"] = name, ["kind"] = kind, ["layers"] = layers, ["heads"] = heads,
        ["query_labels"] = new JsonArray(queryLabels.Select(l => (JsonNode)l).ToArray()),
        ["key_labels"] = new JsonArray(keyLabels.Select(l => (JsonNode)l).ToArray()),
    };

    public static JsonArray ToJson(IEnumerable<AttentionGroup> groups) => new(groups.Select(g => (JsonNode)g.ToJson()).ToArray());
}

/// <summary>
/// What every inspection report is, whatever the model: its type, what it read, what it answered, and its attention
/// as <see cref="AttentionGroup"/>s. <see cref="InspectionReport"/> (GPT-2, with its logits and next tokens) and
/// <see cref="ModelAttention"/> (seq2seq, BERT, ViT, with their extras) are the two records behind it; their JSON
/// (<see cref="InspectionJson"/>) shares these fields: "model_type", "input", "output", "groups".
/// </summary>
public interface IAttentionReport
{
    /// <summary>"gpt2", "seq2seq", "bert" or "vit"</summary>
    string ModelType { get; }
    string Input { get; }
    string Output { get; }
    IReadOnlyList<AttentionGroup> Groups { get; }
}
