using System.Globalization;
using AttentionLab.Models;
using AttentionLab.Rendering;
using AttentionLab.Text;

namespace AttentionLab.Inspection;

/// <summary>What to compute in one <see cref="Gpt2Inspector.Inspect"/> call.</summary>
public sealed record InspectionOptions
{
    /// <summary>How many most likely next tokens to report.</summary>
    public int TopK { get; init; } = 5;

    /// <summary>Keep the (T, V) logits of every position (large for GPT-2's vocabulary).</summary>
    public bool IncludeLogits { get; init; } = true;

    /// <summary>Only this layer's maps (null: every layer). The forward pass always runs every layer.</summary>
    public int? Layer { get; init; }

    /// <summary>Only this head's maps (null: every head).</summary>
    public int? Head { get; init; }

    /// <summary>(L·H) multipliers on each head's output (1 = as trained, 0 = head zeroed); null = no intervention.</summary>
    public float[]? HeadGates { get; init; }
}

/// <summary>One of the most likely next tokens.</summary>
public sealed record NextToken(int Id, string Token, double Probability);

/// <summary>
/// Everything <c>attnlab inspect --json</c> and the web Explorer show for one input: the tokens, the next-token
/// distribution, every head's attention map and its mean entropy.
/// </summary>
/// <param name="Attention">(L, H, T, T) attention probabilities, row = query, column = key (heads not selected are 0)</param>
/// <param name="Entropy">(L, H) mean row entropy of each map, in nats</param>
/// <param name="Logits">(T, V) or empty when not requested</param>
/// <param name="ApproximationError">for an approximate kernel (window, performer): max |weights − exact softmax weights|
/// over the maps inspected, from the same q, k and v; null for exact kernels</param>
public sealed record InspectionReport(
    int[] Ids, string[] Tokens, int Layers, int Heads, int Length, int VocabSize,
    float[] Attention, double[] Entropy, float[] Logits, NextToken[] Next,
    string Kernel, bool KernelIsExact, bool IsCausal, double? ApproximationError, float? Loss)
{
    /// <summary>The (T, T) map of one head.</summary>
    public ReadOnlySpan<float> Map(int layer, int head) => Attention.AsSpan((layer * Heads + head) * Length * Length, Length * Length);
}

/// <summary>
/// The one inspection call the CLI and the web Explorer share: runs the model (inference, no gradients) over the ids
/// and collects the maps, entropies and the next-token distribution.
/// </summary>
public static class Gpt2Inspector
{
    /// <param name="model">any GPT-2; its attention kernel and options are used as they are</param>
    /// <param name="tokenizer">labels the tokens; null shows ids</param>
    /// <param name="ids">(T) token ids, 1 ≤ T ≤ the context length</param>
    public static InspectionReport Inspect(Gpt2Model model, ITokenizer? tokenizer, IReadOnlyList<int> ids, InspectionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(ids);
        options ??= new InspectionOptions();
        var c = model.Config;
        int T = ids.Count, V = c.VocabSize, L = c.Layers, H = c.Heads;
        if (T == 0 || T > c.ContextLength) throw new ArgumentException($"need 1 to {c.ContextLength} tokens, got {T}");
        if (options.Layer is int ol && (ol < 0 || ol >= L)) throw new ArgumentException($"layer must be in [0, {L - 1}] for this {L}-layer model, got {ol}");
        if (options.Head is int oh && (oh < 0 || oh >= H)) throw new ArgumentException($"head must be in [0, {H - 1}] for this {H}-head model, got {oh}");
        if (options.TopK < 1) throw new ArgumentException($"top-k must be at least 1, got {options.TopK}");
        foreach (int id in ids) if ((uint)id >= (uint)V) throw new ArgumentException($"token id {id} is outside the vocabulary [0, {V})");

        var tokens = ids.ToArray();
        float? loss = null;
        var previousGates = model.HeadGates;
        try
        {
            model.HeadGates = options.HeadGates;
            if (T > 1)
            {
                // each id predicts the next; the last has none (its placeholder target is left out of the mean)
                var targets = tokens[1..].Append(0).ToArray();
                model.Forward(tokens, 1, T, targets);                         // the model's own (parallel) cross-entropy
                double total = 0;
                foreach (float x in model.Losses[..(T - 1)]) total += x;
                loss = (float)(total / (T - 1));
            }
            else model.Forward(tokens, 1, T);

            var attention = new float[L * H * T * T];
            var entropy = new double[L * H];
            double? approximationError = null;
            for (int l = 0; l < L; l++)
            {
                if (options.Layer is int only && only != l) continue;
                var maps = model.AttentionWeights(l);                       // (1, H, T, T)
                if (!model.Attention.IsExact)
                {
                    // the same q, k, v through exact attention: how far the approximation's weights are from softmax's
                    var exact = model.AttentionWeights(l, Attention.AttentionKernels.Fast);
                    double worst = approximationError ?? 0;
                    for (int i = 0; i < exact.Length; i++) worst = Math.Max(worst, Math.Abs(maps[i] - exact[i]));
                    approximationError = worst;
                }
                int layer = l;
                Parallel.For(0, H, h =>                                     // heads are independent: one per core
                {
                    if (options.Head is int oneHead && oneHead != h) return;
                    var map = maps.AsSpan(h * T * T, T * T);
                    map.CopyTo(attention.AsSpan((layer * H + h) * T * T, T * T));
                    entropy[layer * H + h] = AttentionHeatmap.MeanEntropy(map, T);
                });
            }
            var logits = model.Logits;                                       // (T, V)
            var last = logits.Slice((T - 1) * V, V);
            var next = TopTokens(last, options.TopK, tokenizer);
            string Label(int id) => tokenizer is null ? id.ToString(CultureInfo.InvariantCulture) : tokenizer.TokenText(id);
            return new InspectionReport(tokens, tokens.Select(Label).ToArray(), L, H, T, V, attention, entropy,
                options.IncludeLogits ? logits.ToArray() : [], next,
                model.Attention.Name, model.Attention.IsExact, model.AttentionOptions.IsCausal, approximationError, loss);
        }
        finally { model.HeadGates = previousGates; }
    }

    /// <summary>The <paramref name="k"/> most likely next tokens under softmax(logits), ties by id.</summary>
    /// <param name="logits">(V)</param>
    public static NextToken[] TopTokens(ReadOnlySpan<float> logits, int k, ITokenizer? tokenizer)
    {
        var probabilities = Probabilities(logits);
        return Enumerable.Range(0, logits.Length).OrderByDescending(i => probabilities[i]).ThenBy(i => i).Take(k)
            .Select(i => new NextToken(i, tokenizer is null ? i.ToString(CultureInfo.InvariantCulture) : tokenizer.TokenText(i), probabilities[i]))
            .ToArray();
    }

    /// <summary>softmax(logits) in double; subtracts the max so exp never overflows.</summary>
    /// <param name="logits">(V)</param>
    public static double[] Probabilities(ReadOnlySpan<float> logits)
    {
        float max = float.NegativeInfinity;
        foreach (var z in logits) max = MathF.Max(max, z);
        var p = new double[logits.Length];
        double sum = 0;
        for (int i = 0; i < p.Length; i++) sum += p[i] = Math.Exp(logits[i] - max);
        for (int i = 0; i < p.Length; i++) p[i] /= sum;
        return p;
    }
}
