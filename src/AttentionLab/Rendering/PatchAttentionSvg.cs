using System.Globalization;
using System.Text;

namespace AttentionLab.Rendering;

/// <summary>One image with the class token's attention over its patches, per layer.</summary>
/// <param name="Title">e.g. "ring → ring (97%)"</param>
/// <param name="Pixels">(size·size) row-major grayscale, about 0 (black) to 1 (white)</param>
/// <param name="Size">image side in pixels</param>
/// <param name="PatchSize">patch side in pixels</param>
/// <param name="Attention">per layer, (N) the [CLS] query's weights over the N patches (mean over heads)</param>
public sealed record PatchAttentionRow(string Title, float[] Pixels, int Size, int PatchSize, IReadOnlyList<float[]> Attention);

/// <summary>
/// A vision transformer's class-token attention drawn on its images, as a standalone SVG: each row is one image,
/// first as it is, then once per layer with each patch tinted red in proportion to the attention [CLS] pays it
/// (scaled to the row's largest weight, the number printed in the corner of each patch).
/// </summary>
public static class PatchAttentionSvg
{
    private const int Pixel = 8, Gap = 24, Top = 40, LabelHeight = 30;

    public static string Render(IReadOnlyList<PatchAttentionRow> rows, string? caption = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0) throw new ArgumentException("nothing to draw: no images");
        int layers = rows.Max(r => r.Attention.Count), size = rows.Max(r => r.Size);
        int tile = size * Pixel;
        int width = Math.Max(Gap + (layers + 1) * (tile + Gap) + 160, 2 * Gap + (int)(6.2 * (caption?.Length ?? 0))), height = Top + rows.Count * (tile + LabelHeight) + 30;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"11\">\n");
        sb.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Gap}\" y=\"16\" font-size=\"13\" font-weight=\"bold\">image</text>\n");
        for (int l = 0; l < layers; l++)
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Gap + (l + 1) * (tile + Gap)}\" y=\"16\" font-size=\"13\" font-weight=\"bold\">[CLS] attention, layer {l}</text>\n");
        for (int r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            if (row.Pixels.Length != row.Size * row.Size) throw new ArgumentException($"image '{row.Title}' has {row.Pixels.Length} pixels, expected {row.Size * row.Size}");
            int y0 = Top + r * (tile + LabelHeight), side = row.Size / row.PatchSize, cell = row.PatchSize * Pixel;
            Image(sb, row, Gap, y0);
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Gap + (layers + 1) * (tile + Gap)}\" y=\"{y0 + tile / 2}\">{AttentionMapSvg.Text(row.Title)}</text>\n");
            for (int l = 0; l < row.Attention.Count; l++)
            {
                var a = row.Attention[l];
                if (a.Length != side * side) throw new ArgumentException($"layer {l} of '{row.Title}' has {a.Length} patch weights, expected {side * side}");
                int x0 = Gap + (l + 1) * (tile + Gap);
                Image(sb, row, x0, y0);
                float max = Math.Max(1e-9f, a.Max());
                for (int p = 0; p < a.Length; p++)
                {
                    int px = x0 + p % side * cell, py = y0 + p / side * cell;
                    sb.Append(CultureInfo.InvariantCulture,
                        $"<rect x=\"{px}\" y=\"{py}\" width=\"{cell}\" height=\"{cell}\" fill=\"red\" fill-opacity=\"{0.75 * a[p] / max:0.###}\" stroke=\"#444\" stroke-width=\"0.5\"><title>patch ({p / side},{p % side}): {a[p]:0.000}</title></rect>\n");
                    sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{px + 2}\" y=\"{py + 9}\" font-size=\"8\" fill=\"yellow\">{a[p] * 100:0}</text>\n");
                }
            }
        }
        if (caption is not null) sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Gap}\" y=\"{height - 10}\" fill=\"#444\">{AttentionMapSvg.Text(caption)}</text>\n");
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static void Image(StringBuilder sb, PatchAttentionRow row, int x0, int y0)
    {
        for (int y = 0; y < row.Size; y++)
            for (int x = 0; x < row.Size; x++)
            {
                int v = (int)Math.Round(255 * Math.Clamp(row.Pixels[y * row.Size + x], 0, 1));
                sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x0 + x * Pixel}\" y=\"{y0 + y * Pixel}\" width=\"{Pixel}\" height=\"{Pixel}\" fill=\"#{v:x2}{v:x2}{v:x2}\"/>\n");
            }
    }
}
