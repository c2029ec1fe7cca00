using System.Globalization;
using AttentionLab.Inspection;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// <c>attnlab params</c>: parameter count per tensor and in total (seed 004, Part 6) for the exercises' GPTModel
/// or Hugging Face GPT-2. The arithmetic is <see cref="ParameterCount"/>; this file parses and renders.
/// </summary>
public static class ParamsCommand
{
    public const string Summary = "parameter count per tensor and total (exercise GPT or GPT-2)";

    private const string Usage = """
        usage: attnlab params [--arch seed|gpt2] [--vocab V] [--d-model C] [--heads H] [--max-len T] [--layers L] [--json]

        How many parameters each tensor holds, the formula, and the total.

          --arch seed   the exercises' GPTModel: token_embedding (V, C), position_embedding (T, C), one attention
                        with query/key/value/out = Linear(C, C) with bias, output_head = Linear(C, V, bias=False)
                        defaults: --vocab 200000 --d-model 256 --heads 4 --max-len 256 (seed 004, Part 6)
          --arch gpt2   Hugging Face GPT-2 (lm_head tied to wte): per layer ln_1, attn.c_attn (C, 3C) + 3C,
                        attn.c_proj (C, C) + C, ln_2, mlp.c_fc (C, 4C) + 4C, mlp.c_proj (4C, C) + C; then ln_f
                        defaults: --vocab 50257 --d-model 768 --heads 12 --max-len 1024 --layers 12 (GPT-2 124M)
          --heads H     must divide d_model; heads split C, they add no parameters
          --layers L    transformer blocks (gpt2 only; the seed model has exactly one attention)
          --json        machine-readable: {"total": N, "components": [{"name","shape","count",...}]}
        """;

    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        var args = new Args(argv);
        if (args.Help) { stdout.WriteLine(Usage); return 0; }
        string arch = args.String("arch") ?? "seed";
        if (arch is not ("seed" or "gpt2")) throw new CliError($"--arch must be 'seed' or 'gpt2', got '{arch}'");
        bool gpt2 = arch == "gpt2";
        int vocab = args.Int("vocab", gpt2 ? 50257 : 200000, min: 1);
        int dModel = args.Int("d-model", gpt2 ? 768 : 256, min: 1);
        int heads = args.Int("heads", gpt2 ? 12 : 4, min: 1);
        int maxLen = args.Int("max-len", gpt2 ? 1024 : 256, min: 1);
        if (!gpt2 && args.Has("layers"))
            throw new CliError("--layers applies to --arch gpt2 only: the exercises' model has exactly one attention");
        int layers = args.Int("layers", 12, min: 1);
        bool json = args.Json;
        args.EnsureAllUsed();
        if (dModel % heads != 0)
            throw new CliError($"--heads {heads} does not divide --d-model {dModel}: head_dim = d_model / heads = {dModel} / {heads} must be a whole number");

        var count = gpt2 ? ParameterCount.Gpt2(vocab, dModel, heads, maxLen, layers) : ParameterCount.Seed(vocab, dModel, heads, maxLen);
        long total = count.Total;
        if (json)
        {
            JsonOutput.Print(stdout, w =>
            {
                w.WriteStartObject();
                w.WriteString("arch", arch);
                w.WriteNumber("total", total);
                w.WriteStartArray("largest");
                foreach (var e in count.Largest) w.WriteStringValue(e.Name);
                w.WriteEndArray();
                w.WriteStartArray("components");
                foreach (var e in count.Entries)
                {
                    w.WriteStartObject();
                    w.WriteString("name", e.Name);
                    JsonOutput.Shape(w, "shape", e.Shape);
                    w.WriteNumber("copies", e.Copies);
                    w.WriteNumber("count", e.Count);
                    w.WriteString("note", e.Note);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            });
            return 0;
        }

        stdout.WriteLine(gpt2
            ? $"Parameters of GPT-2 (Hugging Face layout, lm_head tied): vocab V = {vocab}, d_model C = {dModel}, heads {heads}, max_len T = {maxLen}, layers L = {layers}"
            : $"Parameters of the exercises' GPTModel: vocab V = {vocab}, d_model C = {dModel}, heads {heads}, max_len T = {maxLen}");
        stdout.WriteLine();
        var rows = new List<string[]> { new[] { "parameter", "shape", "how many", "count", "share" } };
        foreach (var e in count.Entries)
        {
            string formula = e.Copies switch
            {
                0 => "tied: 0",
                1 => string.Join(" × ", e.Shape),
                _ => $"{e.Copies} × " + string.Join(" × ", e.Shape),
            };
            rows.Add([e.Name, e.ShapeText, formula, N(e.Count), Share(e.Count, total)]);
        }
        rows.Add(["total", "", "", N(total), Short(total)]);
        var width = Enumerable.Range(0, 5).Select(j => rows.Max(r => r[j].Length)).ToArray();
        foreach (var r in rows)
            stdout.WriteLine($"  {r[0].PadRight(width[0])}  {r[1].PadRight(width[1])}  {r[2].PadRight(width[2])}  {r[3].PadLeft(width[3])}  {r[4].PadLeft(width[4])}");
        stdout.WriteLine();

        long c = dModel;
        if (gpt2)
        {
            long perLayer = count.Entries.Where(e => e.Copies == layers && e.Name.StartsWith("transformer.h.", StringComparison.Ordinal)).Sum(e => e.PerCopy);
            stdout.WriteLine($"  per layer: 12·C² + 13·C = {N(perLayer)}; × {layers} layers = {N(perLayer * layers)}");
            stdout.WriteLine("  lm_head.weight shares transformer.wte.weight (weight tying), so the output projection adds 0");
        }
        else
        {
            long linear = c * c + c;
            stdout.WriteLine($"  attention: 4 × Linear({c}, {c}) = 4 × ({c} × {c} + {c}) = 4 × {N(linear)} = {N(4 * linear)}");
        }
        var largest = count.Largest;
        var first = largest[0];
        string names = largest.Count == 1 ? first.Name : string.Join(" and ", largest.Select(e => e.Name)) + " (a tie)";
        string each = largest.Count == 1 ? "" : " each";
        stdout.WriteLine($"  largest: {names}, {N(first.Count)}{each} = {Share(first.Count, total)} of the total{each}");
        if (first.Copies == 1 && first.Shape is [var rowsOfTable, _] && rowsOfTable == vocab)
        {
            long vocabTables = count.Entries.Where(e => e.Shape is [var r, _] && r == vocab).Sum(e => e.Count);
            stdout.WriteLine($"  why: one {dModel}-number row per vocabulary entry, V × C = {vocab} × {dModel}; the vocabulary tables hold {Share(vocabTables, total)} of the model");
        }
        return 0;
    }

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Share(long part, long total) =>
        total == 0 ? "—" : (100.0 * part / total).ToString("0.00", CultureInfo.InvariantCulture) + "%";

    /// <summary>102,728,704 → "102.7M".</summary>
    private static string Short(long n) => n switch
    {
        >= 1_000_000_000 => (n / 1e9).ToString("0.0", CultureInfo.InvariantCulture) + "B",
        >= 1_000_000 => (n / 1e6).ToString("0.0", CultureInfo.InvariantCulture) + "M",
        >= 1_000 => (n / 1e3).ToString("0.0", CultureInfo.InvariantCulture) + "K",
        _ => n.ToString(CultureInfo.InvariantCulture),
    };
}
