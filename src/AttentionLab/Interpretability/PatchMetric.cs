using AttentionLab.Models;

namespace AttentionLab.Interpretability;

/// <summary>
/// What activation patching measures at the last position: the logit difference of two tokens
/// (<c>logit[Token] − logit[Other]</c>, e.g. " Mary" − " John"), or, with no other token, the loss
/// <c>−log p(Token)</c> of a target.
/// </summary>
public sealed record PatchMetric(int Token, int? Other = null)
{
    /// <summary>logit[a] − logit[b].</summary>
    public static PatchMetric LogitDifference(int token, int other) => new(token, other);

    /// <summary>−log p(target).</summary>
    public static PatchMetric Loss(int target) => new(target);

    public bool IsLogitDifference => Other is not null;

    /// <summary>The metric of the last pass's last position.</summary>
    public float Of(ReadOnlySpan<float> lastLogits) => Other is { } b
        ? lastLogits[Token] - lastLogits[b]
        : (float)-ModelRuns.LogProbability(lastLogits, Token);

    public void Check(DecoderConfig config)
    {
        if ((uint)Token >= (uint)config.VocabSize) throw new ArgumentException($"metric token {Token} is outside [0, {config.VocabSize})");
        if (Other is { } b && (uint)b >= (uint)config.VocabSize) throw new ArgumentException($"metric token {b} is outside [0, {config.VocabSize})");
        if (Other == Token) throw new ArgumentException("a logit difference needs two different tokens");
    }

    public override string ToString() => Other is { } b ? $"logit[{Token}] − logit[{b}]" : $"−log p({Token})";
}
