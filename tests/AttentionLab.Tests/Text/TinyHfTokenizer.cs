using System.Text.Json.Nodes;

namespace AttentionLab.Tests.Text;

/// <summary>A SentencePiece-style tokenizer.json of 33 ids (Llama 2's normalizer and decoder; <c>&lt;s&gt;</c> bos
/// added per tokenizer_config.json), small enough for the tiny Llama fixture's 40 embedding rows: what the tests put
/// beside that fixture to make it a folder that reads text.</summary>
public static class TinyHfTokenizer
{
    /// <summary>Writes tokenizer.json and tokenizer_config.json into <paramref name="directory"/>.</summary>
    public static void WriteSentencePiece(string directory)
    {
        var vocab = new JsonObject { ["<unk>"] = 0, ["<s>"] = 1, ["</s>"] = 2, ["▁"] = 3 };
        for (char c = 'a'; c <= 'z'; c++) vocab[c.ToString()] = vocab.Count;
        vocab["▁t"] = vocab.Count; vocab["he"] = vocab.Count; vocab["▁the"] = vocab.Count;     // 33 ids
        static JsonObject Special(int i, string s) => new() { ["id"] = i, ["content"] = s, ["special"] = true, ["normalized"] = false };
        var tokenizer = new JsonObject
        {
            ["added_tokens"] = new JsonArray(Special(0, "<unk>"), Special(1, "<s>"), Special(2, "</s>")),
            ["normalizer"] = JsonNode.Parse("""{"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}"""),
            ["decoder"] = JsonNode.Parse("""{"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}"""),
            ["model"] = new JsonObject { ["type"] = "BPE", ["unk_token"] = "<unk>", ["vocab"] = vocab, ["merges"] = new JsonArray("▁ t", "h e", "▁t he") },
        };
        File.WriteAllText(Path.Combine(directory, "tokenizer.json"), tokenizer.ToJsonString());
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), """{"bos_token": "<s>", "eos_token": "</s>", "add_bos_token": true}""");
    }
}
