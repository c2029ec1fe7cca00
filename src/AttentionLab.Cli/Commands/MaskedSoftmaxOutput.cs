using System.Globalization;
using AttentionLab.Inspection;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// <c>attnlab attention --mask-fill F [--naive-softmax]</c>: where a NaN or a uniform row comes from and how the
/// max-subtracted softmax avoids it (seed 001, debugging questions). The numbers are <see cref="MaskedSoftmaxTrace"/>'s.
/// </summary>
public static class MaskedSoftmaxOutput
{
    public const string Usage = """
        usage: attnlab attention --q M --k M --v M (--mask-fill -inf|-1e9|X | --naive-softmax) [--causal] [--mask M]
                                 [--scale S | --no-scale] [--digits N] [--json]

        Debugging NaN in attention, in float32 as PyTorch computes it. Hidden scores are overwritten with the
        fill value, then softmax is taken naively (exp(s) / Σ exp(s)) or safely (subtract the row max first):
          --mask-fill F     what hidden scores become: -inf (default) or a large negative number such as -1e9
          --naive-softmax   no max subtraction (default: safe)
        The steps of the chosen pair are printed, every NaN or uniform row is explained, and a table compares
        fill -inf / -1e9 × naive / safe and the library's guarded softmax on every row.

        A fully masked row (a --mask row of zeros):  -inf + naive → 0/0 = NaN;  -inf + safe → -inf − (-inf) = NaN;
        -1e9 + naive → exp(-1e9) = 0, 0/0 = NaN;  -1e9 + safe → uniform over keys that should be hidden.
        A huge score (try --no-scale with big q, k) overflows naive exp above 88.72 → ∞/∞ = NaN; safe is fine.

          --json   {"fill","softmax","filled","subtracted","exp","row_sum","weights","output","problems",
                    "compare":[{"fill","softmax","problems","nan_rows"}]}; NaN and ±∞ are null

        example: attnlab attention --q '[[1,0],[0,1],[1,1]]' --k '[[1,0],[0,1],[1,1]]' --v '[[1,2],[3,4],[5,6]]' \
                   --mask '[[0,0,0],[1,1,0],[1,1,1]]' --mask-fill -inf --naive-softmax
        """;

    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        var args = new Args(argv, "naive-softmax", "causal", "no-scale");
        if (args.Help) { stdout.WriteLine(Usage); return 0; }
        var q = MatrixInput.Numbers("q", args.Require("q"));
        var k = MatrixInput.Numbers("k", args.Require("k"));
        var v = MatrixInput.Numbers("v", args.Require("v"));
        float fill = ParseFill(args.String("mask-fill") ?? "-inf");
        bool naive = args.Flag("naive-softmax");
        bool causal = args.Flag("causal");
        bool[,]? mask = args.String("mask") is { } maskText ? MatrixInput.Mask("mask", maskText) : null;
        bool noScale = args.Flag("no-scale");
        double? scale = args.Has("scale") ? args.Double("scale", 0) : null;
        int digits = args.Int("digits", 4, 0, 15);
        bool json = args.Json;
        args.EnsureAllUsed();
        if (noScale && scale is not null) throw new CliError("give either --scale S or --no-scale, not both");
        if (noScale) scale = 1.0;
        int tq = q.GetLength(0), tk = k.GetLength(0);
        if (k.GetLength(1) != q.GetLength(1))
            throw new CliError($"--q rows have {q.GetLength(1)} numbers but --k rows have {k.GetLength(1)}: q and k need the same width D");
        if (v.GetLength(0) != tk) throw new CliError($"--k has {tk} rows but --v has {v.GetLength(0)}: each key needs exactly one value row");
        if (mask is not null && (mask.GetLength(0) != tq || mask.GetLength(1) != tk))
            throw new CliError($"--mask is {mask.GetLength(0)}×{mask.GetLength(1)} but must be Tq×Tk = {tq}×{tk}");

