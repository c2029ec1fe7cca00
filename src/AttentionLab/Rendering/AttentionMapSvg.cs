using System.Globalization;
using System.Security;
using System.Text;

namespace AttentionLab.Rendering;

/// <summary>One attention map to draw: (Tq, Tk) weights, row i = query i's distribution over the keys.</summary>
/// <param name="Title">shown above the grid</param>
/// <param name="Weights">(Tq, Tk) row-major, each in [0, 1]</param>
/// <param name="QueryLabels">Tq row labels</param>
/// <param name="KeyLabels">Tk column labels</param>
public sealed record AttentionPanel(string Title, float[] Weights, IReadOnlyList<string> QueryLabels, IReadOnlyList<string> KeyLabels);

/// <summary>
/// Attention maps as a standalone SVG document: one grid per panel, side by side, queries down and keys across, each
/// cell shaded from white (0) to dark blue (1) with its weight in a tooltip. Masked cells (exactly 0 where a mask
/// hides the key) are white, so a causal map shows its triangle and a padded one its missing columns.
/// </summary>
public static class AttentionMapSvg
{
    private const int Cell = 18, LabelWidth = 46, Gap = 40, Top = 64, Bottom = 40;

    public static string Render(IReadOnlyList<AttentionPanel> panels, string? caption = null)
    {
        ArgumentNullException.ThrowIfNull(panels);
        if (panels.Count == 0) throw new ArgumentException("nothing to draw: no panels");
        foreach (var p in panels)
            if (p.Weights.Length != p.QueryLabels.Count * p.KeyLabels.Count)
                throw new ArgumentException($"panel '{p.Title}' has {p.Weights.Length} weights for ({p.QueryLabels.Count}, {p.KeyLabels.Count}) labels");
        int width = panels.Sum(p => LabelWidth + Math.Max(p.KeyLabels.Count * Cell, 120)) + Gap * (panels.Count + 1);
        width = Math.Max(width, 2 * Gap + (int)(6.2 * Math.Max(caption?.Length ?? 0, panels.Max(p => p.Title.Length) * 13 / 11)));
        int height = Top + panels.Max(p => p.QueryLabels.Count) * Cell + Bottom;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"11\">\n");
        sb.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        int x0 = Gap;
        foreach (var p in panels)
        {
            int gx = x0 + LabelWidth, gy = Top, tq = p.QueryLabels.Count, tk = p.KeyLabels.Count;
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{gx}\" y=\"18\" font-size=\"13\" font-weight=\"bold\">{Text(p.Title)}</text>\n");
            for (int j = 0; j < tk; j++)
                sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{gx + j * Cell + Cell / 2}\" y=\"{gy - 6}\" text-anchor=\"middle\">{Escape(p.KeyLabels[j])}</text>\n");
            for (int i = 0; i < tq; i++)
            {
                sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{gx - 4}\" y=\"{gy + i * Cell + Cell - 5}\" text-anchor=\"end\">{Escape(p.QueryLabels[i])}</text>\n");
                for (int j = 0; j < tk; j++)
                {
                    double w = Math.Clamp(p.Weights[i * tk + j], 0, 1);
                    sb.Append(CultureInfo.InvariantCulture,
                        $"<rect x=\"{gx + j * Cell}\" y=\"{gy + i * Cell}\" width=\"{Cell}\" height=\"{Cell}\" fill=\"{Blue(w)}\"><title>{Escape(p.QueryLabels[i])} → {Escape(p.KeyLabels[j])}: {w:0.000}</title></rect>\n");
                }
            }
            sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{gx}\" y=\"{gy}\" width=\"{tk * Cell}\" height=\"{tq * Cell}\" fill=\"none\" stroke=\"#888\"/>\n");
            x0 += LabelWidth + Math.Max(tk * Cell, 120) + Gap;
        }
        if (caption is not null)
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Gap}\" y=\"{height - 14}\" fill=\"#444\">{Text(caption)}</text>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Gap}\" y=\"38\" fill=\"#666\">rows: queries · columns: keys · white = 0, dark blue = 1</text>\n");
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    /// <summary>White → dark blue (#08306b) by weight.</summary>
    internal static string Blue(double w)
    {
        int r = (int)Math.Round(255 + (8 - 255) * w), g = (int)Math.Round(255 + (48 - 255) * w), b = (int)Math.Round(255 + (107 - 255) * w);
        return $"#{r:x2}{g:x2}{b:x2}";
    }

    /// <summary>A token label for SVG: printable (space → ␣) and XML-escaped.</summary>
    internal static string Escape(string s) => SecurityElement.Escape(AttentionHeatmap.Printable(s)) ?? "";

    /// <summary>Ordinary text (titles, captions) for SVG: XML-escaped only.</summary>
    internal static string Text(string s) => SecurityElement.Escape(s) ?? "";
}
