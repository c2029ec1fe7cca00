using System.Text.Json.Nodes;

namespace AttentionLab.Inspection;

/// <summary>
/// Everything a saved encoder-decoder, BERT or ViT shows about one input: what it read, what it produced, and every
/// attention map of every layer (<see cref="AttentionMap"/>) in its <see cref="Groups"/>, so the CLI
/// (<c>inspect --json</c>) and the web Explorer draw the same numbers. <see cref="InspectionJson.ToJson(ModelAttention)"/>
/// is the wire format:
/// <code>
/// {"model_type": "seq2seq", "input": "abc", "output": "cba",
///  "extra": {...},
///  "attention": [{"kind": "cross", "layer": 0, "heads": 4, "query_labels": [...], "key_labels": [...],
///                 "weights": [[[...Tk...] ...Tq...] ...H...],
///                 "roles": [{"head": 0, "entropy", "row_max", "previous", "next", "self", "first", "strongest"} ...H...]}, ...],
///  "groups": [{"name": "encoder", "kind": "encoder_self", "layers", "heads", "query_labels", "key_labels"}, ...]}
/// </code>
/// Each map's "roles" are <see cref="HeadRoles"/>' scores of its heads (cross-attention:
/// "diagonal", "diagonal_shift", "anti_diagonal", "anti_diagonal_shift" instead), rounded to 5 decimals like the
/// weights; a role no query has a key for is null, and "strongest" is the role with the highest score.
/// </summary>
/// <param name="ModelType">"seq2seq", "bert" or "vit"</param>
/// <param name="Input">the input as text (a source string, a masked sentence, or an image's description)</param>
/// <param name="Output">the model's answer (the decoded target, the filled-in text, the class name)</param>
/// <param name="Maps">every layer's attention, in forward order</param>
/// <param name="Extra">model-specific details (e.g. class probabilities, the image's pixels)</param>
public sealed record ModelAttention(string ModelType, string Input, string Output, IReadOnlyList<AttentionMap> Maps, JsonObject? Extra = null)
    : IAttentionReport
{
    /// <summary>The maps by group: encoder, decoder, cross (those the model has), each by layer.</summary>
    public IReadOnlyList<AttentionGroup> Groups => AttentionGroup.Of(Maps);

    /// <summary>The maps of one kind (<see cref="AttentionKinds"/>), by layer.</summary>
    public IReadOnlyList<AttentionMap> OfKind(string kind) => Groups.FirstOrDefault(g => g.Kind == kind)?.Maps ?? [];

    /// <summary>The wire format (<see cref="InspectionJson.ToJson(ModelAttention)"/>).</summary>
    public JsonObject ToJson() => InspectionJson.ToJson(this);
}
