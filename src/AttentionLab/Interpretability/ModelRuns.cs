using AttentionLab.Hooks;
using AttentionLab.Models;

namespace AttentionLab.Interpretability;

/// <summary>
/// The passes every method here is made of, over the model's public hook API: a pass from a block onward with the
/// losses of chosen positions, the last position's logits, and the shapes of the model. One sequence (B = 1).
/// </summary>
internal static class ModelRuns
{
    /// <summary>Runs blocks <paramref name="layer"/>… on <paramref name="residual"/> (T, C) with
    /// <paramref name="hooks"/>, each token predicting the next; returns the mean loss over the predicted positions in
    /// [<paramref name="scoredFrom"/>, T − 1) (NaN when none).</summary>
    public static float LossFrom(DecoderModel model, int layer, ReadOnlySpan<float> residual, int[] tokens, HookSet? hooks, int scoredFrom = 0)
    {
        int t = tokens.Length;
        var targets = Targets(tokens);
        model.ForwardFrom(layer, residual, tokens, 1, t, targets, hooks is null ? null : new ForwardOptions { Hooks = hooks });
        return MeanLoss(model.Losses, t, scoredFrom);
    }

    /// <summary>Each id predicting the next; the last position is not scored (−1).</summary>
    public static int[] Targets(int[] tokens)
    {
        var targets = new int[tokens.Length];
        tokens.AsSpan(1).CopyTo(targets);
        targets[^1] = -1;
        return targets;
    }

    /// <summary>Mean of the per-position losses of positions [from, T − 1) (the last has no next token).</summary>
    public static float MeanLoss(ReadOnlySpan<float> losses, int t, int from)
    {
        double total = 0;
        int n = 0;
        for (int i = Math.Max(0, from); i < t - 1; i++) { total += losses[i]; n++; }
        return n == 0 ? float.NaN : (float)(total / n);
    }

    /// <summary>(V) the last position's logits of the last pass.</summary>
    public static ReadOnlySpan<float> LastLogits(DecoderModel model, int t) =>
        model.Logits.Slice((t - 1) * model.Config.VocabSize, model.Config.VocabSize);

    /// <summary>Every block's <c>hook_resid_pre</c> of one cached run, (T, C) each, and its loss.</summary>
    public static (float Loss, float[][] ResidPre, ActivationCache Cache) Cached(DecoderModel model, int[] tokens, Func<string, bool>? more = null)
    {
        int layers = model.Config.Layers;
        var names = Enumerable.Range(0, layers).Select(l => HookNames.Name(HookPoint.ResidPre, l)).ToHashSet(StringComparer.Ordinal);
        var (loss, cache) = model.RunWithCache(tokens, n => names.Contains(n) || more?.Invoke(n) == true);
        var resid = new float[layers][];
        for (int l = 0; l < layers; l++) resid[l] = cache[HookNames.Name(HookPoint.ResidPre, l)].Data;
        return (loss, resid, cache);
    }

    /// <summary>Throws a clear ArgumentException for a token id outside the vocabulary or an empty input.</summary>
    public static void CheckTokens(DecoderModel model, ReadOnlySpan<int> tokens, string what)
    {
        if (tokens.IsEmpty) throw new ArgumentException($"{what} is empty");
        if (tokens.Length > model.Config.ContextLength)
            throw new ArgumentException($"{what} has {tokens.Length} tokens, more than the model's context of {model.Config.ContextLength}");
        foreach (int id in tokens)
            if ((uint)id >= (uint)model.Config.VocabSize) throw new ArgumentException($"{what}: token {id} is outside [0, {model.Config.VocabSize})");
    }

    /// <summary>log softmax(logits)[token], in double.</summary>
    public static double LogProbability(ReadOnlySpan<float> logits, int token)
    {
        float max = System.Numerics.Tensors.TensorPrimitives.Max(logits);
        double sum = 0;
        foreach (float z in logits) sum += Math.Exp(z - max);
        return logits[token] - max - Math.Log(sum);
    }
}
