using System.Globalization;
using AttentionLab.Inspection;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// <c>attnlab attention</c>: single-head scaled dot-product attention on matrices the user types, every step
/// printed with its formula (seed 004, Parts 2 and 3). The arithmetic is <see cref="AttentionTrace"/>; this
/// file parses and renders.
/// </summary>
public static class AttentionCommand
{
    public const string Summary = "scaled dot-product attention on your own q, k, v, every step shown";

    private const string Usage = """
        usage: attnlab attention --q M --k M --v M [--causal] [--mask M] [--scale S | --no-scale] [--digits N] [--json]
                                 [--trace flash [--tile N]] [--window W [--global G] [--two-sided]] [--attention NAME]

        Single-head scaled dot-product attention, printed step by step with each formula:
          weights = softmax(q·kᵀ · scale + mask),   output = weights · v

          --q M        queries, Tq×D, as a JSON matrix: inline '[[1,0],[0,1],[1,1]]' or @file.json
          --k M        keys, Tk×D (same D as q)
          --v M        values, Tk×Dv (one row per key)
          --causal     query i sees keys j ≤ i; when Tq ≠ Tk aligned bottom-right: j ≤ i + (Tk − Tq)
          --mask M     0/1 matrix Tq×Tk, 1 = attend, 0 = hidden; combined with --causal (both must allow)
          --scale S    multiply the scores by S instead of the default 1/√D
          --no-scale   scale = 1: softmax of the raw dot products
          --digits N   decimals in the printed tables (default 4, 0..15); --json prints full precision
          --json       machine-readable: {"scale","scores","scaled","masked","row_max","exp","row_sum",
                       "weights","output","entropy",...}; hidden scores are null

        Rows are queries (q1 = token 1), columns are keys (k1 = token 1), counted from 1 as in the exercises.
        A query row that sees no key gets weights 0 and output 0 (finite, never NaN).

        example (seed 004, Parts 2 and 3):
          attnlab attention --q '[[1,0],[0,1],[1,1]]' --k '[[1,0],[0,1],[1,1]]' --v '[[1,2],[3,4],[5,6]]' --causal
        """;

    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        if (AttentionModes.For(argv) is { } mode) return mode(argv, stdout, stderr); // multi-head, --grad, --mask-fill
        var args = new Args(argv, "causal", "no-scale", "two-sided");
        if (args.Help) { stdout.WriteLine(Usage + AttentionModes.Usage + AttentionTraceOutput.Usage); return 0; }

        var q = MatrixInput.Numbers("q", args.Require("q"));
        var k = MatrixInput.Numbers("k", args.Require("k"));
        var v = MatrixInput.Numbers("v", args.Require("v"));
        bool causal = args.Flag("causal");
        bool[,]? mask = args.String("mask") is { } maskText ? MatrixInput.Mask("mask", maskText) : null;
        bool noScale = args.Flag("no-scale");
        double? scale = args.Has("scale") ? args.Double("scale", 0) : null;
        int digits = args.Int("digits", 4, 0, 15);
        var variant = AttentionTraceOutput.Read(args); // --trace flash, --window, --global, --attention
        bool json = args.Json;
        args.EnsureAllUsed();

        if (noScale && scale is not null) throw new CliError("give either --scale S or --no-scale, not both");
        if (noScale) scale = 1.0;
        int tq = q.GetLength(0), d = q.GetLength(1), tk = k.GetLength(0);
        if (k.GetLength(1) != d)
            throw new CliError($"--q rows have {d} numbers but --k rows have {k.GetLength(1)}: q and k need the same width D (each score is a dot product q_i·k_j)");
        if (v.GetLength(0) != tk)
            throw new CliError($"--k has {tk} rows but --v has {v.GetLength(0)}: each key needs exactly one value row");
        if (mask is not null && (mask.GetLength(0) != tq || mask.GetLength(1) != tk))
            throw new CliError($"--mask is {mask.GetLength(0)}×{mask.GetLength(1)} but must be Tq×Tk = {tq}×{tk} (one row per query, one column per key)");

