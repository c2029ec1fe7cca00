using System.Globalization;
using System.Text.Json;
using AttentionLab.Inspection;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// <c>attnlab attention --heads H ...</c>: multi-head attention by hand (seed 003, questions 4–6; seed 004, Part 4).
/// The numbers are <see cref="MultiHeadTrace"/>'s; this file parses and renders.
/// </summary>
public static class MultiHeadAttentionOutput
{
    public const string Usage = """
        usage: attnlab attention --heads H --x M --wq M --wk M --wv M --wo M [--causal] [--scale S | --no-scale] [--digits N] [--json]
               attnlab attention --heads H --random-weights [--seed S] [--seq-len T] [--d-model C] [--causal] [--json]

        Multi-head attention by hand, as the seed materials write it (Q = X·W_Q, no biases), every step printed:
          Q = X·W_Q, K = X·W_K, V = X·W_V                 (T, C)
          split into heads: view(1, T, H, D).transpose(1, 2)  (1, H, T, D), D = C / H
          head_h = softmax(Q_h·K_hᵀ/√D + mask)·V_h        (T, D)
          concat = [head_0 | head_1 | …]                  (T, C)
          output = concat·W_O = Σ_h head_h·W_O[h]          W_O[h] = rows h·D … h·D+D−1 of W_O (checked with numbers)

          --heads H          number of heads; must divide C
          --x M              tokens, T×C, a JSON matrix inline or @file.json
          --wq/--wk/--wv/--wo M   C×C weight matrices, applied as X·W
          --random-weights   draw x ~ N(0, 1) and each W ~ U(−1, 1), rounded to one decimal, from --seed
          --seed S           (default 0)   --seq-len T (default 3)   --d-model C (default 4)
          --causal           token i sees tokens j ≤ i
          --scale S | --no-scale   instead of 1/√D
          --digits N         decimals (default 4)
          --json             {"heads","head_dim","x","wq",…,"q","k","v","split":{…},"per_head":[{"q","k","v","scores",
                              "weights","output","wo_block","contribution"}],"concat","output","contribution_sum",
                              "identity_max_abs_error"}

        example: attnlab attention --heads 2 --random-weights --seed 1 --causal
        """;

    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        var args = new Args(argv, "random-weights", "causal", "no-scale");
        if (args.Help) { stdout.WriteLine(Usage); return 0; }
        if (args.Has("q") || args.Has("k") || args.Has("v"))
            throw new CliError("--heads runs multi-head attention on --x with --wq/--wk/--wv/--wo (or --random-weights); --q/--k/--v are single-head attention's inputs");
        int heads = args.Int("heads", 2, min: 1);
        bool random = args.Flag("random-weights");
        bool causal = args.Flag("causal");
        bool noScale = args.Flag("no-scale");
        double? scale = args.Has("scale") ? args.Double("scale", 0) : null;
        int digits = args.Int("digits", 4, 0, 15);
        bool json = args.Json;
        double[,] x, wq, wk, wv, wo;
        if (random)
        {
            foreach (var name in new[] { "x", "wq", "wk", "wv", "wo" })
                if (args.Has(name)) throw new CliError($"give either --random-weights or --{name} (and the other matrices), not both");
            int seed = args.Int("seed", 0);
            int seqLen = args.Int("seq-len", 3, 1, 64);
            int dModel = args.Int("d-model", 4, 1, 256);
            args.EnsureAllUsed();
            if (dModel % heads != 0)
                throw new CliError($"--heads {heads} does not divide --d-model {dModel}: each head gets d_model / heads columns");
            (x, wq, wk, wv, wo) = MultiHeadTrace.RandomInputs(seqLen, dModel, seed);
        }
        else
        {
            if (args.Has("seed") || args.Has("seq-len") || args.Has("d-model"))
                throw new CliError("--seed, --seq-len and --d-model go with --random-weights; with --x the matrices set the sizes");
            x = MatrixInput.Numbers("x", args.Require("x"));
            wq = MatrixInput.Numbers("wq", args.Require("wq"));
            wk = MatrixInput.Numbers("wk", args.Require("wk"));
            wv = MatrixInput.Numbers("wv", args.Require("wv"));
            wo = MatrixInput.Numbers("wo", args.Require("wo"));
            args.EnsureAllUsed();
            int c = x.GetLength(1);
            if (c % heads != 0)
                throw new CliError($"--heads {heads} does not divide d_model = {c} (the width of --x): each head gets d_model / heads columns");
            foreach (var (w, name) in new[] { (wq, "wq"), (wk, "wk"), (wv, "wv"), (wo, "wo") })
                if (w.GetLength(0) != c || w.GetLength(1) != c)
                    throw new CliError($"--{name} is {w.GetLength(0)}×{w.GetLength(1)} but must be C×C = {c}×{c} (C = the width of --x)");
        }
        if (noScale && scale is not null) throw new CliError("give either --scale S or --no-scale, not both");
        if (noScale) scale = 1.0;

