using System.Globalization;
using System.Text;

namespace AttentionLab.Rendering;

/// <summary>
/// The frame every line plot here shares: the SVG header on a white page, the title, a light grid at the ticks with
/// their labels, the two axes and their names. The caller maps data to pixels and draws the curves inside.
/// </summary>
internal static class SvgPlotFrame
{
    /// <param name="size">(Width, Height) of the page and the (Left, Right, Top, Bottom) margins around the plot</param>
    /// <param name="x">data x → pixel x</param>
    /// <param name="y">data y → pixel y</param>
    public static void Append(StringBuilder sb, (int Width, int Height, int Left, int Right, int Top, int Bottom) size, string title,
        IEnumerable<double> xTicks, IEnumerable<double> yTicks, Func<double, double> x, Func<double, double> y, string xLabel, string yLabel)
    {
        var (width, height, left, right, top, bottom) = size;
        double plotW = width - left - right, plotH = height - top - bottom;
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{width / 2}\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">{Escape(title)}</text>\n");
        foreach (var t in yTicks)
        {
            double py = y(t);
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{py:F1}\" x2=\"{width - right}\" y2=\"{py:F1}\" stroke=\"#e5e5e5\"/>\n");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 6}\" y=\"{py + 4:F1}\" text-anchor=\"end\">{Format(t)}</text>\n");
        }
        foreach (var t in xTicks)
        {
            double px = x(t);
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{px:F1}\" y1=\"{top}\" x2=\"{px:F1}\" y2=\"{height - bottom}\" stroke=\"#f0f0f0\"/>\n");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{px:F1}\" y=\"{height - bottom + 18}\" text-anchor=\"middle\">{Format(t)}</text>\n");
        }
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{height - bottom}\" x2=\"{width - right}\" y2=\"{height - bottom}\" stroke=\"black\"/>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{height - bottom}\" stroke=\"black\"/>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{left + plotW / 2:F1}\" y=\"{height - 16}\" text-anchor=\"middle\">{Escape(xLabel)}</text>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"18\" y=\"{top + plotH / 2:F1}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {top + plotH / 2:F1})\">{Escape(yLabel)}</text>\n");
    }

    /// <summary>A tick label: whole numbers plain, others to two decimals.</summary>
    public static string Format(double v) => v.ToString(Math.Abs(v) >= 100 || v == Math.Round(v) ? "0" : "0.##", CultureInfo.InvariantCulture);

    public static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;");
}
