using System.Globalization;
using System.Text;

namespace AttentionLab.Rendering;

/// <summary>
/// The loss curve of a training run as a standalone SVG document (no dependencies, opens in any
/// browser): train loss and validation loss against step, with axes, ticks, labels and a legend.
/// </summary>
public static class LossCurveSvg
{
    private const int Width = 760, Height = 440;
    private const int Left = 70, Right = 20, Top = 40, Bottom = 60;

    /// <param name="train">(step, loss) of the training batches.</param>
    /// <param name="validation">(step, loss) of the periodic validation estimates.</param>
    /// <param name="title">Shown above the plot.</param>
    /// <param name="uniformLoss">If given, a dashed line at this loss labelled as the uniform guess (ln V).</param>
    public static string Render(IReadOnlyList<(int Step, double Loss)> train, IReadOnlyList<(int Step, double Loss)> validation, string title,
        double? uniformLoss = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        var all = train.Concat(validation).Where(p => double.IsFinite(p.Loss)).ToList();
        if (uniformLoss is double u && double.IsFinite(u) && all.Count > 0) all.Add((all[0].Step, u));
        int maxStep = Math.Max(1, all.Count == 0 ? 1 : all.Max(p => p.Step));
        int minStep = all.Count == 0 ? 0 : Math.Min(0, all.Min(p => p.Step));
        double lo = all.Count == 0 ? 0 : all.Min(p => p.Loss), hi = all.Count == 0 ? 1 : all.Max(p => p.Loss);
        if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
        var yTicks = NiceTicks(lo, hi, 6);
        lo = Math.Min(lo, yTicks[0]); hi = Math.Max(hi, yTicks[^1]);
        var xTicks = NiceTicks(minStep, maxStep, 8).Where(t => t >= minStep && t <= maxStep).ToList();

        double plotW = Width - Left - Right, plotH = Height - Top - Bottom;
        double X(double step) => Left + (step - minStep) / (maxStep - minStep) * plotW;
        double Y(double loss) => Top + (hi - loss) / (hi - lo) * plotH;

        var sb = new StringBuilder();
        SvgPlotFrame.Append(sb, (Width, Height, Left, Right, Top, Bottom), title, xTicks.Select(t => (double)t), yTicks, X, Y,
            "step", "cross-entropy loss (nats)");
        if (uniformLoss is double uniform && double.IsFinite(uniform) && all.Count > 0)
        {
            double y = Y(uniform);
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{y:F1}\" x2=\"{Width - Right}\" y2=\"{y:F1}\" stroke=\"#888\" stroke-dasharray=\"6 4\"/>\n");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left + 6}\" y=\"{y - 5:F1}\" fill=\"#555\">ln V = {uniform:0.00}: a uniform guess</text>\n");
        }
        // curves
        AppendLine(sb, train, "#1f77b4", 1.2, X, Y);
        AppendLine(sb, validation, "#d62728", 2.0, X, Y);
        foreach (var (step, loss) in validation.Where(p => double.IsFinite(p.Loss)))
            sb.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{X(step):F1}\" cy=\"{Y(loss):F1}\" r=\"3\" fill=\"#d62728\"/>\n");
        // legend
        int lx = Width - Right - 170, ly = Top + 10;
        sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{lx}\" y=\"{ly}\" width=\"160\" height=\"46\" fill=\"white\" stroke=\"#999\"/>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{lx + 10}\" y1=\"{ly + 15}\" x2=\"{lx + 40}\" y2=\"{ly + 15}\" stroke=\"#1f77b4\" stroke-width=\"2\"/><text x=\"{lx + 48}\" y=\"{ly + 19}\">train loss</text>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{lx + 10}\" y1=\"{ly + 33}\" x2=\"{lx + 40}\" y2=\"{ly + 33}\" stroke=\"#d62728\" stroke-width=\"2\"/><text x=\"{lx + 48}\" y=\"{ly + 37}\">validation loss</text>\n");
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static void AppendLine(StringBuilder sb, IReadOnlyList<(int Step, double Loss)> points, string colour, double width,
        Func<double, double> x, Func<double, double> y)
    {
        var finite = points.Where(p => double.IsFinite(p.Loss)).ToList();
        if (finite.Count == 0) return;
        sb.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"{width}\" points=\"");
        foreach (var (step, loss) in finite) sb.Append(CultureInfo.InvariantCulture, $"{x(step):F1},{y(loss):F1} ");
        sb.Append("\"/>\n");
    }

    /// <summary>About <paramref name="count"/> round tick values (1, 2 or 5 × 10ⁿ apart) covering [lo, hi].</summary>
    internal static List<double> NiceTicks(double lo, double hi, int count)
    {
        double raw = (hi - lo) / Math.Max(1, count);
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = (raw / magnitude) switch { < 1.5 => magnitude, < 3 => 2 * magnitude, < 7 => 5 * magnitude, _ => 10 * magnitude };
        var ticks = new List<double>();
        for (double t = Math.Floor(lo / step) * step; t <= hi + step * 0.999; t += step) ticks.Add(Math.Round(t, 10));
        return ticks;
    }

    private static string Format(double v) => v.ToString(Math.Abs(v) >= 100 || v == Math.Round(v) ? "0" : "0.##", CultureInfo.InvariantCulture);

    private static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;");
}
