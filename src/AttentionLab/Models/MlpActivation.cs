namespace AttentionLab.Models;

/// <summary>The MLP's nonlinearity: one choice of the config.</summary>
public enum MlpActivation
{
    /// <summary>GELU with the tanh approximation (Hendrycks &amp; Gimpel 2016), GPT-2's <c>gelu_new</c>:
    /// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    GeluTanh,
    /// <summary>The gated SwiGLU MLP (Shazeer 2020), Llama's: <c>down(silu(gate(x)) ⊙ up(x))</c>, silu(g) = g·σ(g),
    /// with gate and up of width <see cref="DecoderConfig.IntermediateSize"/>. The gate lets each hidden unit scale its
    /// own input; at equal parameters it trains to a lower loss than GELU.</summary>
    SwiGlu,
}
