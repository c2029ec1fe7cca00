using System.Text.Json.Nodes;
using AttentionLab.Text.HuggingFace;

namespace AttentionLab.Diagnostics;

/// <summary>Two small tokenizer.json files the fuzzer mutates: a byte-level BPE in Qwen2's layout (Split regex, NFC,
/// ByteLevel) and a SentencePiece-style one in Llama 2's (Prepend/Replace, byte_fallback, the Llama 2 decoder chain).</summary>
internal static class HfTokenizerSeeds
{
    public static string ByteLevel()
    {
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++) vocab[ByteLevelAlphabet.Char((byte)b).ToString()] = b;
        string[][] merges = [["Ġ", "t"], ["h", "e"], ["Ġt", "he"], ["c", "a"], ["1", "2"]];
        int id = 256;
        foreach (var m in merges) vocab[m[0] + m[1]] = id++;
        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(new JsonObject { ["id"] = id, ["content"] = "<|endoftext|>", ["special"] = true, ["normalized"] = false }),
            ["normalizer"] = new JsonObject { ["type"] = "NFC" },
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = @"(?i:'s|'t)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+" }, ["behavior"] = "Isolated", ["invert"] = false },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = false }),
            },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["ignore_merges"] = true, ["vocab"] = vocab,
                ["merges"] = new JsonArray([.. merges.Select(m => (JsonNode)new JsonArray(m[0], m[1]))]),
            },
        }.ToJsonString();
    }

    public static string SentencePiece()
    {
        var vocab = new JsonObject { ["<unk>"] = 0, ["<s>"] = 1, ["</s>"] = 2 };
        for (int b = 0; b < 256; b++) vocab[$"<0x{b:X2}>"] = 3 + b;
        int id = 259;
        foreach (var c in "▁thecaf") vocab[c.ToString()] = id++;
        string[] merges = ["▁ t", "h e", "▁t he"];
        foreach (var m in merges) vocab[m.Replace(" ", "")] = id++;
        static JsonObject Special(int i, string s) => new() { ["id"] = i, ["content"] = s, ["special"] = true, ["normalized"] = false };
        return new JsonObject
        {
            ["added_tokens"] = new JsonArray(Special(0, "<unk>"), Special(1, "<s>"), Special(2, "</s>")),
            ["normalizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["normalizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Prepend", ["prepend"] = "▁" },
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = "▁" }),
            },
            ["pre_tokenizer"] = null,
            ["decoder"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["decoders"] = new JsonArray(
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = "▁" }, ["content"] = " " },
                    new JsonObject { ["type"] = "ByteFallback" }, new JsonObject { ["type"] = "Fuse" },
                    new JsonObject { ["type"] = "Strip", ["content"] = " ", ["start"] = 1, ["stop"] = 0 }),
            },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["unk_token"] = "<unk>", ["fuse_unk"] = true, ["byte_fallback"] = true, ["vocab"] = vocab,
                ["merges"] = new JsonArray([.. merges.Select(m => (JsonNode)m)]),
            },
        }.ToJsonString();
    }
}
