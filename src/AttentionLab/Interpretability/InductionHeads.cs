using AttentionLab.Hooks;
using AttentionLab.Models;

namespace AttentionLab.Interpretability;

/// <summary>Each head's scores on a repeated random sequence, and the loss on each half.</summary>
/// <param name="Induction">(L · H) mean attention from a second-half token to the token after its first copy</param>
/// <param name="PreviousToken">(L · H) mean attention to the previous token (the other half of the induction circuit)</param>
/// <param name="FirstHalfLoss">next-token loss on the first copy (unpredictable: about ln V for random tokens)</param>
/// <param name="SecondHalfLoss">on the second copy (an induction circuit makes it low)</param>
public sealed record InductionResult(int[] Tokens, int Period, int Layers, int Heads, float[] Induction, float[] PreviousToken,
    float FirstHalfLoss, float SecondHalfLoss)
{
    /// <summary>The head with the highest induction score.</summary>
    public (int Layer, int Head, float Score) Top
    {
        get
        {
            int best = 0;
            for (int i = 1; i < Induction.Length; i++) if (Induction[i] > Induction[best]) best = i;
            return (best / Heads, best % Heads, Induction[best]);
        }
    }
}

/// <summary>
/// Induction heads found, not assumed (Olsson et al. 2022): on a sequence of n random tokens repeated twice, an
/// induction head at a second-copy position i attends to i − n + 1, the token that followed the earlier copy of the
/// current token, and copies it — so the second copy's loss falls far below the first's. A head's induction score is
/// the mean of pattern[i, i − n + 1] over the second copy's positions (TransformerLens's induction-score test).
/// </summary>
public static class InductionHeads
{
    /// <summary>n random tokens in [<paramref name="first"/>, vocab) from a fixed seed, then the same n again (2n).</summary>
    public static int[] RepeatedSequence(int vocab, int period, int seed, int first = 0)
    {
        if (period < 2) throw new ArgumentException($"the repeated part needs at least 2 tokens, got {period}");
        if (vocab - first < 2) throw new ArgumentException("need at least two token ids to draw from");
        var random = new Random(seed);
        var tokens = new int[2 * period];
        for (int i = 0; i < period; i++) tokens[i] = tokens[i + period] = first + random.Next(vocab - first);
        return tokens;
    }

    /// <summary>The scores of every head on <paramref name="tokens"/>, whose second half repeats the first (period n = T/2).</summary>
    public static InductionResult Score(DecoderModel model, int[] tokens)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokens);
        ModelRuns.CheckTokens(model, tokens, "the input");
        int t = tokens.Length, n = t / 2;
        if (t % 2 != 0 || n < 2 || !tokens.AsSpan(0, n).SequenceEqual(tokens.AsSpan(n)))
            throw new ArgumentException("the induction test needs a sequence whose second half repeats its first (at least 2 tokens each)");
        var cfg = model.Config;
        int layers = cfg.Layers, heads = cfg.Heads;
        var (_, cache) = model.RunWithCache(tokens, n2 => n2.EndsWith(".attn.hook_pattern", StringComparison.Ordinal));
        var losses = model.Losses;
        float first = ModelRuns.MeanLoss(losses[..n], n + 1, 0);                          // positions 0 … n−1 predict 1 … n
        float second = ModelRuns.MeanLoss(losses, t, n);                                  // n … 2n−2 predict the rest of the copy
        var induction = new float[layers * heads];
        var previous = new float[layers * heads];
        for (int l = 0; l < layers; l++)
        {
            var pattern = cache[HookNames.Name(HookPoint.Pattern, l)].Data;               // (H, T, T)
            for (int h = 0; h < heads; h++)
            {
                double ind = 0, prev = 0;
                for (int i = n; i < t; i++) ind += pattern[(h * t + i) * t + i - n + 1];
                for (int i = 1; i < t; i++) prev += pattern[(h * t + i) * t + i - 1];
                induction[l * heads + h] = (float)(ind / n);
                previous[l * heads + h] = (float)(prev / (t - 1));
            }
        }
        return new InductionResult(tokens, n, layers, heads, induction, previous, first, second);
    }

    /// <summary>The second copy's loss with head (layer, head) zero-ablated: an induction head's ablation raises it.</summary>
    public static float SecondHalfLossWithout(DecoderModel model, int[] tokens, int layer, int head)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokens);
        int n = tokens.Length / 2;
        model.RunWithHooks(tokens, HeadAblation.Hook(model.Config, layer, head, means: null));
        return ModelRuns.MeanLoss(model.Losses, tokens.Length, n);
    }
}