        var trace = AttentionTrace.Compute(q, k, v, causal, mask, scale);
        var chosen = MaskedSoftmaxTrace.Run(trace.Scaled, trace.Visible, v, fill, naive ? "naive" : "safe");
        var compare = MaskedSoftmaxTrace.Compare(trace.Scaled, trace.Visible, v);
        if (json) PrintJson(stdout, chosen, compare);
        else Print(stdout, trace, chosen, compare, digits);
        return 0;
    }

    private static float ParseFill(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        if (t is "-inf" or "-infinity" or "-∞") return float.NegativeInfinity;
        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) || !double.IsFinite(x))
            throw new CliError($"--mask-fill must be -inf or a finite number such as -1e9, got '{text}'");
        if (x > 0) throw new CliError($"--mask-fill must be -inf or a negative number (hidden keys get a very low score), got {text}");
        return (float)x;
    }

    private static string FillText(float fill) =>
        float.IsNegativeInfinity(fill) ? "-inf" : fill.ToString("0.###e0", CultureInfo.InvariantCulture);

    private static void PrintJson(TextWriter stdout, MaskedSoftmaxVariant c, IReadOnlyList<MaskedSoftmaxVariant> compare) => JsonOutput.Print(stdout, w =>
    {
        w.WriteStartObject();
        w.WritePropertyName("fill"); JsonOutput.Number(w, c.Fill);
        w.WriteString("fill_text", FillText(c.Fill));
        w.WriteString("softmax", c.Softmax);
        JsonOutput.Matrix(w, "filled", ToDouble(c.Filled));
        JsonOutput.Vector(w, "subtracted", c.Subtracted.Select(x => (double)x).ToArray());
        JsonOutput.Matrix(w, "exp", ToDouble(c.Exp));
        JsonOutput.Vector(w, "row_sum", c.RowSum.Select(x => (double)x).ToArray());
        JsonOutput.Matrix(w, "weights", ToDouble(c.Weights));
        JsonOutput.Matrix(w, "output", ToDouble(c.Output));
        Problems(w, c);
        w.WriteStartArray("compare");
        foreach (var variant in compare)
        {
            w.WriteStartObject();
            w.WriteString("fill", FillText(variant.Fill));
            w.WriteString("softmax", variant.Softmax);
            Problems(w, variant);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });

    private static void Problems(System.Text.Json.Utf8JsonWriter w, MaskedSoftmaxVariant c)
    {
        w.WriteStartArray("problems");
        foreach (var p in c.Problems) w.WriteStringValue(Name(p));
        w.WriteEndArray();
        w.WriteStartArray("nan_rows"); // 0-based
        for (int i = 0; i < c.Problems.Length; i++) if (c.RowHasNaN(i)) w.WriteNumberValue(i);
        w.WriteEndArray();
    }

    private static string Name(SoftmaxRowProblem p) => p switch
    {
        SoftmaxRowProblem.None => "ok",
        SoftmaxRowProblem.ZeroOverZero => "nan_zero_over_zero",
        SoftmaxRowProblem.ExpOverflow => "nan_exp_overflow",
        SoftmaxRowProblem.InfMinusInf => "nan_inf_minus_inf",
        SoftmaxRowProblem.UniformOverHidden => "uniform_over_hidden",
        SoftmaxRowProblem.GuardedZero => "guarded_zero",
        _ => p.ToString(),
    };

    private static double[,] ToDouble(float[,] m)
    {
        var r = new double[m.GetLength(0), m.GetLength(1)];
        for (int i = 0; i < m.GetLength(0); i++)
            for (int j = 0; j < m.GetLength(1); j++) r[i, j] = m[i, j];
        return r;
    }

    private static void Print(TextWriter o, AttentionTrace t, MaskedSoftmaxVariant c, IReadOnlyList<MaskedSoftmaxVariant> compare, int digits)
    {
        var p = new TensorText(o, digits, maxRows: 16, maxCols: 16);
        string Q(int i) => $"q{i + 1}";
        string K(int j) => $"k{j + 1}";
        bool naive = c.Softmax == "naive";
        o.WriteLine($"Masked softmax in float32: fill {FillText(c.Fill)}, {(naive ? "naive softmax exp(s) / Σ exp(s)" : "safe softmax exp(s − max) / Σ exp(s − max)")}");
        o.WriteLine();
        o.WriteLine($"Step 1. Scaled scores q·kᵀ · {p.F(t.Scale)}, hidden entries overwritten with {FillText(c.Fill)} ({t.QueryLength}×{t.KeyLength}):");
        p.Matrix(ToDouble(c.Filled), Q, K);
        if (naive) o.WriteLine("Step 2. Naive: nothing is subtracted before exp");
        else
        {
            o.WriteLine("Step 2. Row max m_i, subtracted before exp so the largest term is exp(0) = 1:");
            p.Table(c.Subtracted.Select((m, i) => new[] { Q(i), p.F(m) }).ToList());
        }
        o.WriteLine($"Step 3. exp({(naive ? "s" : "s − m")}):");
        p.Matrix(ToDouble(c.Exp), Q, K);
        o.WriteLine("Step 4. Row sums Σ_j:");
        p.Table(c.RowSum.Select((s, i) => new[] { Q(i), p.F(s) }).ToList());
        o.WriteLine("Step 5. Weights = exp / Σ:");
        p.Matrix(ToDouble(c.Weights), Q, K);
        o.WriteLine("Step 6. Output = weights · v (one NaN weight makes the whole output row NaN):");
        p.Matrix(ToDouble(c.Output), i => $"o{i + 1}", j => $"d{j + 1}");

        o.WriteLine();
        o.WriteLine("Diagnosis:");
        for (int i = 0; i < c.Problems.Length; i++)
            o.WriteLine($"  {Q(i)}: {MaskedSoftmaxTrace.Explain(c.Problems[i])}");

        o.WriteLine();
        o.WriteLine("Every combination, row by row (NaN = broken, uniform = silently wrong, zeros = the library's guard):");
        var rows = new List<string[]> { (string[])["fill", "softmax", .. Enumerable.Range(0, t.QueryLength).Select(Q)] };
        foreach (var v in compare)
            rows.Add([FillText(v.Fill), v.Softmax, .. v.Problems.Select(Short)]);
        p.Table(rows);
        o.WriteLine("  the safe softmax never overflows (every exp ≤ 1); a fully masked row still needs a guard (or a finite fill,");
        o.WriteLine("  which hides nothing: the row spreads uniformly over keys it should not see)");
    }

    private static string Short(SoftmaxRowProblem p) => p switch
    {
        SoftmaxRowProblem.None => "ok",
        SoftmaxRowProblem.ZeroOverZero => "NaN (0/0)",
        SoftmaxRowProblem.ExpOverflow => "NaN (∞/∞)",
        SoftmaxRowProblem.InfMinusInf => "NaN (∞−∞)",
        SoftmaxRowProblem.UniformOverHidden => "uniform",
        SoftmaxRowProblem.GuardedZero => "zeros",
        _ => p.ToString(),
    };
}
