using AttentionLab.Attention;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// The options the seq2seq, bert and vit commands share, read first: --json, --show-attention, --svg FILE,
/// --attention KERNEL, and for training --out DIR and --force (refused with --model DIR, see
/// <see cref="ModelCommandSupport.ReadModelDir"/>). <see cref="Args"/> holds the rest for the command.
/// </summary>
internal sealed record ModelCommandOptions(Args Args, bool Json, bool ShowAttention, string? Svg, IAttentionKernel Kernel, string? Out, bool Force)
{
    /// <returns>the options, or null when --help asked for <paramref name="usage"/> (printed to stdout)</returns>
    public static ModelCommandOptions? Read(string[] args, TextWriter stdout, Action<TextWriter> usage)
    {
        var a = new Args(args, "force", "show-attention");
        if (a.Help) { usage(stdout); return null; }
        return new ModelCommandOptions(a, a.Json, a.Flag("show-attention"), a.Path("svg"), ModelCommandSupport.ReadKernel(a), a.Path("out"), a.Flag("force"));
    }

    /// <summary>Locks --out (or a new runs/&lt;timestamp&gt;) for a training; call it once the other options are checked.</summary>
    public ModelOutputFolder LockOut(string svgFile) => ModelOutputFolder.Lock(Out, Force, svgFile);
}
