using AttentionLab.Hooks;
using AttentionLab.Models;

namespace AttentionLab.Interpretability;

/// <summary>Each head's weight on the first token, and what changes when no query after it may attend to it.</summary>
/// <param name="Share">(L · H) mean weight on key 0 over the queries 1 … T−1</param>
/// <param name="ShareAfter">(L · H) the largest weight any single key gets, averaged over queries 1 … T−1, with key 0 removed
/// (where the weight went: a sink head spreads it, or piles it on another token)</param>
/// <param name="Loss">next-token loss over positions 1 … T−2 as trained</param>
/// <param name="LossWithout">the same with the first key removed</param>
/// <param name="Divergence">(T) KL(p ‖ p_without) of each position's next-token distribution (0 at position 0, which keeps its key)</param>
/// <param name="SameTop">positions 1 … T−1 whose top token is unchanged</param>
public sealed record SinkResult(int Layers, int Heads, float[] Share, float[] ShareAfter, float Loss, float LossWithout, float[] Divergence, int SameTop);

/// <summary>
/// Attention sinks (Xiao et al. 2023): many heads put most of their weight on the first token, whatever it is — a
/// place to put attention that has nowhere useful to go. The experiment: hide key 0 from every query after it (its
/// score −∞ in every head of every block, through <c>hook_attn_scores</c>; query 0 keeps it, having no other key) and
/// see how the loss and each position's prediction change.
/// </summary>
public static class AttentionSinks
{
    public static SinkResult Run(DecoderModel model, int[] tokens)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokens);
        ModelRuns.CheckTokens(model, tokens, "the input");
        int t = tokens.Length, v = model.Config.VocabSize;
        if (t < 3) throw new ArgumentException("the sink experiment needs at least 3 tokens");
        var cfg = model.Config;
        int layers = cfg.Layers, heads = cfg.Heads;

        var (_, cache) = model.RunWithCache(tokens, n => n.EndsWith(".attn.hook_pattern", StringComparison.Ordinal));
        float loss = ModelRuns.MeanLoss(model.Losses, t, 1);
        var before = model.Logits.ToArray();                                              // (T, V)
        var share = Share(cache, layers, heads, t, max: false);

        var hide = new HookSet().Edit(n => n.EndsWith(".attn.hook_attn_scores", StringComparison.Ordinal), (_, memory) =>
        {
            var scores = memory.Span;                                                     // (1, H, T, T)
            for (int row = 0; row < scores.Length / t; row++)
                if (row % t > 0) scores[row * t] = float.NegativeInfinity;
        });
        var (_, after) = model.RunWithCache(tokens, n => n.EndsWith(".attn.hook_pattern", StringComparison.Ordinal), new ForwardOptions { Hooks = hide });
        float lossWithout = ModelRuns.MeanLoss(model.Losses, t, 1);
        var logitsAfter = model.Logits;
        var shareAfter = Share(after, layers, heads, t, max: true);

        var divergence = new float[t];
        int same = 0;
        var p = new float[v];
        var q = new float[v];
        for (int i = 1; i < t; i++)
        {
            System.Numerics.Tensors.TensorPrimitives.SoftMax(before.AsSpan(i * v, v), p);
            System.Numerics.Tensors.TensorPrimitives.SoftMax(logitsAfter.Slice(i * v, v), q);
            double kl = 0;
            for (int j = 0; j < v; j++) if (p[j] > 0) kl += p[j] * (Math.Log(p[j]) - Math.Log(Math.Max(q[j], 1e-30f)));
            divergence[i] = (float)kl;
            if (System.Numerics.Tensors.TensorPrimitives.IndexOfMax(p) == System.Numerics.Tensors.TensorPrimitives.IndexOfMax(q)) same++;
        }
        return new SinkResult(layers, heads, share, shareAfter, loss, lossWithout, divergence, same);
    }

    /// <summary>(L · H) mean over queries 1 … T−1 of the weight on key 0, or (max) of the largest weight on one key.</summary>
    private static float[] Share(ActivationCache cache, int layers, int heads, int t, bool max)
    {
        var result = new float[layers * heads];
        for (int l = 0; l < layers; l++)
        {
            var pattern = cache[HookNames.Name(HookPoint.Pattern, l)].Data;               // (H, T, T)
            for (int h = 0; h < heads; h++)
            {
                double sum = 0;
                for (int i = 1; i < t; i++)
                {
                    var row = pattern.AsSpan((h * t + i) * t, t);
                    sum += max ? System.Numerics.Tensors.TensorPrimitives.Max(row[..(i + 1)]) : row[0];
                }
                result[l * heads + h] = (float)(sum / (t - 1));
            }
        }
        return result;
    }
}
