using AttentionLab.Hooks;
using AttentionLab.Models;

namespace AttentionLab.Interpretability;

/// <summary>What an ablated head's output is replaced with.</summary>
public enum AblationKind
{
    /// <summary>Zero: the head writes nothing.</summary>
    Zero,
    /// <summary>Its mean output (hook_z) over every position of a reference batch: the head's "typical" output, so
    /// only what it does for this input is removed.</summary>
    Mean,
}

/// <summary>Each head's ablated loss and its change from the unablated loss.</summary>
/// <param name="Loss">(L · H) the loss with that head ablated</param>
/// <param name="Delta">(L · H) Loss − BaseLoss: how much the model needs the head here</param>
public sealed record AblationResult(AblationKind Kind, int Layers, int Heads, float BaseLoss, float[] Loss, float[] Delta)
{
    public float this[int layer, int head] => Delta[layer * Heads + head];
}

/// <summary>
/// Head ablation: replace one head's output (<c>blocks.{l}.attn.hook_z</c>, its D columns at every position) with
/// zero or its mean over a reference batch, and measure the loss of the input — per head, a layer × head map that
/// answers "which heads matter" with a number (a high attention weight does not). Each ablated pass starts at the
/// head's block from the unablated run's cached stream (<see cref="DecoderModel.ForwardFrom"/>).
/// </summary>
public static class HeadAblation
{
    /// <summary>(L · H · D) each head's mean z over every position of <paramref name="reference"/>.</summary>
    public static float[] MeanOutputs(DecoderModel model, IReadOnlyList<int[]> reference)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(reference);
        if (reference.Count == 0) throw new ArgumentException("mean ablation needs at least one reference sequence");
        var cfg = model.Config;
        int layers = cfg.Layers, c = cfg.Heads * cfg.HeadDim;                           // z's row: H·D
        var sums = new double[layers * c];
        long rows = 0;
        foreach (var sequence in reference)
        {
            ModelRuns.CheckTokens(model, sequence, "a reference sequence");
            var (_, cache) = model.RunWithCache(sequence, n => n.EndsWith(".attn.hook_z", StringComparison.Ordinal));
            for (int l = 0; l < layers; l++)
            {
                var z = cache[HookNames.Name(HookPoint.Z, l)].Data;                        // (T, H, D)
                for (int r = 0; r < sequence.Length; r++)
                    for (int i = 0; i < c; i++) sums[l * c + i] += z[r * c + i];
            }
            rows += sequence.Length;
        }
        return sums.Select(s => (float)(s / rows)).ToArray();
    }

    /// <summary>The hook that ablates head <paramref name="head"/> of block <paramref name="layer"/>.</summary>
    /// <param name="means">(L · H · D) from <see cref="MeanOutputs"/>, for mean ablation; null: zero</param>
    public static HookSet Hook(DecoderConfig config, int layer, int head, float[]? means)
    {
        ArgumentNullException.ThrowIfNull(config);
        int d = config.HeadDim, c = config.Heads * d;                                   // z's row: H·D
        if ((uint)layer >= (uint)config.Layers || (uint)head >= (uint)config.Heads)
            throw new ArgumentOutOfRangeException(nameof(head), $"head {layer}.{head} is outside the model's {config.Layers} × {config.Heads}");
        return new HookSet().Edit(HookNames.Name(HookPoint.Z, layer), (_, memory) =>
        {
            var z = memory.Span;                                                          // (T, H, D)
            for (int r = 0; r < z.Length / c; r++)
            {
                var cols = z.Slice(r * c + head * d, d);
                if (means is null) cols.Clear();
                else means.AsSpan(layer * c + head * d, d).CopyTo(cols);
            }
        });
    }

    /// <summary>Every head ablated in turn; the loss is the mean next-token loss over positions ≥
    /// <paramref name="scoredFrom"/> (the second half of a repeated sequence, say).</summary>
    /// <param name="reference">the batch the means come from (mean ablation; null: <paramref name="tokens"/> itself)</param>
    public static AblationResult Run(DecoderModel model, int[] tokens, AblationKind kind, IReadOnlyList<int[]>? reference = null,
        int scoredFrom = 0, IProgress<SweepProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokens);
        ModelRuns.CheckTokens(model, tokens, "the input");
        if (tokens.Length < 2) throw new ArgumentException("ablation measures a loss: give at least two tokens");
        if (scoredFrom < 0 || scoredFrom >= tokens.Length - 1) throw new ArgumentException($"the scored positions start at {scoredFrom}, outside [0, {tokens.Length - 1})");
        var cfg = model.Config;
        float[]? means = kind == AblationKind.Mean ? MeanOutputs(model, reference ?? [tokens]) : null;
        var (_, resid, _) = ModelRuns.Cached(model, tokens);
        float baseLoss = ModelRuns.LossFrom(model, 0, resid[0], tokens, null, scoredFrom);
        int total = cfg.Layers * cfg.Heads, done = 0;
        var loss = new float[total];
        var delta = new float[total];
        progress?.Report(new SweepProgress(0, total));
        for (int l = 0; l < cfg.Layers; l++)
            for (int h = 0; h < cfg.Heads; h++)
            {
                cancellation.ThrowIfCancellationRequested();
                loss[l * cfg.Heads + h] = ModelRuns.LossFrom(model, l, resid[l], tokens, Hook(cfg, l, h, means), scoredFrom);
                delta[l * cfg.Heads + h] = loss[l * cfg.Heads + h] - baseLoss;
                progress?.Report(new SweepProgress(++done, total));
            }
        return new AblationResult(kind, cfg.Layers, cfg.Heads, baseLoss, loss, delta);
    }
}
