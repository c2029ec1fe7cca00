namespace AttentionLab.Cli.Commands;

/// <summary>
/// The other modes of <c>attnlab attention</c>, each in its own file, chosen by the options given:
/// <c>--heads/--x/--random-weights</c> multi-head by hand, <c>--grad</c> softmax's gradient,
/// <c>--mask-fill/--naive-softmax</c> where NaN comes from. Anything else is single-head attention.
/// </summary>
public static class AttentionModes
{
    public const string Usage = """

        Other modes (each has its own --help):
          --heads H --x M --wq M --wk M --wv M --wo M | --heads H --random-weights   multi-head attention by hand
          --grad [--row N]                          softmax's Jacobian diag(p) − ppᵀ and how it vanishes without 1/√d
          --mask-fill -inf|-1e9 [--naive-softmax]   where a NaN or a uniform row comes from (float32)
        """;

    /// <summary>The handler for the mode these arguments ask for, or null for plain single-head attention.</summary>
    public static Func<string[], TextWriter, TextWriter, int>? For(string[] argv)
    {
        if (Mentions(argv, "heads", "x", "random-weights")) return MultiHeadAttentionOutput.Run;
        if (Mentions(argv, "grad")) return SoftmaxGradientOutput.Run;
        if (Mentions(argv, "mask-fill", "naive-softmax")) return MaskedSoftmaxOutput.Run;
        return null;
    }

    private static bool Mentions(string[] argv, params string[] names) =>
        argv.Any(a => names.Any(n => a == "--" + n || a.StartsWith("--" + n + "=", StringComparison.Ordinal)));
}
