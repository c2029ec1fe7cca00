using System.Globalization;
using System.Text.Json;
using AttentionLab.Attention;
using AttentionLab.Inspection;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// The variant options of <c>attnlab attention</c>: <c>--trace flash --tile N</c> (the online softmax tile by tile,
/// <see cref="FlashTrace"/>), <c>--window W [--global G] [--two-sided]</c> (which keys each query sees,
/// <see cref="KeyVisibility"/>, and the window kernel's result) and <c>--attention NAME</c> (any kernel's weights and
/// output, with its error against exact attention when it approximates). Kept apart from
/// <see cref="AttentionCommand"/>, which does the plain step-by-step trace.
/// </summary>
internal static class AttentionTraceOutput
{
    public const string Usage = """

        Variants (instead of the step-by-step trace above):
          --trace flash      Flash attention's online softmax, one key tile at a time: running max m, rescale
                             factor α = exp(m − m'), running sum l, partial output; the final rows equal softmax's
          --tile N           keys per tile for --trace flash (default 2)
          --window W         sliding window (one-sided: the query and the W − 1 keys before it); prints which
                             keys each query sees and the window kernel's weights and output
          --global G         the first G tokens are global (see and are seen by every token), OR-ed with --window
          --two-sided        Longformer's two-sided window: ⌊W/2⌋ keys on each side of the query
          --attention NAME   run this kernel (e.g. flash, window:2,global:1, performer:16,seed:3) and print its
                             weights and output; approximations also print their error against exact attention
        """;

    /// <summary>What the user asked for; <see cref="Any"/> is false for the plain trace.</summary>
    public sealed record Request(string? Trace, int Tile, int? Window, int Global, bool TwoSided, string? Attention)
    {
        public bool Any => Trace is not null || Window is not null || Attention is not null;
    }

    /// <summary>Reads the variant options (so the command's EnsureAllUsed accepts them) and checks them.</summary>
    public static Request Read(Args args)
    {
        string? trace = args.String("trace");
        bool hasTile = args.Has("tile");
        int tile = args.Int("tile", 2, 1, 4096);
        int? window = args.Has("window") ? args.Int("window", 1, 1, 1 << 20) : null;
        bool hasGlobal = args.Has("global");
        int global = args.Int("global", 0, 0, 1 << 20);
        bool twoSided = args.Flag("two-sided");
        string? attention = args.String("attention");
        if (trace is not null && trace != "flash") throw new CliError($"--trace knows only 'flash', got '{trace}'");
        if (hasTile && trace is null) throw new CliError("--tile is the tile size of --trace flash; add --trace flash");
        if ((hasGlobal || twoSided) && window is null) throw new CliError("--global and --two-sided go with --window W");
        if (window is not null && attention is not null) throw new CliError("give --window W or --attention window:W, not both");
        if (attention is not null) AttentionKernels.Parse(attention); // a bad name: one line listing the known kernels
        return new Request(trace, tile, window, global, twoSided, attention);
    }

    public static int Run(Request r, double[,] q, double[,] k, double[,] v, bool causal, bool[,]? mask, double? scale, int digits,
        bool json, TextWriter stdout)
    {
        int tq = q.GetLength(0), d = q.GetLength(1), tk = k.GetLength(0), dv = v.GetLength(1);
        var options = new AttentionOptions
        {
            IsCausal = causal,
            Scale = scale is { } s ? (float)s : null,
            BooleanMask = mask is null ? null : AttentionMask.FromBoolean(Flatten(mask), tq, tk),
        };
        WindowAttention? windowKernel = r.Window is { } w ? new WindowAttention(w, r.Global, r.TwoSided) : null;
        var visibleOptions = windowKernel?.EquivalentOptions(options) ?? options;
        var visibility = KeyVisibility.Compute(tq, tk, visibleOptions);
        IAttentionKernel? kernel = windowKernel ?? (r.Attention is { } name ? AttentionKernels.Parse(name) : null);
        if (kernel is not null && dv != d)
            throw new CliError($"--v rows have {dv} numbers but the kernels need values as wide as the queries (D = {d})");

        FlashTrace? flash = null;
        if (r.Trace is not null)
        {
            var visible = new bool[tq, tk];
            for (int i = 0; i < tq; i++) for (int j = 0; j < tk; j++) visible[i, j] = visibility.IsVisible(i, j);
            flash = FlashTrace.Compute(q, k, v, visible, scale, r.Tile);
        }
        KernelResult? result = kernel is null ? null : RunKernel(kernel, q, k, v, options);

        if (json) PrintJson(stdout, r, windowKernel, visibility, flash, result);
        else
        {
            var t = new Text(stdout, digits);
            if (windowKernel is not null) t.Visibility(windowKernel, visibility, causal);
            if (flash is not null) t.Flash(flash);
            if (result is not null) t.Kernel(result);
        }
        return 0;
    }

