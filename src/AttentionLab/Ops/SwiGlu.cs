namespace AttentionLab.Ops;

/// <summary>
/// The gate of the SwiGLU MLP (Shazeer 2020, "GLU Variants Improve Transformer"), Hugging Face's LlamaMLP:
/// <c>h = silu(gate) ⊙ up</c>, silu(g) = g·σ(g). The gate and up projections sit side by side in one (N, 2M) row,
/// <c>[gate | up]</c>, so one GEMM makes both.
/// <code>
/// backward:  dgate = dh ⊙ up ⊙ σ(g)·(1 + g·(1 − σ(g)))     (silu′)
///            dup   = dh ⊙ silu(g)
/// </code>
/// </summary>
public static class SwiGlu
{
    /// <param name="gateUp">(N, 2M) rows [gate | up]</param>
    /// <param name="output">(N, M), overwritten</param>
    public static void Forward(ReadOnlySpan<float> gateUp, int rows, int hidden, Span<float> output)
    {
        Check(gateUp, rows, hidden, output);
        for (int i = 0; i < rows; i++)
        {
            var g = gateUp.Slice(2 * i * hidden, hidden);
            var u = gateUp.Slice((2 * i + 1) * hidden, hidden);
            var h = output.Slice(i * hidden, hidden);
            for (int j = 0; j < hidden; j++)
            {
                float x = g[j];
                h[j] = x / (1f + MathF.Exp(-x)) * u[j];
            }
        }
    }

    /// <summary>Plain loops in double, the definition. Same contract as <see cref="Forward"/>.</summary>
    public static void ForwardReference(ReadOnlySpan<float> gateUp, int rows, int hidden, Span<float> output)
    {
        Check(gateUp, rows, hidden, output);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < hidden; j++)
            {
                double g = gateUp[2 * i * hidden + j], u = gateUp[(2 * i + 1) * hidden + j];
                output[i * hidden + j] = (float)(g / (1 + Math.Exp(-g)) * u);
            }
    }

    /// <param name="gateUp">(N, 2M) the forward input</param>
    /// <param name="dOutput">(N, M)</param>
    /// <param name="dGateUp">(N, 2M), overwritten</param>
    public static void Backward(ReadOnlySpan<float> gateUp, ReadOnlySpan<float> dOutput, int rows, int hidden, Span<float> dGateUp)
    {
        Check(gateUp, rows, hidden, dOutput);
        if (dGateUp.Length != gateUp.Length) throw new ArgumentException($"dGateUp has {dGateUp.Length} elements, needs {gateUp.Length}");
        for (int i = 0; i < rows; i++)
        {
            int o = 2 * i * hidden;
            for (int j = 0; j < hidden; j++)
            {
                float g = gateUp[o + j], u = gateUp[o + hidden + j], dh = dOutput[i * hidden + j];
                float sigma = 1f / (1f + MathF.Exp(-g));
                dGateUp[o + j] = dh * u * sigma * (1f + g * (1f - sigma));
                dGateUp[o + hidden + j] = dh * g * sigma;
            }
        }
    }

    private static void Check(ReadOnlySpan<float> gateUp, int rows, int hidden, ReadOnlySpan<float> output)
    {
        if (gateUp.Length != 2L * rows * hidden) throw new ArgumentException($"gate|up has {gateUp.Length} elements, (N, 2M) = ({rows}, {2 * hidden}) needs {2L * rows * hidden}");
        if (output.Length != (long)rows * hidden) throw new ArgumentException($"the output has {output.Length} elements, (N, M) = ({rows}, {hidden}) needs {(long)rows * hidden}");
    }
}
