namespace AttentionLab.Attention;

/// <summary>
/// The plain reference kernel: scaled dot-product attention written as loops, one query row at a time —
/// what a learner reads. Every other kernel is tested against it. Arithmetic is in double so it is a
/// trustworthy yardstick (the inputs and outputs are float).
/// <code>
/// scores  = q·kᵀ · scale + additive mask      (Tq, Tk), masked scores = −∞
/// weights = softmax(scores) along each row    (Tq, Tk); a row with every key masked is all 0
/// output  = weights · v                       (Tq, D)
/// </code>
/// </summary>
public sealed class ScaledDotProductAttention : IAttentionKernel
{
    /// <summary>"naive": the scores are materialized, softmaxed, then multiplied by V ("reference" is an alias).</summary>
    public string Name => "naive";

    public bool IsExact => true;

    /// <summary>No state is kept between calls: heads may run in parallel.</summary>
    public bool CallsMayOverlap => true;

    /// <summary>The saved state is the weights.</summary>
    public bool SavesWeights => true;

    /// <summary>Saves the (B, H, Tq, Tk) weights.</summary>
    public long SavedLength(AttentionShape shape) => (long)shape.Batch * shape.Heads * shape.QueryLength * shape.KeyLength;

    public void Weights(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        AttentionShape shape, AttentionOptions options, Span<float> weights)
    {
        AttentionChecks.Weights(q, k, v, shape, options, weights);
        Forward(q, k, v, shape, options, new float[shape.QueryElements], weights);
    }

    /// <param name="weights">(B, H, Tq, Tk): the saved state is the weights themselves (empty: not kept)</param>
    public void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        AttentionShape shape, AttentionOptions options, Span<float> output, Span<float> weights)
    {
        AttentionChecks.Forward(q, k, v, shape, options, output, weights, SavedLength(shape));
        var (B, H, Tq, Tk, D) = shape;
        double scale = options.ScaleFor(D);
        var scores = new double[Tk];

        for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
        {
            int qHead = (b * H + h) * Tq * D;   // start of q[b, h] and output[b, h]: (Tq, D)
            int kHead = (b * H + h) * Tk * D;   // start of k[b, h] and v[b, h]: (Tk, D)
            for (int i = 0; i < Tq; i++)
            {
                // 1. scores: how well query i matches each key, scaled, with the masks applied
                for (int j = 0; j < Tk; j++)
                {
                    if (!options.Allows(b, h, i, j, shape)) { scores[j] = double.NegativeInfinity; continue; }
                    double dot = 0;
                    for (int d = 0; d < D; d++) dot += (double)q[qHead + i * D + d] * k[kHead + j * D + d];
                    scores[j] = dot * scale + options.BiasAt(b, h, i, j);
                }

                // 2. softmax along the row; subtract the row max only for numerical stability
                //    (softmax(x) = softmax(x − c) for any c, and exp of a value ≤ 0 cannot overflow)
                double max = double.NegativeInfinity;
                for (int j = 0; j < Tk; j++) max = Math.Max(max, scores[j]);
                bool fullyMasked = double.IsNegativeInfinity(max); // no key to attend to: weights 0, output 0
                double sum = 0;
                for (int j = 0; j < Tk; j++)
                {
                    scores[j] = fullyMasked ? 0 : Math.Exp(scores[j] - max); // exp(−∞) = 0 removes masked keys
                    sum += scores[j];
                }
                for (int j = 0; j < Tk; j++) scores[j] = fullyMasked ? 0 : scores[j] / sum; // now the weights

                if (!weights.IsEmpty)
                    for (int j = 0; j < Tk; j++) weights[((b * H + h) * Tq + i) * Tk + j] = (float)scores[j];

                // 3. output row i: the weighted average of the value rows
                for (int d = 0; d < D; d++)
                {
                    double acc = 0;
                    for (int j = 0; j < Tk; j++) acc += scores[j] * v[kHead + j * D + d];
                    output[qHead + i * D + d] = (float)acc;
                }
            }
        }
    }

    /// <summary>
    /// With P the weights and dO the upstream gradient, per (b, h):
    /// <code>
    /// dV = Pᵀ·dO                          (Tk, D)
    /// dP = dO·Vᵀ                          (Tq, Tk)
    /// dS = P ⊙ (dP − rowsum(dP ⊙ P))      softmax backward (docs/attention.md)
    /// dQ = dS·K · scale,  dK = dSᵀ·Q · scale
    /// </code>
    /// Masked entries have P = 0, so they get dS = 0: no gradient flows through a masked score.
    /// </summary>
    public void Backward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> output,
        ReadOnlySpan<float> weights, ReadOnlySpan<float> dOutput, AttentionShape shape, AttentionOptions options,
        Span<float> dq, Span<float> dk, Span<float> dv)
    {
        AttentionChecks.Backward(q, k, v, output, weights, SavedLength(shape), dOutput, shape, options, dq, dk, dv);
        weights = AttentionChecks.WeightsOrRecompute(this, q, k, v, weights, shape, options);
        var (B, H, Tq, Tk, D) = shape;
        double scale = options.ScaleFor(D);
        var dP = new double[Tk];
        var dQ = new double[D];
        var dK = new double[Tk * D];
        var dV = new double[Tk * D];

        for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
        {
            int qHead = (b * H + h) * Tq * D;
            int kHead = (b * H + h) * Tk * D;
            Array.Clear(dK);
            Array.Clear(dV);
            for (int i = 0; i < Tq; i++)
            {
                var P = weights.Slice(((b * H + h) * Tq + i) * Tk, Tk); // row i of the weights
                var dO = dOutput.Slice(qHead + i * D, D);

                // dV[j] += P[i, j] · dO[i];   dP[i, j] = dO[i] · V[j]
                double rowDot = 0; // Σ_j dP[i, j] · P[i, j]
                for (int j = 0; j < Tk; j++)
                {
                    double dp = 0;
                    for (int d = 0; d < D; d++)
                    {
                        dV[j * D + d] += P[j] * (double)dO[d];
                        dp += (double)dO[d] * v[kHead + j * D + d];
                    }
                    dP[j] = dp;
                    rowDot += dp * P[j];
                }

                // dS[i, j] = P[i, j] · (dP[i, j] − rowDot), then through the scaled dot product
                Array.Clear(dQ);
                for (int j = 0; j < Tk; j++)
                {
                    double dS = P[j] * (dP[j] - rowDot) * scale;
                    if (dS == 0) continue;
                    for (int d = 0; d < D; d++)
                    {
                        dQ[d] += dS * k[kHead + j * D + d];
                        dK[j * D + d] += dS * q[qHead + i * D + d];
                    }
                }
                for (int d = 0; d < D; d++) dq[qHead + i * D + d] = (float)dQ[d];
            }
            for (int e = 0; e < Tk * D; e++)
            {
                dk[kHead + e] = (float)dK[e];
                dv[kHead + e] = (float)dV[e];
            }
        }
    }
}