        var trace = MultiHeadTrace.Compute(x, wq, wk, wv, wo, heads, causal, scale);
        if (json) PrintJson(stdout, trace);
        else Print(stdout, trace, digits, random);
        return 0;
    }

    private static void PrintJson(TextWriter stdout, MultiHeadTrace t) => JsonOutput.Print(stdout, w =>
    {
        int T = t.Length, C = t.Channels, H = t.Heads, D = t.HeadDim;
        w.WriteStartObject();
        w.WriteNumber("heads", H);
        w.WriteNumber("head_dim", D);
        w.WriteNumber("seq_len", T);
        w.WriteNumber("d_model", C);
        w.WriteNumber("scale", t.Scale);
        w.WriteBoolean("causal", t.IsCausal);
        JsonOutput.Matrix(w, "x", t.X);
        JsonOutput.Matrix(w, "wq", t.WQ);
        JsonOutput.Matrix(w, "wk", t.WK);
        JsonOutput.Matrix(w, "wv", t.WV);
        JsonOutput.Matrix(w, "wo", t.WO);
        JsonOutput.Matrix(w, "q", t.Q);
        JsonOutput.Matrix(w, "k", t.K);
        JsonOutput.Matrix(w, "v", t.V);
        var (before, view, transpose) = t.SplitShapes;
        w.WriteStartObject("split");
        JsonOutput.Shape(w, "before", before.Select(d => (long)d));
        JsonOutput.Shape(w, "view", view.Select(d => (long)d));
        JsonOutput.Shape(w, "transpose", transpose.Select(d => (long)d));
        w.WriteEndObject();
        w.WriteStartArray("per_head");
        for (int h = 0; h < H; h++)
        {
            var head = t.HeadTraces[h];
            w.WriteStartObject();
            JsonOutput.Matrix(w, "q", head.Q);
            JsonOutput.Matrix(w, "k", head.K);
            JsonOutput.Matrix(w, "v", head.V);
            JsonOutput.Matrix(w, "scores", head.Scores);
            JsonOutput.Matrix(w, "weights", head.Weights);
            JsonOutput.Matrix(w, "output", head.Output);
            JsonOutput.Matrix(w, "wo_block", t.WOBlocks[h]);
            JsonOutput.Matrix(w, "contribution", t.Contributions[h]);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        JsonOutput.Matrix(w, "concat", t.Concat);
        JsonOutput.Matrix(w, "output", t.Output);
        JsonOutput.Matrix(w, "contribution_sum", t.ContributionSum);
        w.WriteNumber("identity_max_abs_error", t.IdentityError);
        w.WriteEndObject();
    });

    private static void Print(TextWriter w, MultiHeadTrace t, int digits, bool random)
    {
        var p = new TensorText(w, digits, maxRows: 16, maxCols: 16);
        int T = t.Length, C = t.Channels, H = t.Heads, D = t.HeadDim;
        string Tok(int i) => $"x{i + 1}";
        string Col(int j) => $"c{j}";
        w.WriteLine($"Multi-head attention by hand: T = {T} tokens, C = d_model {C}, H = {H} heads, D = C / H = {C} / {H} = {D}{(t.IsCausal ? ", causal" : "")}");
        w.WriteLine($"  scale = {p.F(t.Scale)}{(Math.Abs(t.Scale - 1 / Math.Sqrt(D)) < 1e-15 ? $" = 1/√D = 1/√{D}" : "")}; weights as the seed materials write them: Q = X·W_Q (no bias)");
        if (random) w.WriteLine("  --random-weights: x ~ N(0, 1), W ~ U(−1, 1), rounded to one decimal");
        w.WriteLine();
        w.WriteLine($"X ({T}×{C}):"); p.Matrix(t.X, Tok, Col);
        foreach (var (m, name) in new[] { (t.WQ, "W_Q"), (t.WK, "W_K"), (t.WV, "W_V"), (t.WO, "W_O") })
        {
            w.WriteLine($"{name} ({C}×{C}):");
            p.Matrix(m, i => $"r{i}", Col);
        }

        Heading(w, 1, $"projections Q = X·W_Q, K = X·W_K, V = X·W_V", $"({T}, {C}) each");
        foreach (var (m, name) in new[] { (t.Q, "Q"), (t.K, "K"), (t.V, "V") })
        {
            w.WriteLine($"  {name}:");
            p.Matrix(m, Tok, Col);
        }

        var (before, view, transpose) = t.SplitShapes;
        Heading(w, 2, "split into heads", $"{Shape(before)} → view {Shape(view)} → transpose(1, 2) → {Shape(transpose)}");
        w.WriteLine($"  head h takes columns h·{D} … h·{D}+{D - 1} of Q, K and V; the transpose puts heads before tokens so each head");
        w.WriteLine($"  is an independent {T}×{D} attention problem (no numbers change, only their grouping)");

        for (int h = 0; h < H; h++)
        {
            var head = t.HeadTraces[h];
            Heading(w, 3, $"head {h} (columns {h * D}…{h * D + D - 1})", "");
            foreach (var (m, name) in new[] { (head.Q, "Q"), (head.K, "K"), (head.V, "V") })
            {
                w.WriteLine($"  {name}_{h} ({T}×{D}):");
                p.Matrix(m, Tok, j => $"d{j}");
            }
            w.WriteLine($"  scores Q_{h}·K_{h}ᵀ ({T}×{T}):");
            p.Matrix(head.Scores, Tok, j => $"x{j + 1}");
            w.WriteLine($"  weights softmax(scores · scale{(t.IsCausal ? " + causal mask" : "")}) ({T}×{T}):");
            p.Matrix(head.Weights, Tok, j => $"x{j + 1}");
            w.WriteLine($"  head_{h} = weights·V_{h} ({T}×{D}):");
            p.Matrix(head.Output, Tok, j => $"d{j}");
        }

        Heading(w, 4, $"concat = [{string.Join(" | ", Enumerable.Range(0, H).Select(h => $"head_{h}"))}]   (transpose back, .contiguous().view(1, {T}, {C}))", $"({T}, {C})");
        p.Matrix(t.Concat, Tok, Col);

        Heading(w, 5, "output = concat·W_O", $"({T}, {C})");
        p.Matrix(t.Output, Tok, Col);

        Heading(w, 6, "the same output as a sum over heads: concat·W_O = Σ_h head_h·W_O[h]", "(seed 003, question 5)");
        w.WriteLine($"  W_O[h] is rows h·{D} … h·{D}+{D - 1} of W_O ({D}×{C}): the rows that multiply head h's columns of the concat");
        for (int h = 0; h < H; h++)
        {
            w.WriteLine($"  head_{h}·W_O[{h}] ({T}×{C}):");
            p.Matrix(t.Contributions[h], Tok, Col);
        }
        w.WriteLine($"  Σ_h head_h·W_O[h] ({T}×{C}):");
        p.Matrix(t.ContributionSum, Tok, Col);
        w.WriteLine($"  max |concat·W_O − Σ_h head_h·W_O[h]| = {t.IdentityError.ToString("0.###E+0", CultureInfo.InvariantCulture)}  (equal up to rounding)");
        w.WriteLine("  so W_O is a learned weighted sum of the heads, each with its own (D×C) map; concatenating first keeps");
        w.WriteLine("  the heads apart, and W_O decides how to mix them");
    }

    private static string Shape(int[] shape) => "(" + string.Join(", ", shape) + ")";

    private static void Heading(TextWriter w, int step, string what, string shape)
    {
        w.WriteLine();
        w.WriteLine(shape.Length == 0 ? $"Step {step}. {what}" : $"Step {step}. {what}   {shape}");
    }
}
