using System.Globalization;
using AttentionLab.Inspection;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// <c>attnlab attention --grad</c>: the softmax Jacobian of one attention row and how it vanishes as the scores grow,
/// with and without 1/√d (seed 000 question 2; seed 004 question 30). The numbers are <see cref="SoftmaxGradient"/>'s.
/// </summary>
public static class SoftmaxGradientOutput
{
    public const string Usage = """
        usage: attnlab attention --grad [--q M --k M [--v M]] [--row N] [--causal] [--mask M] [--scale S | --no-scale]
                                 [--doublings N] [--dims 4,16,64,256,1024] [--keys N] [--samples N] [--seed S] [--json]

        The gradient of softmax for one row of attention weights p = softmax(s):
          J[i, j] = ∂p_i/∂s_j = p_i·(δ_ij − p_j),   J = diag(p) − p·pᵀ   (every row of J sums to 0)
        then how J vanishes as the scores grow (the row's scores × 1, 2, 4, …), and for random q, k at
        d = 4 … 1024 with and without dividing by √d: why attention scales its scores.

          --q M, --k M   queries and keys (JSON matrices); default: the exercises' Q = K = [[1,0],[0,1],[1,1]]
          --v M          accepted and ignored (the Jacobian does not depend on v)
          --row N        which query row, counted from 1 (default: the last)
          --causal, --mask M, --scale S, --no-scale   as for plain attention
          --doublings N  multipliers 1, 2, 4, … 2^(N−1) (default 8)
          --dims LIST    dimensions for the random study (default 4,16,64,256,1024)
          --keys N       keys per random row (default 8)   --samples N  rows per dimension (default 200)
          --seed S       random study seed (default 0)
          --json         {"row","scores","weights","jacobian","jacobian_row_sums","sharpening":[…],"dimensions":[…]}
        """;

    private static readonly double[,] ExerciseQK = { { 1, 0 }, { 0, 1 }, { 1, 1 } };

    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        var args = new Args(argv, "grad", "causal", "no-scale");
        if (args.Help) { stdout.WriteLine(Usage); return 0; }
        args.Flag("grad");
        bool hasQ = args.Has("q"), hasK = args.Has("k");
        if (hasQ != hasK) throw new CliError("give both --q and --k, or neither (then the exercises' Q = K = [[1,0],[0,1],[1,1]] are used)");
        var q = hasQ ? MatrixInput.Numbers("q", args.Require("q")) : ExerciseQK;
        var k = hasK ? MatrixInput.Numbers("k", args.Require("k")) : ExerciseQK;
        if (args.String("v") is { } vText) _ = MatrixInput.Numbers("v", vText);
        bool causal = args.Flag("causal");
        bool[,]? mask = args.String("mask") is { } maskText ? MatrixInput.Mask("mask", maskText) : null;
        bool noScale = args.Flag("no-scale");
        double? scale = args.Has("scale") ? args.Double("scale", 0) : null;
        int? rowGiven = args.Has("row") ? args.Int("row", 1, min: 1) : null;
        int doublings = args.Int("doublings", 8, 1, 30);
        var dims = ParseDims(args.String("dims") ?? "4,16,64,256,1024");
        int keys = args.Int("keys", 8, 2, 4096);
        int samples = args.Int("samples", 200, 1, 100_000);
        int seed = args.Int("seed", 0);
        int digits = args.Int("digits", 4, 0, 15);
        bool json = args.Json;
        args.EnsureAllUsed();
        if (noScale && scale is not null) throw new CliError("give either --scale S or --no-scale, not both");
        if (noScale) scale = 1.0;
        if (k.GetLength(1) != q.GetLength(1))
            throw new CliError($"--q rows have {q.GetLength(1)} numbers but --k rows have {k.GetLength(1)}: q and k need the same width D");
        int row = rowGiven ?? q.GetLength(0); // the last row sees every key, also under a causal mask
        if (row > q.GetLength(0)) throw new CliError($"--row {row} but there are only {q.GetLength(0)} query rows");
        if (mask is not null && (mask.GetLength(0) != q.GetLength(0) || mask.GetLength(1) != k.GetLength(0)))
            throw new CliError($"--mask is {mask.GetLength(0)}×{mask.GetLength(1)} but must be Tq×Tk = {q.GetLength(0)}×{k.GetLength(0)}");

        // v does not enter the Jacobian; the trace needs one value row per key
        var trace = AttentionTrace.Compute(q, k, new double[k.GetLength(0), 1], causal, mask, scale);
        int i = row - 1, tk = trace.KeyLength;
        var scores = Enumerable.Range(0, tk).Select(j => trace.Masked[i, j]).ToArray();
        var weights = Enumerable.Range(0, tk).Select(j => trace.Weights[i, j]).ToArray();
        var jacobian = SoftmaxGradient.Jacobian(weights);
        var sharpening = SoftmaxGradient.Sharpening(scores, SoftmaxGradient.Doublings(doublings));
        var study = SoftmaxGradient.Dimensions(dims, keys, samples, seed);

