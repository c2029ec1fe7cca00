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
        foreach (var t in yTicks) HorizontalGridLine(sb, left, width - right, y(t), Format(t));
        foreach (var t in xTicks) VerticalGridLine(sb, x(t), top, height - bottom, Format(t));
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{height - bottom}\" x2=\"{width - right}\" y2=\"{height - bottom}\" stroke=\"black\"/>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{height - bottom}\" stroke=\"black\"/>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{left + plotW / 2:F1}\" y=\"{height - 16}\" text-anchor=\"middle\">{Escape(xLabel)}</text>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"18\" y=\"{top + plotH / 2:F1}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {top + plotH / 2:F1})\">{Escape(yLabel)}</text>\n");
    }

    /// <summary>A light horizontal grid line at pixel height <paramref name="y"/> from <paramref name="x1"/> to
    /// <paramref name="x2"/>, its tick label left of <paramref name="x1"/>.</summary>
    public static void HorizontalGridLine(StringBuilder sb, double x1, double x2, double y, string label)
    {
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x1}\" y1=\"{y:F1}\" x2=\"{x2}\" y2=\"{y:F1}\" stroke=\"#e5e5e5\"/>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x1 - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{label}</text>\n");
    }

    /// <summary>A lighter vertical grid line at pixel <paramref name="x"/> from <paramref name="top"/> to
    /// <paramref name="bottom"/>, its tick label below.</summary>
    public static void VerticalGridLine(StringBuilder sb, double x, double top, double bottom, string label)
    {
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x:F1}\" y1=\"{top}\" x2=\"{x:F1}\" y2=\"{bottom}\" stroke=\"#f0f0f0\"/>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x:F1}\" y=\"{bottom + 18}\" text-anchor=\"middle\">{label}</text>\n");
    }

    /// <summary>A tick label: whole numbers plain, others to two decimals.</summary>
    public static string Format(double v) => v.ToString(Math.Abs(v) >= 100 || v == Math.Round(v) ? "0" : "0.##", CultureInfo.InvariantCulture);

    public static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;");
}
