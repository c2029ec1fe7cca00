using AttentionLab.Hooks;
using AttentionLab.Models;

namespace AttentionLab.Interpretability;

/// <summary>One token and its probability under a lens.</summary>
public readonly record struct TokenProbability(int Token, float Probability);

/// <summary>The lens at one stage of the stream and one position: the top tokens, and the target's probability and
/// rank (1 = the top token; 0 when no target was asked).</summary>
public sealed record LensCell(int Stage, int Position, TokenProbability[] Top, float TargetProbability, int TargetRank);

/// <summary>The logit lens of one sequence: stage s = 0 … L−1 is <c>blocks.{s}.hook_resid_pre</c>, stage L the last
/// block's <c>hook_resid_post</c> (what the head reads).</summary>
/// <param name="Positions">the positions read</param>
/// <param name="Cells">[stage · P + i] for position Positions[i]</param>
public sealed record LogitLensResult(int[] Tokens, int[] Positions, int? Target, string[] Stages, LensCell[] Cells)
{
    /// <summary>The cell of a stage and the i-th position read.</summary>
    public LensCell this[int stage, int index] => Cells[stage * Positions.Length + index];
}

/// <summary>
/// The logit lens (nostalgebraist 2020): the residual stream at every layer and position read through the model's
/// own final norm and unembedding, <c>softmax(W_U·norm(x_l))</c>, as if the model stopped after block l. At the last
/// stage it is the model's output exactly (the same arithmetic as the forward pass's head).
/// </summary>
public static class LogitLens
{
    /// <summary>The stream names the lens reads, in order: every block's resid_pre, then the last resid_post.</summary>
    public static string[] Stages(DecoderConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var names = new string[config.Layers + 1];
        for (int l = 0; l < config.Layers; l++) names[l] = HookNames.Name(HookPoint.ResidPre, l);
        names[^1] = HookNames.Name(HookPoint.ResidPost, config.Layers - 1);
        return names;
    }

    /// <summary>(L + 1) arrays of (T, V) logits: each stage's stream through the final norm and the unembedding.</summary>
    public static float[][] Logits(DecoderModel model, int[] tokens)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokens);
        ModelRuns.CheckTokens(model, tokens, "the input");
        var stages = Stages(model.Config);
        var wanted = stages.ToHashSet(StringComparer.Ordinal);
        var (_, cache) = model.RunWithCache(tokens, wanted.Contains);
        int t = tokens.Length, v = model.Config.VocabSize;
        var logits = new float[stages.Length][];
        for (int s = 0; s < stages.Length; s++)
        {
            logits[s] = new float[t * v];                                                 // (T, V)
            model.Unembed(cache[stages[s]].Data, t, logits[s]);
        }
        return logits;
    }

    /// <summary>The lens at every stage and position: the <paramref name="top"/> tokens and the target's probability and rank.</summary>
    /// <param name="target">the token to follow (e.g. the next token or the expected answer), or null</param>
    /// <param name="positions">the positions to read (null: all)</param>
    public static LogitLensResult Run(DecoderModel model, int[] tokens, int? target = null, int top = 5, int[]? positions = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokens);
        ModelRuns.CheckTokens(model, tokens, "the input");
        int t = tokens.Length, v = model.Config.VocabSize;
        if (target is { } tg && (uint)tg >= (uint)v) throw new ArgumentException($"target token {tg} is outside [0, {v})");
        if (top < 1 || top > v) throw new ArgumentException($"top must be in [1, {v}], got {top}");
        positions ??= Enumerable.Range(0, t).ToArray();
        foreach (int p in positions)
            if ((uint)p >= (uint)t) throw new ArgumentException($"position {p} is outside [0, {t})");
        var stages = Stages(model.Config);
        var wanted = stages.ToHashSet(StringComparer.Ordinal);
        var (_, cache) = model.RunWithCache(tokens, wanted.Contains);
        int c = model.Config.Channels;
        var cells = new LensCell[stages.Length * positions.Length];
        var rows = new float[positions.Length * c];                                       // (P, C)
        var logits = new float[positions.Length * v];                                     // (P, V)
        var probabilities = new float[v];
        for (int s = 0; s < stages.Length; s++)
        {
            var stream = cache[stages[s]].Data;                                           // (T, C)
            for (int i = 0; i < positions.Length; i++) stream.AsSpan(positions[i] * c, c).CopyTo(rows.AsSpan(i * c, c));
            model.Unembed(rows, positions.Length, logits);
            for (int i = 0; i < positions.Length; i++)
            {
                var row = logits.AsSpan(i * v, v);
                System.Numerics.Tensors.TensorPrimitives.SoftMax(row, probabilities);
                var best = TopTokens(probabilities, top);
                float targetP = target is { } g ? probabilities[g] : 0f;
                int rank = 0;
                if (target is { } g2)
                {
                    rank = 1;
                    foreach (float p in probabilities) if (p > probabilities[g2]) rank++;
                }
                cells[s * positions.Length + i] = new LensCell(s, positions[i], best, targetP, rank);
            }
        }
        return new LogitLensResult(tokens, positions, target, stages, cells);
    }

    /// <summary>The k largest probabilities, largest first (ties: the lower id first).</summary>
    internal static TokenProbability[] TopTokens(ReadOnlySpan<float> probabilities, int k)
    {
        var best = new List<TokenProbability>(k + 1);
        for (int id = 0; id < probabilities.Length; id++)
        {
            float p = probabilities[id];
            if (best.Count == k && p <= best[^1].Probability) continue;
            int at = best.Count;
            while (at > 0 && best[at - 1].Probability < p) at--;
            best.Insert(at, new TokenProbability(id, p));
            if (best.Count > k) best.RemoveAt(k);
        }
        return [.. best];
    }
}
