using System.Text.Json.Nodes;
using AttentionLab.Inspection;
using AttentionLab.IO;
using AttentionLab.Models;
using AttentionLab.Tests.Models;

namespace AttentionLab.Tests.Cli;

/// <summary><c>attnlab generate</c> on a Llama-family folder: the KV cache's bytes per token with grouped-query
/// attention's saving (text and --json), and generation_config.json's eos ids ending generation.</summary>
public class GenerateKvCacheAndEosTests
{
    [Fact]
    public void TheFootprintIsWhatTheCacheAllocatesAndStatesTheSaving()
    {
        // SmolLM2-135M: L 30, H 9, Hkv 3, D 64 → 2·30·3·64·4 = 46,080 B/token in float32, 138,240 with Hkv = H
        var smol = KvCacheFootprint.For(LlamaFolder.ToConfig(HfTransformerPresets.SmolLM2_135M));
        Assert.Equal((46_080L, 138_240L, 3), (smol.BytesPerToken, smol.MultiHeadBytesPerToken, smol.Saving));
        Assert.Equal("KV cache 46,080 B/token (3 of 9 heads: 3× smaller than multi-head)", smol.Describe());
        Assert.Equal("grouped-query", smol.AttentionKind);
        var gpt2 = KvCacheFootprint.For(DecoderConfig.Gpt2_124M);                // 2·12·12·64·4
        Assert.Equal("KV cache 73,728 B/token (multi-head: all 12 heads)", gpt2.Describe());
        var mqa = KvCacheFootprint.For(DecoderConfig.Tiny.WithLlamaArchitecture(keyValueHeads: 1));
        Assert.Equal(("multi-query", 4), (mqa.AttentionKind, mqa.Saving));
        var config = LlamaFolder.ReadConfig(LlamaFixtureTests.Folder("llama_tiny"));
        var cache = new KvCache(config.Layers, config.KeyValueHeads, config.HeadDim, config.ContextLength);
        Assert.Equal(cache.BytesPerToken, KvCacheFootprint.For(config).BytesPerToken);
    }

    [Fact]
    public void GenerateShowsTheCacheBytesPerTokenInTextAndJson()
    {
        var folder = LlamaFixtureTests.Folder("llama_tiny");     // L 2, H 4, Hkv 2, D 8: 2·2·2·8·4 = 256 B/token
        string text = CliHarness.Ok("generate", "--model", folder, "--ids", "5,6", "--max-tokens", "3", "--temperature", "0", "--ignore-eos");
        Assert.Equal("[KV cache 256 B/token (2 of 4 heads: 2× smaller than multi-head)]", text.TrimEnd('\n').Split('\n')[^1]);
        var json = JsonNode.Parse(CliHarness.Ok("generate", "--model", folder, "--ids", "5,6", "--max-tokens", "3", "--temperature", "0", "--ignore-eos", "--json"))!;
        var kv = json["kv_cache"]!;
        Assert.Equal((256L, 512L, 2, 4, 2), ((long)kv["bytes_per_token"]!, (long)kv["multi_head_bytes_per_token"]!,
            (int)kv["key_value_heads"]!, (int)kv["heads"]!, (int)kv["saving_vs_multi_head"]!));
        Assert.Equal("max_tokens", (string)json["stop"]!);
        string uncached = CliHarness.Ok("generate", "--model", folder, "--ids", "5,6", "--max-tokens", "3", "--temperature", "0", "--ignore-eos", "--no-kv-cache");
        Assert.Contains("not used (--no-kv-cache)", uncached);
    }

    [Fact]
    public void GenerationStopsAtTheFoldersEndOfSequenceIds()
    {
        var source = LlamaFixtureTests.Folder("llama_tiny");
        var dir = Path.Combine(Path.GetTempPath(), "attnlab-eos-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            foreach (var f in Directory.GetFiles(source)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            int[] prompt = [5, 6];
            var greedy = new TextGenerator(LlamaFolder.Load(source)).Greedy(prompt, 12);
            // the first token of the greedy run that is new at its step, past the first: generation must end right there
            int at = Enumerable.Range(1, greedy.Length - 1).First(i => !greedy[..i].Contains(greedy[i]));
            int eos = greedy[at];
            File.WriteAllText(Path.Combine(dir, GenerationConfig.FileName), $$"""{"bos_token_id": 1, "eos_token_id": [39, {{eos}}]}""");

            foreach (var cache in new[] { "--temperature", "--no-kv-cache" })     // with the cache, then without
            {
                string[] args = ["generate", "--model", dir, "--ids", "5,6", "--max-tokens", "12", "--temperature", "0", "--json"];
                if (cache == "--no-kv-cache") args = [.. args, cache];
                var json = JsonNode.Parse(CliHarness.Ok(args))!;
                var ids = json["ids"]!.AsArray().Select(i => (int)i!).ToArray();
                Assert.Equal([.. prompt, .. greedy[..(at + 1)]], ids);          // the eos id is kept, nothing after it
                Assert.Equal("eos", (string)json["stop"]!);
            }
            string text = CliHarness.Ok("generate", "--model", dir, "--ids", "5,6", "--max-tokens", "12", "--temperature", "0");
            Assert.Contains($"stopped at end-of-sequence id {eos} after {at + 1} tokens", text);
            var all = JsonNode.Parse(CliHarness.Ok("generate", "--model", dir, "--ids", "5,6", "--max-tokens", "12", "--temperature", "0", "--ignore-eos", "--json"))!;
            Assert.Equal(14, all["ids"]!.AsArray().Count);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
