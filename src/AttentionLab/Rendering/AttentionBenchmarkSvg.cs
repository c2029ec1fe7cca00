using System.Globalization;
using System.Text;
using AttentionLab.Diagnostics;

namespace AttentionLab.Rendering;

/// <summary>
/// The result of <see cref="AttentionBenchmark"/> as a standalone SVG: forward + backward time (left), peak memory
/// (middle) and the attention's own memory — saved state and scratch, without the inputs and gradients every variant
/// shares (right) — against sequence length, both axes logarithmic, one line per variant. On log–log axes a cost T^k is a
/// straight line of slope k, so O(T²) (naive, fast, flash's time), O(T·W) (window) and O(T) (flash's and performer's
/// memory) separate at a glance. Measured points are filled circles; extrapolated or too-large points are hollow and
/// joined by dashes.
/// </summary>
public static class AttentionBenchmarkSvg
{
    private const int PanelWidth = 460, Height = 420, Left = 70, Right = 20, Top = 50, Bottom = 60;
    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

    public static string Render(IReadOnlyList<AttentionBenchmarkResult> results, string title)
    {
        ArgumentNullException.ThrowIfNull(results);
        var variants = results.Select(r => r.Variant).Distinct().ToList();
        var sb = new StringBuilder();
        int width = 3 * PanelWidth;
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{Height + 24 * ((variants.Count + 3) / 4)}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{Escape(title)}</text>\n");
        Panel(sb, results, variants, 0, "forward + backward (ms)", r => r.ForwardBackwardMs);
        Panel(sb, results, variants, PanelWidth, "peak memory (bytes)", r => r.PeakBytes > 0 ? r.PeakBytes : null);
        Panel(sb, results, variants, 2 * PanelWidth, "saved state + scratch (bytes)", r => r.StateBytes > 0 ? r.StateBytes : null);
        // legend
        for (int i = 0; i < variants.Count; i++)
        {
            double x = Left + (i % 4) * 200, y = Height + 24 * (i / 4);
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x}\" y1=\"{y - 4}\" x2=\"{x + 24}\" y2=\"{y - 4}\" stroke=\"{Color(i)}\" stroke-width=\"2\"/>\n");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + 30}\" y=\"{y}\">{Escape(variants[i])}</text>\n");
        }
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{width - 10}\" y=\"{Height + 24 * ((variants.Count + 3) / 4) - 8}\" text-anchor=\"end\" fill=\"#666\">filled: measured · hollow, dashed: extrapolated from a shorter length, or too large to run</text>\n");
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static string Color(int i) => Colors[i % Colors.Length];

    private static void Panel(StringBuilder sb, IReadOnlyList<AttentionBenchmarkResult> results, List<string> variants, int x0,
        string yLabel, Func<AttentionBenchmarkResult, double?> value)
    {
        var points = results.Where(r => value(r) is > 0).ToList();
        if (points.Count == 0) return;
        double xMin = Math.Log10(results.Min(r => r.SequenceLength)), xMax = Math.Log10(results.Max(r => r.SequenceLength));
        double yMin = Math.Floor(Math.Log10(points.Min(r => value(r)!.Value))), yMax = Math.Ceiling(Math.Log10(points.Max(r => value(r)!.Value)));
        if (xMax - xMin < 1e-9) { xMin -= 0.5; xMax += 0.5; }
        if (yMax - yMin < 1) yMax = yMin + 1;
        double plotW = PanelWidth - Left - Right, plotH = Height - Top - Bottom;
        double X(double t) => x0 + Left + (Math.Log10(t) - xMin) / (xMax - xMin) * plotW;
        double Y(double v) => Top + (yMax - Math.Log10(v)) / (yMax - yMin) * plotH;

        for (double e = yMin; e <= yMax + 1e-9; e++)
            SvgPlotFrame.HorizontalGridLine(sb, x0 + Left, x0 + PanelWidth - Right, Y(Math.Pow(10, e)), string.Create(CultureInfo.InvariantCulture, $"1e{e:0}"));
        foreach (int t in results.Select(r => r.SequenceLength).Distinct())
            SvgPlotFrame.VerticalGridLine(sb, X(t), Top, Height - Bottom, t.ToString(CultureInfo.InvariantCulture));
        sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x0 + Left}\" y=\"{Top}\" width=\"{plotW}\" height=\"{plotH}\" fill=\"none\" stroke=\"black\"/>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x0 + Left + plotW / 2:F1}\" y=\"{Height - 20}\" text-anchor=\"middle\">sequence length T (log)</text>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x0 + Left + plotW / 2:F1}\" y=\"{Top - 10}\" text-anchor=\"middle\" font-size=\"13\">{Escape(yLabel)}, log</text>\n");

        for (int i = 0; i < variants.Count; i++)
        {
            var line = points.Where(r => r.Variant == variants[i]).OrderBy(r => r.SequenceLength).ToList();
            for (int j = 1; j < line.Count; j++)
            {
                bool dashed = line[j].Measurement != AttentionMeasurement.Measured || line[j - 1].Measurement != AttentionMeasurement.Measured;
                sb.Append(CultureInfo.InvariantCulture,
                    $"<line x1=\"{X(line[j - 1].SequenceLength):F1}\" y1=\"{Y(value(line[j - 1])!.Value):F1}\" x2=\"{X(line[j].SequenceLength):F1}\" y2=\"{Y(value(line[j])!.Value):F1}\" stroke=\"{Color(i)}\" stroke-width=\"2\"{(dashed ? " stroke-dasharray=\"5,4\"" : "")}/>\n");
            }
            foreach (var r in line)
            {
                bool measured = r.Measurement == AttentionMeasurement.Measured;
                sb.Append(CultureInfo.InvariantCulture,
                    $"<circle cx=\"{X(r.SequenceLength):F1}\" cy=\"{Y(value(r)!.Value):F1}\" r=\"4\" stroke=\"{Color(i)}\" fill=\"{(measured ? Color(i) : "white")}\"/>\n");
            }
        }
    }

    private static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
