using AttentionLab.Inspection;
using AttentionLab.IO;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// <c>attnlab shapes</c>: the shape of every tensor in the exercises' GPT forward pass (seed 004, Parts 1, 4
/// and 5). The list is <see cref="ShapeTrace"/>; this file parses and renders.
/// </summary>
public static class ShapesCommand
{
    public const string Summary = "shape of every tensor in a forward pass (the exercises' GPT, GPT-2/3, Llama-family presets or a config.json)";

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

        usage: attnlab shapes --arch gpt2|gpt3|smollm2-135m|qwen2.5-0.5b|tinyllama-1.1b|llama3-8b [--seq-len T] [--batch B] [--json]
               attnlab shapes --config DIR [--seq-len T] [--batch B] [--json]

        One block of a real model's forward pass at its own sizes (default T = 8): GPT-2 124M, GPT-3 175B, or a
        Llama-family decoder (RMSNorm, grouped-query attention with repeat_kv, RoPE, SwiGLU) from a preset or the
        config.json in DIR.
        """;

    private static int RunArch(string? arch, string? configDir, Args args, TextWriter stdout)
    {
        foreach (var flag in new[] { "d-model", "heads", "vocab", "max-len" })
            if (args.Has(flag)) throw new CliError($"--{flag} does not apply to {(arch is null ? "--config" : $"--arch {arch}")}: its sizes are fixed");
        HfTransformerConfig? hf = configDir is not null ? HfTransformerConfig.Read(configDir) : HfTransformerPresets.Find(arch!);
        if (hf is null && arch is not ("gpt2" or "gpt3"))
            throw new CliError($"--arch must be one of seed, gpt2, gpt3, {string.Join(", ", HfTransformerPresets.Names)}, got '{arch}'");
        int seqLen = args.Int("seq-len", 8, min: 1);
        int batch = args.Int("batch", 1, min: 1);
        bool json = args.Json;
        args.EnsureAllUsed();
        string name = arch ?? configDir!;
        IReadOnlyList<ShapeStep> steps;
        string header;
        if (hf is not null)
        {
            if (seqLen > hf.ContextLength) throw new CliError($"--seq-len {seqLen} is longer than {name}'s max_position_embeddings {hf.ContextLength}");
            steps = ShapeTrace.Llama(hf, batch, seqLen);
            header = $"  B = batch {batch}, T = seq_len {seqLen}, C = {hf.Channels}, H = {hf.Heads} query heads, Hkv = {hf.KeyValueHeads} key/value heads, " +
                     $"D = head_dim {hf.HeadDim}, I = {hf.IntermediateSize}, V = {hf.VocabSize}, L = {hf.Layers}";
        }
        else
        {
            bool gpt3 = arch == "gpt3";
            int c = gpt3 ? 12288 : 768, h = gpt3 ? 96 : 12, maxLen = gpt3 ? 2048 : 1024, layers = gpt3 ? 96 : 12;
            if (seqLen > maxLen) throw new CliError($"--seq-len {seqLen} is longer than {name}'s {maxLen} positions");
            steps = ShapeTrace.Gpt2(batch, seqLen, c, h, 50257, maxLen, layers);
            header = $"  B = batch {batch}, T = seq_len {seqLen}, C = {c}, H = {h}, D = {c / h}, V = 50257, L = {layers}";
        }
        if (json)
        {
            JsonOutput.Print(stdout, w =>
            {
                w.WriteStartObject();
                w.WriteString("arch", name);
                w.WriteNumber("batch", batch);
                w.WriteNumber("seq_len", seqLen);
                if (hf is not null)
                {
                    w.WriteNumber("heads", hf.Heads);
                    w.WriteNumber("key_value_heads", hf.KeyValueHeads);
                    w.WriteNumber("head_dim", hf.HeadDim);
                }
                w.WriteStartArray("steps");
                foreach (var st in steps)
                {
                    w.WriteStartObject();
                    w.WriteString("name", st.Name);
                    JsonOutput.Shape(w, "shape", st.Shape.Select(d => (long)d));
                    w.WriteString("letters", st.Letters);
                    w.WriteString("meaning", st.Meaning);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            });
            return 0;
        }
        stdout.WriteLine($"Shapes through one block of {name}'s forward pass");
        stdout.WriteLine(header);
        stdout.WriteLine();
        var rows = new List<string[]> { new[] { "tensor", "shape", "letters", "meaning" } };
        rows.AddRange(steps.Select(st => new[] { st.Name, st.ShapeText, st.Letters, st.Meaning }));
        var width = Enumerable.Range(0, 3).Select(j => rows.Max(r => r[j].Length)).ToArray();
        foreach (var r in rows)
            stdout.WriteLine($"  {r[0].PadRight(width[0])}  {r[1].PadRight(width[1])}  {r[2].PadRight(width[2])}  {r[3]}");
        return 0;
    }

    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        var args = new Args(argv);
        if (args.Help) { stdout.WriteLine(Usage); return 0; }
        string? configDir = args.String("config");
        string? arch = args.String("arch");
        if (configDir is not null && arch is not null) throw new CliError("give --arch or --config, not both");
        if (arch is not null && arch != "seed" || configDir is not null) return RunArch(arch, configDir, args, stdout);
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
