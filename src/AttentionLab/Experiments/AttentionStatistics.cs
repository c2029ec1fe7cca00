using AttentionLab.Models;
using AttentionLab.Rendering;
using AttentionLab.Training;

namespace AttentionLab.Experiments;

/// <summary>How peaked each head's attention is on a batch, and how much gradient reaches W_Q and W_K.</summary>
/// <param name="MaxWeight">(L, H) mean over query rows of the largest attention weight (1 = one key takes everything)</param>
/// <param name="Entropy">(L, H) mean row entropy in nats (0 = one key; ln(i + 1) = uniform over row i's keys)</param>
public sealed record HeadStatistics(double[] MaxWeight, double[] Entropy, int Layers, int Heads)
{
    public double MeanMaxWeight => MaxWeight.Average();
    public double MeanEntropy => Entropy.Average();
}

/// <summary>Measurements of a GPT's attention used by several experiments.</summary>
public static class AttentionStatistics
{
    /// <summary>A fixed batch of held-out windows (seeded), the same for every setting.</summary>
    /// <returns>inputs and targets, each (B, T)</returns>
    public static (int[] Inputs, int[] Targets) FixedBatch(ReadOnlyMemory<int> tokens, int batch, int length, ulong seed)
    {
        var sampler = new Batches(tokens, batch, length, seed);
        return sampler.Next();
    }

    /// <summary>Runs <paramref name="model"/> on <paramref name="inputs"/> (B, T) and averages each head's row maxima
    /// and row entropies over the batch.</summary>
    public static HeadStatistics Heads(DecoderModel model, int[] inputs, int batch, int length)
    {
        ArgumentNullException.ThrowIfNull(model);
        int L = model.Config.Layers, H = model.Config.Heads, T = length;
        model.Forward(inputs, batch, length);
        var maxWeight = new double[L * H];
        var entropy = new double[L * H];
        for (int l = 0; l < L; l++)
        {
            var weights = model.AttentionWeights(l);                       // (B, H, T, T)
            for (int b = 0; b < batch; b++)
                for (int h = 0; h < H; h++)
                {
                    var map = weights.AsSpan(((b * H) + h) * T * T, T * T);
                    entropy[l * H + h] += AttentionHeatmap.MeanEntropy(map, T) / batch;
                    double max = 0;
                    for (int i = 0; i < T; i++)
                    {
                        float m = 0;
                        foreach (var w in map.Slice(i * T, T)) m = MathF.Max(m, w);
                        max += m;
                    }
                    maxWeight[l * H + h] += max / T / batch;
                }
        }
        return new HeadStatistics(maxWeight, entropy, L, H);
    }

    /// <summary>
    /// ‖dLoss/dW_Q‖ and ‖dLoss/dW_K‖ (Frobenius, over all layers) on one batch: the q and k column blocks, [0, C) and
    /// [C, 2C), of each block's c_attn weight gradient (C, 3C). Leaves the model's gradients holding this batch's.
    /// </summary>
    public static (double Query, double Key) QueryKeyGradientNorms(DecoderModel model, int[] inputs, int[] targets, int batch, int length)
    {
        ArgumentNullException.ThrowIfNull(model);
        int c = model.Config.Channels;
        model.ZeroGrad();
        model.Forward(inputs, batch, length, targets);
        model.Backward();
        double q = 0, k = 0;
        foreach (var block in model.Layout.Blocks)
        {
            var g = model.Gradients[block.AttentionWeight];                // (C, 3C): [q | k | v] columns
            for (int row = 0; row < c; row++)
            {
                foreach (var x in g.Slice(row * 3 * c, c)) q += (double)x * x;
                foreach (var x in g.Slice(row * 3 * c + c, c)) k += (double)x * x;
            }
        }
        model.ZeroGrad();
        return (Math.Sqrt(q), Math.Sqrt(k));
    }
}
