using System.Text.Json.Nodes;
using AttentionLab.Inspection;
using AttentionLab.Models;
using AttentionLab.Text;

namespace AttentionLab.Cli.Commands;

/// <summary><c>attnlab generate</c>: continues a prompt with a saved model, streaming tokens as they come.</summary>
internal static class GenerateCommand
{
    public const string Summary = "continue a prompt with a saved model (KV cache, temperature/top-k/top-p)";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var a = new Args(args, "no-kv-cache", "ignore-eos");
        if (a.Help) { Usage(stdout); return 0; }
        var dir = a.Require("model");
        string? prompt = a.String("prompt") ?? a.String("text"), ids = a.String("ids");
        string? attention = a.String("attention");
        int maxTokens = a.Int("max-tokens", 200, 0, 1_000_000);
        double temperature = a.Double("temperature", 1.0, 0, 100);
        int topK = a.Int("top-k", 0, 0);
        double topP = a.Double("top-p", 1.0, 0, 1);
        if (a.Has("top-p") && topP <= 0) throw new CliError("--top-p must be in (0, 1]");
        ulong seed = (ulong)a.Int("seed", 1337, 0);
        bool noCache = a.Flag("no-kv-cache"), ignoreEos = a.Flag("ignore-eos"), json = a.Json;
        string device = CommandSupport.Device(a.String("device"));
        string? dtype = a.String("dtype");
        a.EnsureAllUsed();

        var saved = SavedModel.Open(dir, attention, dtype, device);
        var computeDevice = CommandSupport.OpenDevice(device);
        saved.Model.Device = computeDevice;                      // the uncached path's GEMMs (--no-kv-cache)
        var cached = noCache || device == "cpu" ? null : computeDevice.CachedDecoder(saved.Model);   // the CPU: the generator's own cache
        using var release = cached as IDisposable;
        var generator = cached is null ? saved.Generator : new TextGenerator(saved.Model, cached);
        var input = saved.Input(prompt, ids, "prompt");
        int context = saved.Model.Config.ContextLength;
        if (input.Length > context)
            stderr.WriteLine($"attnlab generate: warning: the prompt has {input.Length} tokens; the model sees only the last {context} (its context)");
        var sampling = new SamplingOptions(temperature, topK, topP, seed);
        var generated = new List<int>();
        var tokenizer = saved.Tokenizer;
        StreamingDecoder? decoder = json || tokenizer is null ? null : new StreamingDecoder(tokenizer);
        if (!json)
        {
            // the prompt as typed: without the bos token a Hugging Face tokenizer put in front
            if (tokenizer is not null) stdout.Write(tokenizer.Decode(tokenizer is HfTokenizer { AddBosToken: true } hf && input.Length > 0 && input[0] == hf.BosTokenId ? input.AsSpan(1) : input));
            else stdout.Write(string.Join(",", input));
            stdout.Flush();
        }
        IReadOnlyList<int> stopIds = ignoreEos ? [] : saved.Stop.EosTokenIds;
        foreach (int id in generator.Generate(input, maxTokens, sampling, useKvCache: !noCache, endOfSequenceIds: stopIds))
        {
            generated.Add(id);
            if (json || stopIds.Contains(id)) continue;                        // the end-of-sequence token is not text
            stdout.Write(decoder is not null ? decoder.Push(id) : "," + id);
            stdout.Flush();
        }
        int? stoppedAt = generated.Count > 0 && stopIds.Contains(generated[^1]) ? generated[^1] : null;
        var kv = KvCacheFootprint.For(saved.Model.Config);
        if (json)
        {
            var all = input.Concat(generated).ToArray();
            stdout.WriteLine(new JsonObject
            {
                ["ids"] = new JsonArray(all.Select(i => (JsonNode)i).ToArray()),
                ["text"] = tokenizer?.Decode(all),
                ["stop"] = stoppedAt is null ? "max_tokens" : "eos",
                ["eos_token_ids"] = new JsonArray(stopIds.Select(i => (JsonNode)i).ToArray()),
                ["kv_cache"] = new JsonObject
                {
                    ["bytes_per_token"] = kv.BytesPerToken, ["multi_head_bytes_per_token"] = kv.MultiHeadBytesPerToken,
                    ["heads"] = kv.Heads, ["key_value_heads"] = kv.KeyValueHeads, ["saving_vs_multi_head"] = kv.Saving,
                    ["attention"] = kv.AttentionKind,
                },
            }.ToJsonString());
        }
        else
        {
            if (decoder is not null) stdout.Write(decoder.Flush());
            stdout.WriteLine();
            // one line after the text (--json for scripts): what the cache cost, and why generation stopped
            string stop = stoppedAt is int e ? $"; stopped at end-of-sequence id {e} after {generated.Count} tokens" : "";
            stdout.WriteLine($"[{kv.Describe()}{(noCache ? ", not used (--no-kv-cache)" : "")}{stop}]");
        }
        return 0;
    }

    private static void Usage(TextWriter w)
    {
        w.WriteLine("usage: attnlab generate --model DIR (--prompt TEXT | --ids 1,2,3) [--max-tokens N] [--temperature T] [--top-k K]");
        w.WriteLine("                        [--top-p P] [--seed S] [--no-kv-cache] [--ignore-eos] [--attention NAME] [--dtype f32|bf16|f16|q8_0] [--json]");
        w.WriteLine();
        w.WriteLine("Continues the prompt token by token, printing each as it is chosen. --temperature 0 is greedy (argmax);");
        w.WriteLine("otherwise logits/T → top-k → top-p → a seeded draw. The model sees its last `context` tokens: a longer prompt");
        w.WriteLine("is cropped (with a warning) and the window slides as text grows. The KV cache (default) gives exactly the");
        w.WriteLine("tokens of --no-kv-cache, faster. --json prints {\"ids\": [prompt and new ids], \"text\": \"...\"}. Defaults:");
        w.WriteLine("200 tokens, temperature 1, no top-k/top-p, seed 1337. --attention NAME runs another kernel than the one the");
        w.WriteLine("model was saved with (any exact kernel gives the same model); --text is the same as --prompt. A Hugging Face");
        w.WriteLine("folder's tokenizer.json tokenizes the prompt (with its bos token where it asks for one). Its generation_config.json");
        w.WriteLine("(or config.json) eos_token_id ends generation at the first end-of-sequence token (kept in --json's ids, not");
        w.WriteLine("printed as text); --ignore-eos runs the full --max-tokens. After the text, one line in [ ] gives the KV cache's");
        w.WriteLine("bytes per token (2·L·Hkv·D·4) and, for grouped-query or multi-query attention, how many times smaller it is than");
        w.WriteLine("multi-head; --json adds \"kv_cache\" and \"stop\" (eos or max_tokens).");
        w.WriteLine("--dtype f32|bf16|f16|q8_0 holds the block linears and the token table / head in that width (default: the folder's own:");
        w.WriteLine("a BF16 folder stays BF16, loaded without a float32 copy); activations, the KV cache and softmax stay float32 (docs/inference-dtypes.md).");
        w.WriteLine(CommandSupport.DeviceHelp + "; cuda keeps the weights, the KV cache and attention on the GPU");
        w.WriteLine("                    (one token id goes over and one row of logits comes back per token; --no-kv-cache runs only the");
        w.WriteLine("                    matrix products there)");
    }
}