        if (variant.Any) return AttentionTraceOutput.Run(variant, q, k, v, causal, mask, scale, digits, json, stdout);
        var trace = AttentionTrace.Compute(q, k, v, causal, mask, scale);
        if (json) PrintJson(stdout, trace, hasMask: mask is not null);
        else new Renderer(stdout, digits).Print(trace, hasMask: mask is not null, noScale);
        return 0;
    }

    private static void PrintJson(TextWriter stdout, AttentionTrace t, bool hasMask) => JsonOutput.Print(stdout, w =>
    {
        w.WriteStartObject();
        w.WriteNumber("scale", t.Scale);
        w.WriteBoolean("causal", t.IsCausal);
        w.WriteBoolean("mask", hasMask);
        var attend = new double[t.QueryLength, t.KeyLength];
        for (int i = 0; i < t.QueryLength; i++)
            for (int j = 0; j < t.KeyLength; j++) attend[i, j] = t.Visible[i, j] ? 1 : 0;
        JsonOutput.Matrix(w, "attend", attend);
        JsonOutput.Matrix(w, "scores", t.Scores);
        JsonOutput.Matrix(w, "scaled", t.Scaled);
        JsonOutput.Matrix(w, "masked", t.Masked);
        JsonOutput.Vector(w, "row_max", t.RowMax);
        JsonOutput.Matrix(w, "exp", t.Exp);
        JsonOutput.Vector(w, "row_sum", t.RowSum);
        JsonOutput.Matrix(w, "weights", t.Weights);
        JsonOutput.Matrix(w, "output", t.Output);
        JsonOutput.Vector(w, "entropy", t.Entropy);
        JsonOutput.Vector(w, "entropy_max", t.VisibleCount.Select(n => n == 0 ? 0.0 : Math.Log(n)).ToArray());
        w.WriteStartArray("fully_masked_rows"); // 0-based row indices
        for (int i = 0; i < t.QueryLength; i++) if (t.FullyMasked(i)) w.WriteNumberValue(i);
        w.WriteEndArray();
        w.WriteEndObject();
    });

    /// <summary>Plain-text tables: no colour or terminal codes, so the output reads the same in a pipe or a file.</summary>
    private sealed class Renderer(TextWriter w, int digits)
    {
        private string F(double x)
        {
            if (double.IsNegativeInfinity(x)) return "-inf";
            if (double.IsPositiveInfinity(x)) return "inf";
            if (Math.Abs(x) >= 1e9) return x.ToString("0.###E+0", CultureInfo.InvariantCulture);
            var s = x.ToString("F" + digits, CultureInfo.InvariantCulture);
            return s.StartsWith('-') && s.Trim('-', '0', '.').Length == 0 ? s[1..] : s; // no "-0.0000"
        }

        /// <summary>Whole numbers as typed ("3", not "3.0000"): inputs and raw scores are often integers in exercises.</summary>
        private string Exact(double x) =>
            Math.Abs(x) < 1e15 && x == Math.Round(x) ? (x + 0.0).ToString("0", CultureInfo.InvariantCulture) : F(x);

        public void Print(AttentionTrace t, bool hasMask, bool noScale)
        {
            int tq = t.QueryLength, tk = t.KeyLength, d = t.HeadDim;
            w.WriteLine($"Scaled dot-product attention, one head: q {tq}×{d}, k {tk}×{d}, v {tk}×{t.ValueDim}");
            w.WriteLine("  weights = softmax(q·kᵀ · scale + mask),  output = weights · v");
            w.WriteLine($"  rows are queries q1..q{tq}, columns keys k1..k{tk}; numbers rounded to {digits} decimals");
            w.WriteLine();
            Matrix("q", t.Q, "q", "d", format: Exact);
            Matrix("k", t.K, "k", "d", format: Exact);
            Matrix("v", t.V, "v", "d", format: Exact);

            Heading(1, "raw scores", "scores[i,j] = q_i · k_j = Σ_d q[i,d]·k[j,d]", $"{tq}×{tk}");
            Matrix(null, t.Scores, "q", "k", format: Exact);

            Heading(2, "scale", "scaled = scores · scale", $"{tq}×{tk}");
            double root = Math.Sqrt(d);
            string byDefault = $"1/√D = 1/√{d} = 1/{F(root)} = {F(1 / root)}";
            if (t.DefaultScale) w.WriteLine($"  scale = {byDefault}   (√{d} = {F(root)}; keeps scores from growing with D)");
            else if (noScale) w.WriteLine($"  scale = 1   (--no-scale; the default would be {byDefault})");
            else w.WriteLine($"  scale = {F(t.Scale)}   (--scale; the default would be {byDefault})");
            Matrix(null, t.Scaled, "q", "k");

            Heading(3, "mask", "masked[i,j] = scaled[i,j] where allowed, -inf where hidden", $"{tq}×{tk}");
            if (!t.IsCausal && !hasMask)
                w.WriteLine("  no mask: every query sees every key, so masked = scaled (add --causal or --mask to hide keys)");
            else
            {
                if (t.IsCausal && tq == tk)
                    w.WriteLine($"  causal: query i sees keys j ≤ i — the mask is torch.tril(torch.ones({tq}, {tk}))");
                else if (t.IsCausal)
                {
                    w.WriteLine($"  causal with Tq = {tq} ≠ Tk = {tk}: aligned bottom-right, query i sees keys j ≤ i + (Tk − Tq) = i {(t.CausalOffset >= 0 ? "+" : "−")} {Math.Abs(t.CausalOffset)},");
                    w.WriteLine("  so the last query sees every key (as when decoding with a key/value cache); PyTorch's");
                    w.WriteLine("  scaled_dot_product_attention(is_causal=True) aligns top-left instead");
                }
                if (hasMask) w.WriteLine(t.IsCausal ? "  --mask combined with causal: a key is kept only where both allow it" : "  --mask: 1 = attend, 0 = hidden");
                w.WriteLine("  allowed (1 = attend, 0 = hidden):");
                var attend = new double[tq, tk];
                for (int i = 0; i < tq; i++)
                    for (int j = 0; j < tk; j++) attend[i, j] = t.Visible[i, j] ? 1 : 0;
                Matrix(null, attend, "q", "k", format: x => x.ToString("0", CultureInfo.InvariantCulture));
                w.WriteLine("  masked scores:");
            }
            Matrix(null, t.Masked, "q", "k");

            Heading(4, "row max", "m_i = max_j masked[i,j]", $"{tq}");
            w.WriteLine("  subtracted before exp only for numerical stability: softmax(s) = softmax(s − m), and exp(s − m) ≤ 1 cannot overflow");
            Column(t.RowMax, "q");

            Heading(5, "exponentials", "e[i,j] = exp(masked[i,j] − m_i)   (exp(-inf) = 0)", $"{tq}×{tk}");
            Matrix(null, t.Exp, "q", "k");

            Heading(6, "row sums", "Z_i = Σ_j e[i,j]", $"{tq}");
            Column(t.RowSum, "q");

            Heading(7, "weights", "w[i,j] = e[i,j] / Z_i   (softmax of each row; Σ = row sum, should be 1)", $"{tq}×{tk}");
            Matrix(null, t.Weights, "q", "k", rowSums: true);
            for (int i = 0; i < tq; i++)
                if (t.FullyMasked(i))
                    w.WriteLine($"  q{i + 1} sees no key: every score is -inf and softmax would be 0/0; weights and output are defined as 0 (finite, no NaN)");

            Heading(8, "output", "o_i = Σ_j w[i,j] · v_j   (a weighted average of the value rows)", $"{tq}×{t.ValueDim}");
            Matrix(null, t.Output, "o", "d");
            if (tk <= 8 && t.ValueDim <= 4)
                for (int i = 0; i < tq; i++)
                {
                    var terms = Enumerable.Range(0, tk).Select(j => $"{F(t.Weights[i, j])}·{Row(t.V, j, Exact)}");
                    w.WriteLine($"  o{i + 1} = {string.Join(" + ", terms)} = {Row(t.Output, i, F)}");
                }

            Heading(9, "entropy", "H_i = −Σ_j w[i,j]·ln w[i,j]   in nats (0·ln 0 = 0)", $"{tq}");
            w.WriteLine($"  0 = all weight on one key; the maximum is ln(Tk) = ln {tk} = {F(Math.Log(tk))} (uniform over all keys),");
            w.WriteLine("  or ln(n) when only n keys are visible");
            var rows = new List<string[]> { new[] { "", "H (nats)", "keys seen", "max ln(n)", "H / max" } };
            for (int i = 0; i < tq; i++)
            {
                int n = t.VisibleCount[i];
                double max = n == 0 ? 0 : Math.Log(n);
                rows.Add([$"q{i + 1}", F(t.Entropy[i]), n.ToString(CultureInfo.InvariantCulture), F(max),
                    max > 0 ? (100 * t.Entropy[i] / max).ToString("0.0", CultureInfo.InvariantCulture) + "%" : "—"]);
            }
            Table(rows);
        }

        private void Heading(int step, string name, string formula, string shape)
        {
            w.WriteLine();
            w.WriteLine($"Step {step}. {char.ToUpperInvariant(name[0])}{name[1..]} ({shape}): {formula}");
        }

        private static string Row(double[,] m, int i, Func<double, string> format) =>
            "[" + string.Join(", ", Enumerable.Range(0, m.GetLength(1)).Select(c => format(m[i, c]))) + "]";

        private void Column(double[] values, string rowPrefix) =>
            Table(values.Select((x, i) => new[] { $"{rowPrefix}{i + 1}", F(x) }).ToList());

        private void Matrix(string? title, double[,] m, string rowPrefix, string colPrefix, bool rowSums = false, Func<double, string>? format = null)
        {
            format ??= F;
            int r = m.GetLength(0), c = m.GetLength(1);
            if (title is not null) w.WriteLine($"{title} ({r}×{c}):");
            var header = new List<string> { "" };
            for (int j = 0; j < c; j++) header.Add($"{colPrefix}{j + 1}");
            if (rowSums) header.Add("Σ");
            var rows = new List<string[]> { header.ToArray() };
            for (int i = 0; i < r; i++)
            {
                var row = new List<string> { $"{rowPrefix}{i + 1}" };
                double sum = 0;
                for (int j = 0; j < c; j++) { row.Add(format(m[i, j])); sum += m[i, j]; }
                if (rowSums) row.Add(F(sum));
                rows.Add(row.ToArray());
            }
            Table(rows);
        }

        /// <summary>Right-aligned columns (the first, the row label, left-aligned), indented two spaces.</summary>
        private void Table(List<string[]> rows) => TensorText.Table(w, rows);
    }
}
