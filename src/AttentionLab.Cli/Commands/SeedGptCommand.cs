using System.Diagnostics;
using System.Globalization;
using AttentionLab.Inspection;
using AttentionLab.Models;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// <c>attnlab seed-gpt</c>: one forward pass of the exercises' GPTModel (seed 004, Part 5; Part 7 question 31), every
/// intermediate printed. The numbers are <see cref="SeedGptTrace"/>'s; this file parses and renders.
/// </summary>
public static class SeedGptCommand
{
    public const string Summary = "the exercises' GPTModel, one forward pass traced (Part 5), untrained loss vs ln V";

    private const string Usage = """
        usage: attnlab seed-gpt [--ids 7,12,3,25] [--seed S] [--vocab V] [--d-model C] [--heads H] [--max-len N]
                                [--digits N] [--json]

        One forward pass of the exercises' GPTModel (token + position embedding, one causal multi-head attention,
        output_head), randomly initialised from --seed as PyTorch initialises it, printed step by step:
        the embedding rows looked up for each id, the position rows, their sum, each head's attention weights,
        the concat of the heads, W_O's output, the logits' shape and logits[0, 2, 7], and the untrained loss on
        the shifted targets (each id predicts the next one) next to ln V (Part 7, question 31).

          --ids LIST    token ids, comma-separated, at most max_len of them (default 7,12,3,25)
          --seed S      initialisation seed (default 0)
          --vocab V     vocabulary size (default 50)
          --d-model C   channels per token (default 8)
          --heads H     attention heads; must divide d_model (default 2)
          --max-len N   rows of the position table (default 4)
          --digits N    decimals in the printed tables (default 4, 0..15)
          --json        {"ids","config","parameters","token_rows","position_rows","embedded","weights","concat",
                         "attended","logits" (1,T,V),"logits_shape","example_logit","targets","position_losses",
                         "loss","ln_vocab"}

        The exercise's full size runs in seconds (102,728,704 parameters; big tensors are summarised):
          attnlab seed-gpt --vocab 200000 --d-model 256 --heads 4 --max-len 256
        Part 5 exactly as written (d_model 4, max_length 3): attnlab seed-gpt --d-model 4 --max-len 3 --ids 7,12,3
        """;

    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        var args = new Args(argv);
        if (args.Help) { stdout.WriteLine(Usage); return 0; }
        var ids = CommandSupport.ParseIds(args.String("ids") ?? "7,12,3,25");
        int seed = args.Int("seed", 0);
        int vocab = args.Int("vocab", 50, min: 1, max: 10_000_000);
        int dModel = args.Int("d-model", 8, min: 1, max: 65_536);
        int heads = args.Int("heads", 2, min: 1);
        int maxLen = args.Int("max-len", 4, min: 1, max: 65_536);
        int digits = args.Int("digits", 4, 0, 15);
        bool json = args.Json;
        args.EnsureAllUsed();
        if (dModel % heads != 0)
            throw new CliError($"--heads {heads} does not divide --d-model {dModel}: head_dim = d_model / heads must be a whole number");
        if (ids.Length > maxLen)
            throw new CliError($"--ids has {ids.Length} ids but --max-len is {maxLen}: the position table has no row for position {maxLen}");
        foreach (var id in ids)
            if (id >= vocab) throw new CliError($"--ids: token id {id} is outside the vocabulary 0..{vocab - 1} (--vocab {vocab})");
        var config = new SeedGptConfig(vocab, dModel, heads, maxLen);
        if ((double)config.ParameterCount * 8 > 16e9)
            throw new CliError($"{config.ParameterCount:N0} parameters need {config.ParameterCount * 8 / 1e9:0.#} GB (weights and gradients); use smaller sizes");