    private sealed record KernelResult(IAttentionKernel Kernel, double[,] Weights, double[,] Output, ApproximationError? Error);

    private static KernelResult RunKernel(IAttentionKernel kernel, double[,] q, double[,] k, double[,] v, AttentionOptions options)
    {
        int tq = q.GetLength(0), d = q.GetLength(1), tk = k.GetLength(0);
        var shape = new AttentionShape(1, 1, tq, tk, d);
        float[] qf = Floats(q), kf = Floats(k), vf = Floats(v);
        var output = new float[tq * d];
        var weights = new float[tq * tk];
        kernel.Forward(qf, kf, vf, shape, options, output, default);
        kernel.Weights(qf, kf, vf, shape, options, weights);
        // an approximation (a window included) against exact attention under the caller's own masks
        var error = kernel.IsExact ? null : ApproximationError.Measure(kernel, qf, kf, vf, shape, options);
        return new KernelResult(kernel, Matrix(weights, tq, tk), Matrix(output, tq, d), error);
    }

    private static bool[] Flatten(bool[,] m)
    {
        var flat = new bool[m.Length];
        int n = 0;
        foreach (bool x in m) flat[n++] = x;
        return flat;
    }

    private static float[] Floats(double[,] m)
    {
        var flat = new float[m.Length];
        int n = 0;
        foreach (double x in m) flat[n++] = (float)x;
        return flat;
    }

