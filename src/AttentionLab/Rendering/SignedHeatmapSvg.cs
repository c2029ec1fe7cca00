using System.Globalization;
using System.Text;

namespace AttentionLab.Rendering;

/// <summary>
/// A map of signed values as a standalone SVG document (activation patching's recovered fraction, a layer × head
/// attribution or ablation): rows down, columns across, each cell blue (negative) through white (0) to red
/// (positive), the Explorer's colours,, scaled to the largest |value| (or a given limit), with the value printed in the cell when it fits and
/// in a tooltip always.
/// </summary>
public static class SignedHeatmapSvg
{
    private const int Bottom = 44, Gap = 30;

    /// <param name="values">(rows · columns) row-major; NaN cells are grey</param>
    /// <param name="limit">the |value| drawn at full colour; null: the largest |value|</param>
    public static string Render(float[] values, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels, string title,
        string? caption = null, float? limit = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(rowLabels);
        ArgumentNullException.ThrowIfNull(columnLabels);
        int rows = rowLabels.Count, columns = columnLabels.Count;
        if (rows == 0 || columns == 0) throw new ArgumentException("nothing to draw: no rows or no columns");
        if (values.Length != rows * columns) throw new ArgumentException($"{values.Length} values for {rows} × {columns} cells");
        float max = limit ?? values.Where(float.IsFinite).Select(MathF.Abs).DefaultIfEmpty(0).Max();
        if (!(max > 0)) max = 1;
        int cell = columns > 40 ? 14 : 30;
        bool numbers = cell >= 30;
        int labelWidth = 12 + 7 * Math.Min(24, rowLabels.Max(l => l.Length));
        int width = Math.Max(Gap * 2 + labelWidth + columns * cell, 2 * Gap + (int)(6.4 * Math.Max(title.Length, caption?.Length ?? 0)));
        int top = 56 + (int)(5.5 * Math.Min(24, columnLabels.Max(l => l.Length)));     // room for the slanted column labels
        int height = top + rows * cell + Bottom + 18;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"11\">\n");
        sb.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Gap}\" y=\"20\" font-size=\"13\" font-weight=\"bold\">{AttentionMapSvg.Text(title)}</text>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Gap}\" y=\"38\" fill=\"#666\">blue = −{max:0.###}, white = 0, red = +{max:0.###}</text>\n");
        int gx = Gap + labelWidth, gy = top;
        for (int j = 0; j < columns; j++)
        {
            int x = gx + j * cell + cell / 2;
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x}\" y=\"{gy - 6}\" text-anchor=\"start\" transform=\"rotate(-45 {x} {gy - 6})\">{AttentionMapSvg.Escape(columnLabels[j])}</text>\n");
        }
        for (int i = 0; i < rows; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{gx - 4}\" y=\"{gy + i * cell + cell / 2 + 4}\" text-anchor=\"end\">{AttentionMapSvg.Escape(rowLabels[i])}</text>\n");
            for (int j = 0; j < columns; j++)
            {
                float v = values[i * columns + j];
                sb.Append(CultureInfo.InvariantCulture,
                    $"<rect x=\"{gx + j * cell}\" y=\"{gy + i * cell}\" width=\"{cell}\" height=\"{cell}\" fill=\"{Colour(v, max)}\"><title>{AttentionMapSvg.Escape(rowLabels[i])}, {AttentionMapSvg.Escape(columnLabels[j])}: {v.ToString("0.0000", CultureInfo.InvariantCulture)}</title></rect>\n");
                if (numbers && float.IsFinite(v))
                    sb.Append(CultureInfo.InvariantCulture,
                        $"<text x=\"{gx + j * cell + cell / 2}\" y=\"{gy + i * cell + cell / 2 + 4}\" text-anchor=\"middle\" font-size=\"9\" fill=\"{(Math.Abs(v) > 0.6 * max ? "white" : "#222")}\">{v.ToString(Math.Abs(v) >= 10 ? "0" : "0.00", CultureInfo.InvariantCulture)}</text>\n");
            }
        }
        sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{gx}\" y=\"{gy}\" width=\"{columns * cell}\" height=\"{rows * cell}\" fill=\"none\" stroke=\"#888\"/>\n");
        if (caption is not null)
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Gap}\" y=\"{height - 14}\" fill=\"#444\">{AttentionMapSvg.Text(caption)}</text>\n");
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    /// <summary>Blue (#2166ac) ← white → red (#b2182b) by value / limit; grey for NaN.</summary>
    internal static string Colour(float value, float limit)
    {
        if (!float.IsFinite(value)) return "#cccccc";
        double t = Math.Clamp(value / limit, -1, 1);
        (int r, int g, int b) end = t < 0 ? (33, 102, 172) : (178, 24, 43);
        double a = Math.Abs(t);
        int R = (int)Math.Round(255 + (end.r - 255) * a), G = (int)Math.Round(255 + (end.g - 255) * a), B = (int)Math.Round(255 + (end.b - 255) * a);
        return $"#{R:x2}{G:x2}{B:x2}";
    }
}
