using AttentionLab.Kernels;
using AttentionLab.Models;

namespace AttentionLab.Diagnostics;

/// <summary>
/// How far a model with 16-bit (or otherwise reduced) weights is from its float32 original, on one text:
/// <code>
/// max_abs  = max over positions and vocabulary of |z − z32|
/// max_rel  = max_abs / max |z32|                           (the error against the logits' own scale)
/// KL       = Σ_v p32(v)·(log p32(v) − log p(v))            per position, p = softmax(z); mean and max over positions
/// argmax   = share of positions whose most likely next token is the same
/// greedy   = N greedy tokens from each (KV cache), and the first step where they differ, if any
/// </code>
/// </summary>
public sealed record WeightFormatAccuracy(
    WeightFormat Format, int Positions, double MaxAbsError, double MaxRelativeError, double MeanKl, double MaxKl,
    double ArgmaxAgreement, int GreedyTokens, int? FirstGreedyDifference, int[] ReferenceGreedy, int[] Greedy)
{
    /// <summary>Compares <paramref name="candidate"/> with <paramref name="reference"/> (float32) on
    /// <paramref name="text"/> (logits at every position, cropped to the context) and over
    /// <paramref name="greedyTokens"/> greedy tokens after <paramref name="prompt"/>.</summary>
    public static WeightFormatAccuracy Measure(DecoderModel reference, DecoderModel candidate, ReadOnlySpan<int> text,
        IReadOnlyList<int> prompt, int greedyTokens)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(candidate);
        if (reference.Config.VocabSize != candidate.Config.VocabSize || reference.Config.Layers != candidate.Config.Layers)
            throw new ArgumentException("the two models differ in size");
        if (text.IsEmpty) throw new ArgumentException("the text needs at least one token");
        var window = text[..Math.Min(text.Length, reference.Config.ContextLength)];
        int t = window.Length, v = reference.Config.VocabSize;
        reference.Forward(window, 1, t);
        var z32 = reference.Logits.ToArray();                                                      // (T, V)
        candidate.Forward(window, 1, t);
        var z = candidate.Logits;                                                                  // (T, V)
        double maxAbs = 0, scale = 0, klSum = 0, klMax = 0;
        int sameArgmax = 0;
        for (int i = 0; i < t; i++)
        {
            var r = z32.AsSpan(i * v, v); var c = z.Slice(i * v, v);
            for (int j = 0; j < v; j++)
            {
                maxAbs = Math.Max(maxAbs, Math.Abs((double)c[j] - r[j]));
                scale = Math.Max(scale, Math.Abs((double)r[j]));
            }
            double kl = KullbackLeibler(r, c);
            klSum += kl; klMax = Math.Max(klMax, kl);
            if (ArgMax(r) == ArgMax(c)) sameArgmax++;
        }
        var referenceGreedy = new TextGenerator(reference).Greedy(prompt, greedyTokens);
        var greedy = new TextGenerator(candidate).Greedy(prompt, greedyTokens);
        int first = Enumerable.Range(0, greedyTokens).FirstOrDefault(i => referenceGreedy[i] != greedy[i], -1);
        return new WeightFormatAccuracy(candidate.WeightFormat, t, maxAbs, scale == 0 ? 0 : maxAbs / scale, klSum / t, klMax,
            (double)sameArgmax / t, greedyTokens, first < 0 ? null : first, referenceGreedy, greedy);
    }

    /// <summary>KL(softmax p ‖ softmax q) in double, each log-softmax with its max subtracted.</summary>
    public static double KullbackLeibler(ReadOnlySpan<float> p, ReadOnlySpan<float> q)
    {
        double lp = LogSumExp(p), lq = LogSumExp(q), kl = 0;
        for (int j = 0; j < p.Length; j++)
        {
            double a = p[j] - lp;
            kl += Math.Exp(a) * (a - (q[j] - lq));
        }
        return Math.Max(0, kl);
    }

    private static double LogSumExp(ReadOnlySpan<float> x)
    {
        double max = double.NegativeInfinity;
        foreach (float f in x) max = Math.Max(max, f);
        double sum = 0;
        foreach (float f in x) sum += Math.Exp(f - max);
        return max + Math.Log(sum);
    }

    private static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int j = 1; j < x.Length; j++) if (x[j] > x[best]) best = j;
        return best;
    }
}
