namespace AttentionLab.Models;

/// <summary>The MLP's nonlinearity: one choice of the config.</summary>
public enum MlpActivation
{
    /// <summary>GELU with the tanh approximation (Hendrycks &amp; Gimpel 2016), GPT-2's <c>gelu_new</c>:
    /// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). (Exact erf GELU and gated SwiGLU are the next choices.)</summary>
    GeluTanh,
}
