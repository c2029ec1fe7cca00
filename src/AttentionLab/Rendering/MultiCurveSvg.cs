using System.Globalization;
using System.Text;

namespace AttentionLab.Rendering;

/// <summary>One line of a <see cref="MultiCurveSvg"/> plot.</summary>
/// <param name="Label">legend text; null keeps it out of the legend</param>
/// <param name="Points">(x, y); non-finite values are skipped</param>
/// <param name="Colour">CSS colour</param>
/// <param name="Width">stroke width</param>
/// <param name="Dashed">a dashed line (references such as ln V)</param>
/// <param name="Markers">a dot at every point</param>
/// <param name="Opacity">stroke opacity (faint raw curves under bold summaries)</param>
public sealed record CurveSeries(string? Label, IReadOnlyList<(double X, double Y)> Points, string Colour,
    double Width = 1.5, bool Dashed = false, bool Markers = false, double Opacity = 1.0);

/// <summary>
/// Several curves on shared axes as a standalone SVG document (no dependencies): the loss curves of an experiment's
/// settings side by side. Same look as <see cref="LossCurveSvg"/>, whose tick rule it reuses.
/// </summary>
public static class MultiCurveSvg
{
    private const int Width = 820, Height = 480;
    private const int Left = 70, Right = 20, Top = 40, Bottom = 60;

    /// <summary>Distinct colours for settings, in order (matplotlib's tab10).</summary>
    public static readonly string[] Palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

    public static string Render(IReadOnlyList<CurveSeries> series, string title, string xLabel, string yLabel)
    {
        ArgumentNullException.ThrowIfNull(series);
        var all = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        double x0 = all.Count == 0 ? 0 : Math.Min(0, all.Min(p => p.X)), x1 = all.Count == 0 ? 1 : all.Max(p => p.X);
        if (all.Count > 0 && all.Min(p => p.X) > 0 && all.Max(p => p.X) > 0 && all.Min(p => p.X) > 0.2 * all.Max(p => p.X)) x0 = all.Min(p => p.X);
        if (x1 - x0 < 1e-9) { x0 -= 0.5; x1 += 0.5; }
        double lo = all.Count == 0 ? 0 : all.Min(p => p.Y), hi = all.Count == 0 ? 1 : all.Max(p => p.Y);
        if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
        var yTicks = LossCurveSvg.NiceTicks(lo, hi, 6);
        lo = Math.Min(lo, yTicks[0]); hi = Math.Max(hi, yTicks[^1]);
        var xTicks = LossCurveSvg.NiceTicks(x0, x1, 8).Where(t => t >= x0 - 1e-9 && t <= x1 + 1e-9).ToList();
        double plotW = Width - Left - Right, plotH = Height - Top - Bottom;
        double X(double x) => Left + (x - x0) / (x1 - x0) * plotW;
        double Y(double y) => Top + (hi - y) / (hi - lo) * plotH;

        var sb = new StringBuilder();
        SvgPlotFrame.Append(sb, (Width, Height, Left, Right, Top, Bottom), title, xTicks, yTicks, X, Y, xLabel, yLabel);
        foreach (var s in series)
        {
            var finite = s.Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
            if (finite.Count == 0) continue;
            string dash = s.Dashed ? " stroke-dasharray=\"6 4\"" : "";
            string opacity = s.Opacity < 1 ? string.Create(CultureInfo.InvariantCulture, $" stroke-opacity=\"{s.Opacity:0.##}\"") : "";
            if (finite.Count > 1)
            {
                sb.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{s.Colour}\" stroke-width=\"{s.Width}\"{dash}{opacity} points=\"");
                foreach (var (x, y) in finite) sb.Append(CultureInfo.InvariantCulture, $"{X(x):F1},{Y(y):F1} ");
                sb.Append("\"/>\n");
            }
            if (s.Markers || finite.Count == 1)
                foreach (var (x, y) in finite)
                    sb.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{X(x):F1}\" cy=\"{Y(y):F1}\" r=\"3\" fill=\"{s.Colour}\"/>\n");
        }
        var legend = series.Where(s => s.Label is not null).ToList();
        if (legend.Count > 0)
        {
            int w = 12 + 7 * Math.Min(48, legend.Max(s => s.Label!.Length)) + 48, lx = Width - Right - w - 10, ly = Top + 10;
            sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{lx}\" y=\"{ly}\" width=\"{w}\" height=\"{10 + 18 * legend.Count}\" fill=\"white\" fill-opacity=\"0.9\" stroke=\"#999\"/>\n");
            for (int i = 0; i < legend.Count; i++)
            {
                var s = legend[i];
                int y = ly + 14 + 18 * i;
                string dash = s.Dashed ? " stroke-dasharray=\"6 4\"" : "";
                sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{lx + 10}\" y1=\"{y}\" x2=\"{lx + 40}\" y2=\"{y}\" stroke=\"{s.Colour}\" stroke-width=\"{Math.Max(2, s.Width)}\"{dash}/>");
                sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{lx + 48}\" y=\"{y + 4}\">{Escape(s.Label!)}</text>\n");
            }
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static string Format(double v) => v.ToString(Math.Abs(v) >= 100 || v == Math.Round(v) ? "0" : "0.##", CultureInfo.InvariantCulture);

    private static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;");
}
