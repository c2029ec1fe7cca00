namespace AttentionLab.Ops;

/// <summary>
/// Rotary position embeddings (Su et al. 2021, RoFormer) in Hugging Face's rotate-half convention
/// (modeling_llama.py <c>apply_rotary_pos_emb</c>): channel i of a head is paired with channel i + D/2, and the pair
/// is rotated by the angle p·θ_i of the position p:
/// <code>
/// θ_i = base^(−2i/D)                           i = 0 … D/2 − 1   (inv_freq; llama3 scaling adjusts it, below)
/// y_i       = x_i·cos(pθ_i) − x_{i+D/2}·sin(pθ_i)
/// y_{i+D/2} = x_{i+D/2}·cos(pθ_i) + x_i·sin(pθ_i)
/// </code>
/// Rotating q at position m and k at position n by their angles makes q·k a function of m − n only. The backward
/// pass is the rotation by −pθ_i (a rotation's transpose is its inverse). The cos/sin table is grown on demand to
/// the highest position used, so a 128k-context model pays only for the positions it runs.
/// </summary>
public sealed class RotaryEmbedding
{
    private float[] _cos = [], _sin = [];      // (P, D/2) each
    private int _positions;

    /// <param name="headDim">D (even)</param>
    /// <param name="theta">the base (rope_theta)</param>
    /// <param name="scaling">Llama 3.x's frequency scaling, or null</param>
    public RotaryEmbedding(int headDim, double theta, IO.RopeScaling? scaling = null)
    {
        if (headDim < 2 || headDim % 2 != 0) throw new ArgumentOutOfRangeException(nameof(headDim), $"rotary positions need an even head dimension, got {headDim}");
        HeadDim = headDim;
        InverseFrequencies = Frequencies(headDim, theta, scaling);
    }

    public int HeadDim { get; }

    /// <summary>θ_i (D/2), float32 as Hugging Face computes them.</summary>
    public float[] InverseFrequencies { get; }

    /// <summary>
    /// HF's inv_freq: <c>1 / base^(arange(0, D, 2)/D)</c> in float32, then, with llama3 scaling
    /// (modeling_rope_utils.py <c>_compute_llama3_parameters</c>): with wavelength λ = 2π/θ, λ_low = original/low and
    /// λ_high = original/high, a θ of λ &gt; λ_low is divided by the factor, one of λ &lt; λ_high is kept, and one in
    /// between is blended, s = (original/λ − low)/(high − low), θ' = (1 − s)·θ/factor + s·θ.
    /// </summary>
    public static float[] Frequencies(int headDim, double theta, IO.RopeScaling? scaling)
    {
        int half = headDim / 2;
        var inv = new float[half];
        for (int i = 0; i < half; i++)
        {
            float exponent = (float)(2 * i) / headDim;                                  // arange(0, D, 2).float() / D
            inv[i] = 1f / (float)Math.Pow((float)theta, exponent);
        }
        if (scaling is null) return inv;
        double factor = scaling.Factor, low = scaling.LowFrequencyFactor, high = scaling.HighFrequencyFactor;
        double original = scaling.OriginalContextLength;
        double lowWavelength = original / low, highWavelength = original / high;
        for (int i = 0; i < half; i++)
        {
            float f = inv[i];
            float wavelength = 2 * MathF.PI / f;
            float scaled = wavelength > lowWavelength ? (float)(f / factor) : f;
            if (!(wavelength < highWavelength) && !(wavelength > lowWavelength))
            {
                float smooth = (float)((original / wavelength - low) / (high - low));
                scaled = (1 - smooth) * (float)(scaled / factor) + smooth * scaled;
            }
            inv[i] = scaled;
        }
        return inv;
    }

    /// <summary>Makes the table cover positions [0, <paramref name="positions"/>).</summary>
    private void Ensure(int positions)
    {
        if (positions <= _positions) return;
        int half = HeadDim / 2, grown = Math.Max(positions, Math.Min(2 * _positions, int.MaxValue / half));
        var cos = new float[grown * half];
        var sin = new float[grown * half];
        for (int p = 0; p < grown; p++)
            for (int i = 0; i < half; i++)
            {
                float angle = p * InverseFrequencies[i];                                  // float32, as HF's inv_freq @ position_ids
                cos[p * half + i] = (float)Math.Cos(angle);
                sin[p * half + i] = (float)Math.Sin(angle);
            }
        (_cos, _sin, _positions) = (cos, sin, grown);
    }

    /// <summary>Rotates every head's rows in place; row t of each (B, H) slice is position start + t.</summary>
    /// <param name="x">(B, H, T, D)</param>
    /// <param name="inverse">false: the forward rotation; true: by −pθ (the backward pass of a gradient)</param>
    public void Apply(Span<float> x, int batchHeads, int length, int start, bool inverse = false)
    {
        int d = HeadDim, half = d / 2;
        if (x.Length != (long)batchHeads * length * d) throw new ArgumentException($"x has {x.Length} elements, (B·H, T, D) = ({batchHeads}, {length}, {d}) needs {(long)batchHeads * length * d}");
        Ensure(start + length);
        float sign = inverse ? -1f : 1f;
        for (int bh = 0; bh < batchHeads; bh++)
            for (int t = 0; t < length; t++)
            {
                var row = x.Slice((bh * length + t) * d, d);
                var cos = _cos.AsSpan((start + t) * half, half);
                var sin = _sin.AsSpan((start + t) * half, half);
                for (int i = 0; i < half; i++)
                {
                    float a = row[i], b = row[i + half], c = cos[i], s = sign * sin[i];
                    row[i] = a * c - b * s;
                    row[i + half] = b * c + a * s;
                }
            }
    }

    /// <summary>The definition in double, rotate-half written out: <c>x·cos + rotate_half(x)·sin</c> with
    /// rotate_half(x) = [−x₂, x₁], for testing <see cref="Apply"/>.</summary>
    /// <param name="x">(B·H, T, D)</param>
    /// <returns>(B·H, T, D)</returns>
    public float[] Reference(ReadOnlySpan<float> x, int batchHeads, int length, int start)
    {
        int d = HeadDim, half = d / 2;
        var y = new float[x.Length];
        for (int bh = 0; bh < batchHeads; bh++)
            for (int t = 0; t < length; t++)
            {
                int o = (bh * length + t) * d;
                for (int j = 0; j < d; j++)
                {
                    double angle = (double)(float)((start + t) * InverseFrequencies[j % half]);   // cos = cat(freqs, freqs)
                    double rotated = j < half ? -x[o + j + half] : x[o + j - half];
                    y[o + j] = (float)(x[o + j] * Math.Cos(angle) + rotated * Math.Sin(angle));
                }
            }
        return y;
    }
}