        if (json)
        {
            JsonOutput.Print(stdout, w =>
            {
                w.WriteStartObject();
                w.WriteNumber("row", row);
                w.WriteNumber("scale", trace.Scale);
                JsonOutput.Vector(w, "scores", scores);
                JsonOutput.Vector(w, "weights", weights);
                JsonOutput.Matrix(w, "jacobian", jacobian);
                JsonOutput.Vector(w, "jacobian_row_sums", SoftmaxGradient.RowSums(jacobian));
                w.WriteStartArray("sharpening");
                foreach (var s in sharpening)
                {
                    w.WriteStartObject();
                    w.WriteNumber("multiplier", s.Multiplier);
                    w.WriteNumber("max_weight", s.MaxWeight);
                    w.WriteNumber("max_jacobian_entry", s.MaxJacobianEntry);
                    w.WriteNumber("jacobian_norm", s.JacobianNorm);
                    JsonOutput.Vector(w, "weights", s.Weights);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteNumber("keys", keys);
                w.WriteNumber("samples", samples);
                w.WriteStartArray("dimensions");
                foreach (var d in study)
                {
                    w.WriteStartObject();
                    w.WriteNumber("d", d.Dimension);
                    foreach (var (stats, name) in new[] { (d.Unscaled, "unscaled"), (d.Scaled, "scaled") })
                    {
                        w.WriteStartObject(name);
                        w.WriteNumber("score_std", stats.ScoreStd);
                        w.WriteNumber("mean_max_weight", stats.MeanMaxWeight);
                        w.WriteNumber("mean_max_jacobian_entry", stats.MeanMaxJacobianEntry);
                        w.WriteEndObject();
                    }
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            });
            return 0;
        }

        var p = new TensorText(stdout, digits, maxRows: 12, maxCols: 12);
        var o = stdout;
        o.WriteLine($"The gradient of softmax for query row {row}{(hasQ ? "" : " (the exercises' Q = K = [[1,0],[0,1],[1,1]])")}, scale {p.F(trace.Scale)}");
        o.WriteLine("  p = softmax(s);  J[i, j] = ∂p_i/∂s_j = p_i·(δ_ij − p_j),  J = diag(p) − p·pᵀ");
        o.WriteLine();
        p.Table([["", .. Enumerable.Range(0, tk).Select(j => $"k{j + 1}")],
            ["s (scaled, masked)", .. scores.Select(p.F)], ["p = softmax(s)", .. weights.Select(p.F)]]);
        o.WriteLine();
        o.WriteLine($"J ({tk}×{tk}); diagonal p_i(1 − p_i), off-diagonal −p_i·p_j; each row sums to 0 (shifting every score by the same amount changes nothing):");
        p.Matrix(jacobian, r => $"∂p{r + 1}", c => $"∂s{c + 1}");
        o.WriteLine($"  largest |entry| {p.F(SoftmaxGradient.MaxAbs(jacobian))} (at most 1/4, when p_i = 1/2)");

        o.WriteLine();
        o.WriteLine("Sharper scores, smaller gradient: the same row with its scores multiplied by m");
        var rows = new List<string[]> { new[] { "m", "max p", "max |J|", "‖J‖_F" } };
        foreach (var s in sharpening)
            rows.Add([s.Multiplier.ToString("0", CultureInfo.InvariantCulture), p.F(s.MaxWeight), Sci(s.MaxJacobianEntry), Sci(s.JacobianNorm)]);
        p.Table(rows);
        double top = scores.Max();
        int ties = scores.Count(x => x == top);
        if (ties > 1) o.WriteLine($"  (the top score is shared by {ties} keys, so p tends to 1/{ties} on each of them rather than one-hot; try another --row)");
        o.WriteLine("  as p becomes one-hot every entry of J goes to 0: almost no gradient reaches the scores, so W_Q and W_K stop learning");

        o.WriteLine();
        o.WriteLine($"Random q, k with N(0, 1) entries, {keys} keys per row, {samples} rows per d (seed {seed}): scores q·k_j have variance d");
        rows = [["d", "std(q·k)", "max p", "max |J|", "std(q·k/√d)", "max p", "max |J|"]];
        foreach (var d in study)
            rows.Add([d.Dimension.ToString(CultureInfo.InvariantCulture), p.F(d.Unscaled.ScoreStd), p.F(d.Unscaled.MeanMaxWeight), Sci(d.Unscaled.MeanMaxJacobianEntry),
                p.F(d.Scaled.ScoreStd), p.F(d.Scaled.MeanMaxWeight), Sci(d.Scaled.MeanMaxJacobianEntry)]);
        o.WriteLine("  (left: without scaling; right: divided by √d; max p and max |J| are means over the rows)");
        p.Table(rows);
        o.WriteLine("  without 1/√d the scores spread as √d, softmax saturates and its gradient vanishes as d grows;");
        o.WriteLine("  with it the scores keep unit spread and the gradient stays the same at every d");
        return 0;
    }

    private static string Sci(double x) => x == 0 ? "0" : Math.Abs(x) >= 1e-3
        ? x.ToString("0.0000", CultureInfo.InvariantCulture)
        : x.ToString("0.00E+0", CultureInfo.InvariantCulture);

    private static int[] ParseDims(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var dims = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out dims[i]) || dims[i] < 1 || dims[i] > 65536)
                throw new CliError($"--dims must be comma-separated integers in [1, 65536], got '{parts[i]}'");
        return dims;
    }
}