        var clock = Stopwatch.StartNew();
        var trace = SeedGptTrace.Run(config, ids, seed);
        var elapsed = clock.Elapsed;
        if (json) PrintJson(stdout, trace, seed);
        else Print(stdout, trace, seed, digits, elapsed);
        return 0;
    }

    private static void PrintJson(TextWriter stdout, SeedGptTrace t, int seed) => JsonOutput.Print(stdout, w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("ids"); foreach (var id in t.Ids) w.WriteNumberValue(id); w.WriteEndArray();
        w.WriteNumber("seed", seed);
        w.WriteStartObject("config");
        w.WriteNumber("vocab_size", t.Config.VocabSize);
        w.WriteNumber("d_model", t.Config.DModel);
        w.WriteNumber("n_heads", t.Config.Heads);
        w.WriteNumber("head_dim", t.Config.DModel / t.Config.Heads);
        w.WriteNumber("max_length", t.Config.MaxLength);
        w.WriteEndObject();
        w.WriteNumber("parameters", t.Parameters);
        TensorText.Json(w, "token_rows", t.TokenRows);
        TensorText.Json(w, "position_rows", t.PositionRows);
        TensorText.Json(w, "embedded", t.Embedded);
        TensorText.Json(w, "weights", t.Weights);
        TensorText.Json(w, "concat", t.Concat);
        TensorText.Json(w, "attended", t.Attended);
        TensorText.Json(w, "logits", t.Logits);
        JsonOutput.Shape(w, "logits_shape", t.Logits.Shape.Select(d => (long)d));
        var (position, token, value) = t.ExampleLogit;
        w.WriteStartObject("example_logit");
        w.WriteNumber("batch", 0); w.WriteNumber("position", position); w.WriteNumber("token", token); w.WriteNumber("value", value);
        w.WriteEndObject();
        w.WriteStartArray("targets"); foreach (var id in t.Targets) w.WriteNumberValue(id); w.WriteEndArray();
        JsonOutput.Vector(w, "position_losses", t.PositionLosses.Select(x => (double)x).ToArray());
        w.WritePropertyName("loss"); JsonOutput.Number(w, t.Loss);
        w.WriteNumber("ln_vocab", t.LnVocab);
        w.WriteEndObject();
    });

    private static void Print(TextWriter w, SeedGptTrace t, int seed, int digits, TimeSpan elapsed)
    {
        var p = new TensorText(w, digits);
        int T = t.Length, C = t.Config.DModel, H = t.Heads, D = C / H, V = t.Config.VocabSize;
        string Tok(int i) => $"t{i} ({t.Ids[i]})";
        string Ch(int j) => $"c{j}";
        w.WriteLine($"The exercises' GPTModel: vocab V = {V:N0}, d_model C = {C}, heads H = {H} (head_dim D = {D}), max_len {t.Config.MaxLength}, seed {seed}");
        w.WriteLine($"  {t.Parameters:N0} parameters, randomly initialised (untrained); built and run in {elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s");
        w.WriteLine($"  input_ids = [[{string.Join(", ", t.Ids)}]]   shape (1, {T}); rows below are positions t0..t{T - 1} with their id");

        Heading(w, 1, $"token_embedding(input_ids): row id of the ({V:N0}, {C}) table for each token", $"(1, {T}, {C})");
        p.Matrix(t.TokenRows.Data, T, C, i => $"t{i}: row {t.Ids[i]}", Ch);
        Heading(w, 2, $"position_embedding(arange({T})): rows 0..{T - 1} of the ({t.Config.MaxLength}, {C}) table", $"({T}, {C})");
        p.Matrix(t.PositionRows.Data, T, C, i => $"pos {i}", Ch);
        Heading(w, 3, "x = token_emb + pos_emb (added, so the width stays C)", $"(1, {T}, {C})");
        p.Matrix(t.Embedded.Data, T, C, Tok, Ch);

        Heading(w, 4, "each head's causal weights softmax(q·kᵀ/√D + mask); row = query, column = key", $"(1, {H}, {T}, {T})");
        for (int h = 0; h < H && h < 8; h++)
        {
            w.WriteLine($"  head {h}:");
            p.Matrix(t.Weights.Data.AsSpan(h * T * T, T * T), T, T, Tok, j => $"k{j}");
        }
        if (H > 8) w.WriteLine($"  … {H - 8} more heads (--json has all)");

        Heading(w, 5, $"concat: the {H} heads' outputs side by side (head h = channels h·{D}..h·{D}+{D - 1})", $"(1, {T}, {C})");
        p.Matrix(t.Concat.Data, T, C, Tok, Ch);
        Heading(w, 6, "W_O's output: attention.out(concat) = concat·W_Oᵀ + b_O", $"(1, {T}, {C})");
        p.Matrix(t.Attended.Data, T, C, Tok, Ch);

        Heading(w, 7, $"logits = output_head(x): a score for each of the V = {V:N0} tokens as the next token", $"(1, {T}, {V})");
        p.Matrix(t.Logits.Data, T, V, Tok, j => $"v{j}");
        var (position, token, value) = t.ExampleLogit;
        w.WriteLine($"  logits[0, {position}, {token}] = {p.F(value)}: how strongly the model predicts token {token} right after position {position} (id {t.Ids[position]})");

        Heading(w, 8, "untrained loss: cross-entropy of each position's logits against the next id", "");
        if (t.Targets.Length == 0)
            w.WriteLine("  one id only: there is no next id to predict, so no loss (give at least two ids)");
        else
        {
            var rows = new List<string[]> { new[] { "position", "input id", "target id", "−ln p(target)" } };
            for (int i = 0; i < t.Targets.Length; i++)
                rows.Add([$"t{i}", t.Ids[i].ToString(CultureInfo.InvariantCulture), t.Targets[i].ToString(CultureInfo.InvariantCulture), p.F(t.PositionLosses[i])]);
            p.Table(rows);
            w.WriteLine($"  loss = mean = {p.F(t.Loss)}   vs   ln V = ln {V:N0} = {p.F(t.LnVocab)}");
            w.WriteLine($"  an untrained model spreads its guesses about evenly over the V tokens, so its loss is near −ln(1/V) = ln V (Q31)");
        }
    }

    private static void Heading(TextWriter w, int step, string what, string shape)
    {
        w.WriteLine();
        w.WriteLine(shape.Length == 0 ? $"Step {step}. {what}" : $"Step {step}. {what}   {shape}");
    }
}
