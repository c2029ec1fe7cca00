using System.Text;

namespace AttentionLab.Rendering;

/// <summary>
/// An attention map as text: one row per query token, one cell per key token, each cell a shade
/// from light to dark by its weight (row i sums to 1; under a causal mask the cells right of the
/// diagonal are 0). Pure: returns strings and levels; the CLI decides colours.
/// </summary>
public static class AttentionHeatmap
{
    /// <summary>Shades from 0 to 1, lightest first (each cell is drawn twice as wide as tall).</summary>
    public static readonly string[] Shades = ["  ", "░░", "▒▒", "▓▓", "██"];

    /// <summary>Below this a weight is drawn blank: attention spread thinly over many keys is "not looking".</summary>
    public const double Visible = 0.05;

    /// <summary>Quantizes a weight in [0, 1] to one of <paramref name="levels"/> levels: 0 below <see cref="Visible"/>,
    /// then equal steps, e.g. with 5 levels [0.05, 0.25) → 1, [0.25, 0.5) → 2, [0.5, 0.75) → 3, [0.75, 1] → 4.</summary>
    public static int Level(double weight, int levels)
    {
        if (!(weight >= Visible)) return 0;
        int l = 1 + (int)Math.Floor(Math.Clamp(weight, 0, 1) * (levels - 1));
        return Math.Clamp(l, 1, levels - 1);
    }

    /// <summary>A token made printable on one line: space → ␣, newline → ⏎, tab → ⇥, other control characters → ·.</summary>
    public static string Printable(string token)
    {
        var sb = new StringBuilder(token.Length);
        foreach (var r in token.EnumerateRunes())
            sb.Append(r.Value switch { ' ' => "␣", '\n' => "⏎", '\r' => "␍", '\t' => "⇥", _ when Rune.IsControl(r) => "·", _ => r.ToString() });
        return sb.ToString();
    }

    /// <summary>Pads or cuts a label to exactly <paramref name="width"/> text elements.</summary>
    public static string Fit(string label, int width)
    {
        var info = new System.Globalization.StringInfo(label);
        if (info.LengthInTextElements > width) return info.SubstringByTextElements(0, width);
        return label + new string(' ', width - info.LengthInTextElements);
    }

    /// <summary>
    /// Renders a (T, T) map as lines: a header of column labels, then each query row's label and cells,
    /// then the scale. Labels are made <see cref="Printable"/> and cut to fit.
    /// </summary>
    /// <param name="weights">(T, T) row-major attention probabilities.</param>
    /// <param name="labels">T token labels.</param>
    public static IReadOnlyList<string> Render(ReadOnlySpan<float> weights, IReadOnlyList<string> labels, int rowLabelWidth = 8)
    {
        int T = labels.Count;
        if (weights.Length != T * T) throw new ArgumentException($"weights has {weights.Length} values, expected T·T = {T * T}");
        var printable = labels.Select(Printable).ToArray();
        var lines = new List<string>(T + 2);
        var header = new StringBuilder(new string(' ', rowLabelWidth + 1));
        foreach (var l in printable) header.Append(Fit(l, 2));
        lines.Add(header.ToString().TrimEnd());
        for (int i = 0; i < T; i++)
        {
            var row = new StringBuilder(Fit(printable[i], rowLabelWidth)).Append('│');
            for (int j = 0; j < T; j++) row.Append(Shades[Level(weights[i * T + j], Shades.Length)]);
            lines.Add(row.ToString());
        }
        lines.Add($"{new string(' ', rowLabelWidth)} scale: blank < 0.05 ≤ ░ < 0.25 ≤ ▒ < 0.5 ≤ ▓ < 0.75 ≤ █");
        return lines;
    }

    /// <summary>
    /// Renders a rectangular (Tq, Tk) map, e.g. cross-attention from target queries to source keys: a header of the
    /// key labels, then each query row's label and cells, then the scale.
    /// </summary>
    /// <param name="weights">(Tq, Tk) row-major attention probabilities.</param>
    /// <param name="queryLabels">Tq row labels.</param>
    /// <param name="keyLabels">Tk column labels.</param>
    public static IReadOnlyList<string> Render(ReadOnlySpan<float> weights, IReadOnlyList<string> queryLabels, IReadOnlyList<string> keyLabels, int rowLabelWidth = 8)
    {
        int tq = queryLabels.Count, tk = keyLabels.Count;
        if (weights.Length != tq * tk) throw new ArgumentException($"weights has {weights.Length} values, expected Tq·Tk = {tq * tk}");
        var lines = new List<string>(tq + 2);
        var header = new StringBuilder(new string(' ', rowLabelWidth + 1));
        foreach (var l in keyLabels) header.Append(Fit(Printable(l), 2));
        lines.Add(header.ToString().TrimEnd());
        for (int i = 0; i < tq; i++)
        {
            var row = new StringBuilder(Fit(Printable(queryLabels[i]), rowLabelWidth)).Append('│');
            for (int j = 0; j < tk; j++) row.Append(Shades[Level(weights[i * tk + j], Shades.Length)]);
            lines.Add(row.ToString());
        }
        lines.Add($"{new string(' ', rowLabelWidth)} scale: blank < 0.05 ≤ ░ < 0.25 ≤ ▒ < 0.5 ≤ ▓ < 0.75 ≤ █");
        return lines;
    }

    /// <summary>
    /// Mean entropy of the rows of a (T, T) attention map, in nats: H(p) = −Σⱼ pⱼ ln pⱼ, averaged over
    /// the T query rows. 0 means every query looks at exactly one key; ln(i+1) is uniform attention over
    /// the i+1 visible keys of row i.
    /// </summary>
    public static double MeanEntropy(ReadOnlySpan<float> weights, int T)
    {
        if (weights.Length != T * T) throw new ArgumentException($"weights has {weights.Length} values, expected T·T = {T * T}");
        if (T == 0) return 0;
        double total = 0;
        for (int i = 0; i < T; i++)
        {
            double h = 0;
            for (int j = 0; j < T; j++)
            {
                double p = weights[i * T + j];
                if (p > 0) h -= p * Math.Log(p);
            }
            total += h;
        }
        return total / T;
    }
}
