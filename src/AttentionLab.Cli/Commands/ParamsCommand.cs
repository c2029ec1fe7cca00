using System.Globalization;
using AttentionLab.Inspection;
using AttentionLab.IO;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// <c>attnlab params</c>: parameter count per tensor and in total (seed 004, Part 6) for the exercises' GPTModel
/// or Hugging Face GPT-2, GPT-3's 175B shape, and the Llama family (presets of real checkpoints, or any config.json).
/// The arithmetic is <see cref="ParameterCount"/>; this file parses and renders.
/// </summary>
public static class ParamsCommand
{
    public const string Summary = "parameter count per tensor and total (exercise GPT, GPT-2, GPT-3, Llama-family presets or a config.json)";

    private const string Usage = """
        usage: attnlab params [--arch seed|gpt2|gpt3] [--vocab V] [--d-model C] [--heads H] [--max-len T] [--layers L] [--json]
               attnlab params --arch smollm2-135m|qwen2.5-0.5b|tinyllama-1.1b|llama3-8b [--json]
               attnlab params --config DIR [--json]

        How many parameters each tensor holds, the formula, and the total.

          --arch seed   the exercises' GPTModel: token_embedding (V, C), position_embedding (T, C), one attention
                        with query/key/value/out = Linear(C, C) with bias, output_head = Linear(C, V, bias=False)
                        defaults: --vocab 200000 --d-model 256 --heads 4 --max-len 256 (seed 004, Part 6)
          --arch gpt2   Hugging Face GPT-2 (lm_head tied to wte): per layer ln_1, attn.c_attn (C, 3C) + 3C,
                        attn.c_proj (C, C) + C, ln_2, mlp.c_fc (C, 4C) + 4C, mlp.c_proj (4C, C) + C; then ln_f
                        defaults: --vocab 50257 --d-model 768 --heads 12 --max-len 1024 --layers 12 (GPT-2 124M)
          --arch gpt3   GPT-3 175B: the GPT-2 layout at --vocab 50257 --d-model 12288 --heads 96 --max-len 2048
                        --layers 96, with seed 001's "96 layers × 4,096² attention pairs" worked out
          --arch smollm2-135m, qwen2.5-0.5b, tinyllama-1.1b, llama3-8b
                        a Llama-family decoder at that checkpoint's config.json: embed_tokens (V, C); per layer
                        q_proj (H·D, C), k_proj and v_proj (Hkv·D, C) (grouped-query), o_proj (C, H·D), gate_proj and
                        up_proj (I, C), down_proj (C, I), two RMSNorm gains (C); norm (C); lm_head (V, C) unless tied
          --config DIR  the same count for the config.json in DIR (llama, mistral, qwen2, qwen3)
          --heads H     must divide d_model; heads split C, they add no parameters
          --layers L    transformer blocks (gpt2 only; the seed model has exactly one attention)
          --json        machine-readable: {"total": N, "components": [{"name","shape","count",...}]}
        """;

    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        var args = new Args(argv);
        if (args.Help) { stdout.WriteLine(Usage); return 0; }
        string? configDir = args.String("config");
        string arch = args.String("arch") ?? (configDir is null ? "seed" : "config");
        HfTransformerConfig? hf = configDir is not null
            ? (arch == "config" ? HfTransformerConfig.Read(configDir) : throw new CliError("give --arch or --config, not both"))
            : HfTransformerPresets.Find(arch);
        if (hf is not null)
        {
            foreach (var flag in new[] { "vocab", "d-model", "heads", "max-len", "layers" })
                if (args.Has(flag)) throw new CliError($"--{flag} does not apply to {(configDir is null ? $"the preset {arch}" : "--config")}: its sizes are its config.json's");
            bool asJson = args.Json;
            args.EnsureAllUsed();
            return RunLlama(configDir is null ? arch : configDir, hf, asJson, stdout);
        }
        if (arch is not ("seed" or "gpt2" or "gpt3"))
            throw new CliError($"--arch must be one of seed, gpt2, gpt3, {string.Join(", ", HfTransformerPresets.Names)}, got '{arch}'");
        bool gpt3 = arch == "gpt3";
        bool gpt2 = arch is "gpt2" or "gpt3";
        int vocab = args.Int("vocab", gpt2 ? 50257 : 200000, min: 1);
        int dModel = args.Int("d-model", gpt3 ? 12288 : gpt2 ? 768 : 256, min: 1);
        int heads = args.Int("heads", gpt3 ? 96 : gpt2 ? 12 : 4, min: 1);
        int maxLen = args.Int("max-len", gpt3 ? 2048 : gpt2 ? 1024 : 256, min: 1);
        if (!gpt2 && args.Has("layers"))
            throw new CliError("--layers applies to --arch gpt2 and gpt3 only: the exercises' model has exactly one attention");
        int layers = args.Int("layers", gpt3 ? 96 : 12, min: 1);
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
                if (gpt3)
                {
                    w.WriteStartObject("seed001_attention_pairs");
                    w.WriteNumber("layers", layers);
                    w.WriteNumber("context", Seed001Context);
                    w.WriteNumber("pairs", AttentionArithmetic.PairsPerForward(layers, Seed001Context));
                    w.WriteNumber("causal_pairs", AttentionArithmetic.CausalPairsPerForward(layers, Seed001Context));
                    w.WriteNumber("scores_all_heads", AttentionArithmetic.ScoresPerForward(layers, heads, Seed001Context));
                    w.WriteEndObject();
                }
                WriteComponents(w, count);
                w.WriteEndObject();
            });
            return 0;
        }

        stdout.WriteLine(gpt3
            ? $"Parameters of GPT-3 175B (the GPT-2 layout, lm_head tied): vocab V = {vocab}, d_model C = {dModel}, heads {heads} of {dModel / heads}, max_len T = {maxLen}, layers L = {layers}"
            : gpt2
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
            if (gpt3) WriteSeed001Pairs(stdout, layers, heads);
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

    /// <summary>Seed 001 counts attention pairs at a 4,096-token context.</summary>
    private const int Seed001Context = 4096;

    private static void WriteSeed001Pairs(TextWriter stdout, int layers, int heads)
    {
        const int T = Seed001Context;
        long pairs = AttentionArithmetic.PairsPerForward(layers, T);
        stdout.WriteLine();
        stdout.WriteLine($"  seed 001: {layers} layers × {N(T)}² attention pairs = {layers} × {N((long)T * T)} = {N(pairs)} ≈ {pairs / 1e9:0.0} billion per forward pass");
        stdout.WriteLine($"    each of the {heads} heads scores every pair: {layers} × {heads} × {N(T)}² = {N(AttentionArithmetic.ScoresPerForward(layers, heads, T))} query·key scores");
        stdout.WriteLine($"    the causal mask leaves {layers} × {N(T)}·{N(T + 1)}/2 = {N(AttentionArithmetic.CausalPairsPerForward(layers, T))} of the pairs");
        stdout.WriteLine($"    (GPT-3 itself was trained at 2,048 positions: {layers} × 2,048² = {N(AttentionArithmetic.PairsPerForward(layers, 2048))})");
    }

    private static int RunLlama(string what, HfTransformerConfig hf, bool json, TextWriter stdout)
    {
        var count = ParameterCount.Llama(hf);
        long total = count.Total;
        int group = hf.Heads / hf.KeyValueHeads;
        long kvBf16 = AttentionArithmetic.KvCacheBytesPerToken(hf.Layers, hf.KeyValueHeads, hf.HeadDim, 2);
        long mhaBf16 = AttentionArithmetic.KvCacheBytesPerToken(hf.Layers, hf.Heads, hf.HeadDim, 2);
        if (json)
        {
            JsonOutput.Print(stdout, w =>
            {
                w.WriteStartObject();
                w.WriteString("arch", what);
                w.WriteString("model_type", hf.ModelType);
                w.WriteNumber("total", total);
                w.WriteStartObject("config");
                w.WriteNumber("vocab_size", hf.VocabSize); w.WriteNumber("hidden_size", hf.Channels); w.WriteNumber("intermediate_size", hf.IntermediateSize);
                w.WriteNumber("num_hidden_layers", hf.Layers); w.WriteNumber("num_attention_heads", hf.Heads); w.WriteNumber("num_key_value_heads", hf.KeyValueHeads);
                w.WriteNumber("head_dim", hf.HeadDim); w.WriteBoolean("tie_word_embeddings", hf.TiedOutput);
                w.WriteEndObject();
                w.WriteNumber("kv_cache_bytes_per_token_bf16", kvBf16);
                var big = count.Entries.MaxBy(e => e.PerCopy)!;
                var mem = LoadMemory.Estimate(total, big.PerCopy, big.Name, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
                w.WriteNumber("load_weight_bytes_float32", mem.WeightBytes);
                w.WriteNumber("load_working_set_bytes", mem.WorkingSetBytes);
                w.WriteNumber("kv_cache_bytes_per_token_bf16_without_gqa", mhaBf16);
                WriteComponents(w, count);
                w.WriteEndObject();
            });
            return 0;
        }
        stdout.WriteLine($"Parameters of {what} ({hf.Architecture ?? hf.ModelType}): vocab V = {N(hf.VocabSize)}, hidden C = {N(hf.Channels)}, layers L = {hf.Layers}, " +
                         $"query heads H = {hf.Heads}, key/value heads Hkv = {hf.KeyValueHeads}, head_dim D = {hf.HeadDim}, MLP I = {N(hf.IntermediateSize)}, " +
                         (hf.TiedOutput ? "lm_head tied" : "lm_head untied"));
        stdout.WriteLine();
        var rows = new List<string[]> { new[] { "parameter", "shape", "how many", "count", "share" } };
        foreach (var e in count.Entries)
            rows.Add([e.Name, e.ShapeText, e.Copies switch { 0 => "tied: 0", 1 => string.Join(" × ", e.Shape), _ => $"{e.Copies} × " + string.Join(" × ", e.Shape) }, N(e.Count), Share(e.Count, total)]);
        rows.Add(["total", "", "", N(total), Short(total)]);
        var width = Enumerable.Range(0, 5).Select(j => rows.Max(r => r[j].Length)).ToArray();
        foreach (var r in rows)
            stdout.WriteLine($"  {r[0].PadRight(width[0])}  {r[1].PadRight(width[1])}  {r[2].PadRight(width[2])}  {r[3].PadLeft(width[3])}  {r[4].PadLeft(width[4])}");
        stdout.WriteLine();
        long perLayer = count.Entries.Where(e => e.Copies == hf.Layers && e.Name.StartsWith("model.layers.", StringComparison.Ordinal)).Sum(e => e.PerCopy);
        long C = hf.Channels, Q = (long)hf.Heads * hf.HeadDim, K = (long)hf.KeyValueHeads * hf.HeadDim, I = hf.IntermediateSize;
        stdout.WriteLine($"  per layer: q, o 2·C·H·D = {N(2 * C * Q)} + k, v 2·C·Hkv·D = {N(2 * C * K)} + gate, up, down 3·C·I = {N(3 * C * I)} + 2 norms 2·C = {N(2 * C)}" +
                         (perLayer != 2 * C * Q + 2 * C * K + 3 * C * I + 2 * C ? $" + biases/q-k norms {N(perLayer - (2 * C * Q + 2 * C * K + 3 * C * I + 2 * C))}" : "") +
                         $" = {N(perLayer)}; × {hf.Layers} layers = {N(perLayer * hf.Layers)}");
        stdout.WriteLine(hf.KeyValueHeads == hf.Heads
            ? "  multi-head attention: every query head has its own key and value head"
            : $"  grouped-query attention: {hf.KeyValueHeads} key/value heads for {hf.Heads} query heads ({group} per group): k_proj and v_proj are 1/{group} the size of multi-head's");
        stdout.WriteLine($"  KV cache per token: 2 · L · Hkv · D = 2 · {hf.Layers} · {hf.KeyValueHeads} · {hf.HeadDim} = {N(kvBf16 / 2)} values = {Bytes(kvBf16)} in bf16" +
                         (hf.KeyValueHeads == hf.Heads ? "" : $" ({Bytes(mhaBf16)} with {hf.Heads} key/value heads, {group}× more)"));
        stdout.WriteLine(hf.TiedOutput ? "  lm_head.weight shares model.embed_tokens.weight (weight tying), so the output projection adds 0" : "  lm_head.weight is its own matrix: the vocabulary is counted twice");
        var biggest = count.Entries.MaxBy(e => e.PerCopy)!;
        var memory = LoadMemory.Estimate(total, biggest.PerCopy, biggest.Name, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
        stdout.WriteLine($"  to load: {LoadMemory.Format(memory.WeightBytes)} of float32 weights ({LoadMemory.Format(total * 2)} as bf16 on disk) + " +
                         $"{LoadMemory.Format(memory.WorkingSetBytes)} working set (twice the largest tensor, {biggest.Name.Replace(".*.", ".{l}.")}, + {LoadMemory.Format(LoadMemory.ReserveBytes)}) " +
                         $"= {LoadMemory.Format(memory.RequiredBytes)}; this machine: {LoadMemory.Format(memory.AvailableBytes)} available");
        var first = count.Largest[0];
        stdout.WriteLine($"  largest: {string.Join(" and ", count.Largest.Select(e => e.Name))}, {N(first.Count)}{(count.Largest.Count > 1 ? " each" : "")} = {Share(first.Count, total)} of the total");
        return 0;
    }

    private static string Bytes(long b) => b >= 1 << 20
        ? (b / 1048576.0).ToString("0.##", CultureInfo.InvariantCulture) + " MiB"
        : (b / 1024.0).ToString("0.##", CultureInfo.InvariantCulture) + " KiB";

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

    /// <summary>The "largest" names and the "components" array of a count, as both --json forms write them.</summary>
    private static void WriteComponents(System.Text.Json.Utf8JsonWriter w, Inspection.ParameterCount count)
    {
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
    }
}
