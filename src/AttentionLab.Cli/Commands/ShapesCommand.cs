using AttentionLab.Inspection;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// <c>attnlab shapes</c>: the shape of every tensor in the exercises' GPT forward pass (seed 004, Parts 1, 4
/// and 5). The list is <see cref="ShapeTrace"/>; this file parses and renders.
/// </summary>
public static class ShapesCommand
{
    public const string Summary = "shape of every tensor in the exercises' GPT forward pass";

    private const string Usage = """
        usage: attnlab shapes [--d-model C] [--heads H] [--seq-len T] [--batch B] [--vocab V] [--max-len N] [--json]

        The shape of every tensor in the exercises' GPTModel forward pass, from input_ids to logits, with the
        letters (B, T, C, H, D, V) and one line on what each tensor means.

          --d-model C   channels per token (default 8)
          --heads H     attention heads; must divide d_model (default 2); head_dim D = C / H
          --seq-len T   tokens per sequence (default 4)
          --batch B     sequences per batch (default 1)
          --vocab V     vocabulary size (default 50)
          --max-len N   rows of the position table, at least T (default T)
          --json        machine-readable: {"head_dim", "steps": [{"name","shape","letters","meaning"}]}

        The defaults are seed 004 Part 1. Part 4: --seq-len 3. Part 5: --d-model 4 --seq-len 3.
        """;

    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        var args = new Args(argv);
        if (args.Help) { stdout.WriteLine(Usage); return 0; }
        int dModel = args.Int("d-model", 8, min: 1);
        int heads = args.Int("heads", 2, min: 1);
        int seqLen = args.Int("seq-len", 4, min: 1);
        int batch = args.Int("batch", 1, min: 1);
        int vocab = args.Int("vocab", 50, min: 1);
        int maxLen = args.Int("max-len", seqLen, min: 1);
        bool json = args.Json;
        args.EnsureAllUsed();
        if (dModel % heads != 0)
            throw new CliError($"--heads {heads} does not divide --d-model {dModel}: head_dim = d_model / heads = {dModel} / {heads} must be a whole number");
        if (seqLen > maxLen)
            throw new CliError($"--seq-len {seqLen} is longer than --max-len {maxLen}: the position table has no row for position {maxLen}");

        var steps = ShapeTrace.SeedGpt(batch, seqLen, dModel, heads, vocab, maxLen);
        int headDim = dModel / heads;
        if (json)
        {
            JsonOutput.Print(stdout, w =>
            {
                w.WriteStartObject();
                w.WriteNumber("batch", batch);
                w.WriteNumber("seq_len", seqLen);
                w.WriteNumber("d_model", dModel);
                w.WriteNumber("heads", heads);
                w.WriteNumber("head_dim", headDim);
                w.WriteNumber("vocab", vocab);
                w.WriteNumber("max_len", maxLen);
                w.WriteStartArray("steps");
                foreach (var s in steps)
                {
                    w.WriteStartObject();
                    w.WriteString("name", s.Name);
                    JsonOutput.Shape(w, "shape", s.Shape.Select(d => (long)d));
                    w.WriteString("letters", s.Letters);
                    w.WriteString("meaning", s.Meaning);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            });
            return 0;
        }

        stdout.WriteLine("Shapes through the exercises' GPTModel forward pass");
        stdout.WriteLine($"  B = batch {batch}, T = seq_len {seqLen}, C = d_model {dModel}, H = heads {heads}, V = vocab {vocab}, max_len {maxLen}");
        stdout.WriteLine($"  head_dim D = d_model / heads = {dModel} / {heads} = {headDim}");
        stdout.WriteLine();
        var rows = new List<string[]> { new[] { "tensor", "shape", "letters", "meaning" } };
        rows.AddRange(steps.Select(s => new[] { s.Name, s.ShapeText, s.Letters, s.Meaning }));
        var width = Enumerable.Range(0, 3).Select(j => rows.Max(r => r[j].Length)).ToArray();
        foreach (var r in rows)
            stdout.WriteLine($"  {r[0].PadRight(width[0])}  {r[1].PadRight(width[1])}  {r[2].PadRight(width[2])}  {r[3]}");
        return 0;
    }
}