    private static double[,] Matrix(float[] flat, int rows, int cols)
    {
        var m = new double[rows, cols];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) m[i, j] = flat[i * cols + j];
        return m;
    }

    private static char Symbol(KeyReason r) => r switch
    {
        KeyReason.Window => 'w',
        KeyReason.GlobalKey => 'g',
        KeyReason.GlobalQuery => 'G',
        _ => '.',
    };

    private static void PrintJson(TextWriter stdout, Request r, WindowAttention? window, KeyVisibility vis, FlashTrace? flash, KernelResult? result) =>
        JsonOutput.Print(stdout, w =>
        {
            w.WriteStartObject();
            if (window is not null)
            {
                w.WriteString("kernel", window.Name);
                w.WriteNumber("window", window.Window);
                w.WriteNumber("global", window.GlobalTokens);
                w.WriteBoolean("two_sided", window.TwoSided);
                w.WriteNumber("window_before", window.Sliding.Before);
                w.WriteNumber("window_after", window.Sliding.After);
            }
            var visible = new double[vis.QueryLength, vis.KeyLength];
            w.WriteStartArray("sees"); // per query: "w" window, "g" global key, "G" global query, "." hidden
            for (int i = 0; i < vis.QueryLength; i++)
            {
                var row = new char[vis.KeyLength];
                for (int j = 0; j < vis.KeyLength; j++) { row[j] = Symbol(vis.Reasons[i, j]); visible[i, j] = vis.IsVisible(i, j) ? 1 : 0; }
                w.WriteStringValue(new string(row));
            }
            w.WriteEndArray();
            JsonOutput.Matrix(w, "visible", visible);
            w.WriteNumber("visible_scores", vis.TotalVisible);
            w.WriteNumber("full_scores", (long)vis.QueryLength * vis.KeyLength);
            if (flash is not null)
            {
                w.WriteStartObject("flash");
                w.WriteNumber("tile", flash.TileSize);
                w.WriteNumber("scale", flash.Scale);
                w.WriteStartArray("steps");
                foreach (var s in flash.Steps)
                {
                    w.WriteStartObject();
                    w.WriteNumber("tile", s.Tile);
                    w.WriteStartArray("keys"); w.WriteNumberValue(s.KeyStart); w.WriteNumberValue(s.KeyEnd); w.WriteEndArray(); // [start, end), 0-based
                    JsonOutput.Matrix(w, "scores", s.Scores);
                    JsonOutput.Vector(w, "tile_max", s.TileMax);
                    JsonOutput.Vector(w, "previous_max", s.PreviousMax);
                    JsonOutput.Vector(w, "running_max", s.RunningMax);
                    JsonOutput.Vector(w, "rescale", s.Rescale);
                    JsonOutput.Matrix(w, "p", s.Probabilities);
                    JsonOutput.Vector(w, "previous_sum", s.PreviousSum);
                    JsonOutput.Vector(w, "running_sum", s.RunningSum);
                    JsonOutput.Matrix(w, "partial_output", s.PartialOutput);
                    JsonOutput.Matrix(w, "normalized_output", s.NormalizedOutput);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                JsonOutput.Matrix(w, "output", flash.Output);
                JsonOutput.Vector(w, "log_sum_exp", flash.LogSumExp);
                JsonOutput.Matrix(w, "softmax_weights", flash.PlainWeights);
                JsonOutput.Matrix(w, "softmax_output", flash.PlainOutput);
                w.WriteNumber("max_abs_diff", flash.MaxDifference);
                w.WriteEndObject();
            }
            if (result is not null)
            {
                w.WriteStartObject("attention");
                w.WriteString("kernel", result.Kernel.Name);
                w.WriteBoolean("exact", result.Kernel.IsExact);
                JsonOutput.Matrix(w, "weights", result.Weights);
                JsonOutput.Matrix(w, "output", result.Output);
                if (result.Error is { } e)
                {
                    w.WriteStartObject("error_vs_exact");
                    w.WriteString("exact", e.Exact);
                    w.WriteNumber("max_abs", e.MaxAbs);
                    w.WriteNumber("mean_abs", e.MeanAbs);
                    w.WriteNumber("relative_rms", e.RelativeRms);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            w.WriteEndObject();
        });

    /// <summary>Plain-text rendering, tables as in the step-by-step trace.</summary>
    private sealed class Text(TextWriter w, int digits)
    {
        private string F(double x)
        {
            if (double.IsNegativeInfinity(x)) return "-inf";
            if (double.IsPositiveInfinity(x)) return "inf";
            var s = x.ToString("F" + digits, CultureInfo.InvariantCulture);
            return s.StartsWith('-') && s.Trim('-', '0', '.').Length == 0 ? s[1..] : s; // no "-0.0000"
        }

        public void Visibility(WindowAttention kernel, KeyVisibility vis, bool causal)
        {
            var sw = kernel.Sliding;
            w.WriteLine($"Keys each query sees: {kernel.Name}{(causal ? ", causal" : "")}");
            w.WriteLine(kernel.TwoSided
                ? $"  two-sided window: query at position p sees keys p − {sw.Before} .. p + {sw.After}"
                : $"  one-sided window: query at position p sees keys p − {sw.Before} .. p (itself and the {sw.Before} before it)");
            if (kernel.GlobalTokens > 0)
                w.WriteLine($"  global tokens: keys 1..{kernel.GlobalTokens} are seen by every query, queries 1..{kernel.GlobalTokens} see every key (OR-ed with the window)");
            w.WriteLine("  w = in the window, g = a global key, G = the query is global, . = hidden");
            var rows = new List<string[]>();
            var header = new List<string> { "" };
            for (int j = 0; j < vis.KeyLength; j++) header.Add($"k{j + 1}");
            header.Add("seen");
            rows.Add(header.ToArray());
            for (int i = 0; i < vis.QueryLength; i++)
            {
                var row = new List<string> { $"q{i + 1}" };
                for (int j = 0; j < vis.KeyLength; j++) row.Add(Symbol(vis.Reasons[i, j]).ToString());
                row.Add(vis.VisibleCount[i].ToString(CultureInfo.InvariantCulture));
                rows.Add(row.ToArray());
            }
            Table(rows);
            long full = (long)vis.QueryLength * vis.KeyLength;
            w.WriteLine($"  {vis.TotalVisible} of {full} scores computed ({100.0 * vis.TotalVisible / Math.Max(1, full):0.#}%): O(T·(W + G)) instead of O(T²)");
            w.WriteLine();
        }

        public void Flash(FlashTrace t)
        {
            int tq = t.Output.GetLength(0);
            w.WriteLine($"Flash attention, online softmax over key tiles of {t.TileSize} (scale {F(t.Scale)})");
            w.WriteLine("  per query row: m' = max(m, max s),  α = exp(m − m'),  l' = α·l + Σ exp(s − m'),  O' = α·O + exp(s − m')·V_tile");
            w.WriteLine("  the (Tq, Tk) weights are never stored: only m, l and O per row");
            foreach (var s in t.Steps)
            {
                w.WriteLine();
                w.WriteLine($"Tile {s.Tile + 1}: keys k{s.KeyStart + 1}..k{s.KeyEnd}");
                var header = new List<string> { "" };
                for (int j = s.KeyStart; j < s.KeyEnd; j++) header.Add($"s(k{j + 1})");
                header.AddRange(["tile max", "m before", "m after", "α rescale", "l before", "l after", "O (unnormalized)", "O / l"]);
                var rows = new List<string[]> { header.ToArray() };
                for (int i = 0; i < tq; i++)
                {
                    var row = new List<string> { $"q{i + 1}" };
                    for (int j = 0; j < s.KeyEnd - s.KeyStart; j++) row.Add(F(s.Scores[i, j]));
                    row.AddRange([F(s.TileMax[i]), F(s.PreviousMax[i]), F(s.RunningMax[i]), F(s.Rescale[i]), F(s.PreviousSum[i]), F(s.RunningSum[i]),
                        Vector(s.PartialOutput, i), Vector(s.NormalizedOutput, i)]);
                    rows.Add(row.ToArray());
                }
                Table(rows);
            }
            w.WriteLine();
            w.WriteLine("Final rows: O / l after the last tile, against plain softmax(s)·V over whole rows");
            var final = new List<string[]> { new[] { "", "flash O / l", "softmax·V", "LSE = m + ln l" } };
            for (int i = 0; i < tq; i++) final.Add([$"q{i + 1}", Vector(t.Output, i), Vector(t.PlainOutput, i), F(t.LogSumExp[i])]);
            Table(final);
            w.WriteLine($"  max |flash − softmax| = {t.MaxDifference.ToString("0.0e+0", CultureInfo.InvariantCulture)} (double rounding): the same result, tile by tile");
            w.WriteLine();
        }

        public void Kernel(KernelResult r)
        {
            w.WriteLine($"Attention kernel '{r.Kernel.Name}' ({(r.Kernel.IsExact ? "exact" : "approximate")}), float32:");
            Matrix("weights", r.Weights, "q", "k");
            Matrix("output", r.Output, "o", "d");
            if (r.Error is { } e)
                w.WriteLine($"  error against exact attention ({e.Exact}): max |Δ| = {e.MaxAbs.ToString("0.0e+0", CultureInfo.InvariantCulture)}, mean |Δ| = {e.MeanAbs.ToString("0.0e+0", CultureInfo.InvariantCulture)}, relative RMS = {e.RelativeRms.ToString("0.0e+0", CultureInfo.InvariantCulture)}");
        }

        private string Vector(double[,] m, int i) => "[" + string.Join(", ", Enumerable.Range(0, m.GetLength(1)).Select(c => F(m[i, c]))) + "]";

        private void Matrix(string title, double[,] m, string rowPrefix, string colPrefix)
        {
            w.WriteLine($"{title} ({m.GetLength(0)}×{m.GetLength(1)}):");
            var rows = new List<string[]>();
            var header = new List<string> { "" };
            for (int j = 0; j < m.GetLength(1); j++) header.Add($"{colPrefix}{j + 1}");
            rows.Add(header.ToArray());
            for (int i = 0; i < m.GetLength(0); i++)
            {
                var row = new List<string> { $"{rowPrefix}{i + 1}" };
                for (int j = 0; j < m.GetLength(1); j++) row.Add(F(m[i, j]));
                rows.Add(row.ToArray());
            }
            Table(rows);
        }

        private void Table(List<string[]> rows) => TensorText.Table(w, rows);
    }
}
