using System.Text.Json;
using System.Text.Json.Nodes;
using AttentionLab.Tests.Cli;

namespace AttentionLab.Tests.Explorer;

/// <summary>The Explorer's API over seq2seq, BERT and ViT models, against a real server on loopback: each kind is
/// listed with its kind and attention groups, and POST /api/inspect answers byte for byte what
/// <c>attnlab inspect --model DIR --json</c> prints for the same input.</summary>
[Collection("explorer-encoders")]
public class EncoderExplorerApiTests(EncoderExplorerFixture f)
{
    private static JsonArray Maps(string body, string kind) =>
        new(JsonNode.Parse(body)!["attention"]!.AsArray().Where(m => (string)m!["kind"]! == kind).Select(m => m!.DeepClone()).ToArray());

    [Fact]
    public async Task Models_lists_every_kind_with_its_groups()
    {
        var models = JsonNode.Parse(await f.Http.GetStringAsync("/api/models"))!["models"]!.AsArray();
        var kinds = models.ToDictionary(m => (string)m!["name"]!, m => (string)m!["kind"]!);
        Assert.Equal(new Dictionary<string, string> { ["reverse"] = "seq2seq", ["runs/vit"] = "vit", ["runs/gpt2"] = "gpt2", ["runs/bert"] = "bert" }, kinds);
        var s2s = models.Single(m => (string)m!["name"]! == "reverse")!;
        Assert.Equal(["encoder_self", "decoder_self", "cross"], s2s["groups"]!.AsArray().Select(g => (string)g!).ToArray());
        Assert.Equal(10, (int)s2s["context"]!);
        Assert.Equal(2, (int)s2s["heads"]!);
        Assert.Equal(2, (int)s2s["encoder_layers"]!);
        var vit = models.Single(m => (string)m!["name"]! == "runs/vit")!;
        Assert.Equal(17, (int)vit["context"]!);                          // [CLS] + 4×4 patches
        Assert.Equal(6, vit["classes"]!.AsArray().Count);
        Assert.Equal(["encoder_self"], models.Single(m => (string)m!["name"]! == "runs/bert")!["groups"]!.AsArray().Select(g => (string)g!).ToArray());
    }

    [Theory]
    [InlineData("reverse", "abcdef", null)]
    [InlineData("reverse", "abcdef", "fed")]
    [InlineData("reverse", null, null)]
    [InlineData("runs/bert", "To be, or [MASK]ot to b_", null)]
    [InlineData("runs/bert", null, null)]
    [InlineData("runs/vit", "index:3", null)]
    [InlineData("runs/vit", "class:ring", null)]
    public async Task Inspect_is_the_same_json_as_the_cli(string model, string? text, string? target)
    {
        var dir = model switch { "reverse" => f.Seq2Seq, "runs/bert" => f.Bert, _ => f.Vit };
        var args = new List<string> { "inspect", "--model", dir, "--json" };
        if (text is not null) args.AddRange(["--text", text]);
        if (target is not null) args.AddRange(["--target", target]);
        var cli = CliHarness.Ok([.. args]).Trim();
        var (status, body) = await f.Post("/api/inspect", JsonSerializer.Serialize(new { model, text, target }));
        Assert.Equal(200, status);
        Assert.Equal(cli, body);
    }

    /// <summary>Every kind's report has the same "groups" (name, kind, layers, heads, labels), each naming maps that
    /// are in "attention": a seq2seq encoder, decoder and cross; a BERT or ViT one encoder group; a GPT-2 one decoder
    /// group over its (L, H, T, T) "attention".</summary>
    [Theory]
    [InlineData("reverse", """{"model": "reverse", "text": "abcdef", "target": "fed"}""", "encoder,decoder,cross")]
    [InlineData("runs/bert", """{"model": "runs/bert", "text": "To b_"}""", "encoder")]
    [InlineData("runs/vit", """{"model": "runs/vit", "text": "index:1"}""", "encoder")]
    [InlineData("runs/gpt2", """{"model": "runs/gpt2", "ids": [1, 2, 3], "logits": false}""", "decoder")]
    public async Task Every_kind_reports_its_groups_of_maps(string model, string request, string groups)
    {
        var (status, body) = await f.Post("/api/inspect", request);
        Assert.Equal(200, status);
        var json = JsonNode.Parse(body)!;
        var list = json["groups"]!.AsArray();
        Assert.Equal(groups, string.Join(',', list.Select(g => (string)g!["name"]!)));
        Assert.NotNull((string?)json["model_type"]);
        Assert.NotNull((string?)json["input"]);
        foreach (var g in list)
        {
            int layers = (int)g!["layers"]!, heads = (int)g["heads"]!, rows = g["query_labels"]!.AsArray().Count, cols = g["key_labels"]!.AsArray().Count;
            if (model == "runs/gpt2")
            {
                var attention = json["attention"]!.AsArray();
                Assert.Equal((layers, heads, rows, cols), (attention.Count, attention[0]!.AsArray().Count, attention[0]![0]!.AsArray().Count, attention[0]![0]![0]!.AsArray().Count));
                continue;
            }
            var maps = Maps(body, (string)g["kind"]!);
            Assert.Equal(layers, maps.Count);
            Assert.All(maps, m => Assert.Equal((heads, rows, cols), ((int)m!["heads"]!, m["query_labels"]!.AsArray().Count, m["key_labels"]!.AsArray().Count)));
        }
    }

    /// <summary>Cross-attention is (Tq, Tk) = (decoder positions, source characters): &lt;s&gt; plus the answer against
    /// the source, every row a distribution (sums to 1 within 1e-4, the 5-decimal rounding of the wire format).</summary>
    [Fact]
    public async Task Seq2seq_cross_attention_is_decoder_queries_over_encoder_keys()
    {
        var (status, body) = await f.Post("/api/inspect", """{"model": "reverse", "text": "abcdef", "target": "fed"}""");
        Assert.Equal(200, status);
        var json = JsonNode.Parse(body)!;
        var output = (string)json["output"]!;
        Assert.StartsWith("fed", output);
        Assert.Equal("fed", (string)json["extra"]!["prefix"]!);
        var cross = Maps(body, "cross");
        Assert.Single(cross);                                            // one decoder layer
        Assert.Equal(["<s>", .. output.Select(c => c.ToString())], cross[0]!["query_labels"]!.AsArray().Select(l => (string)l!).ToArray());
        Assert.Equal(["a", "b", "c", "d", "e", "f"], cross[0]!["key_labels"]!.AsArray().Select(l => (string)l!).ToArray());
        var heads = cross[0]!["weights"]!.AsArray();
        Assert.Equal(2, heads.Count);
        foreach (var row in heads.SelectMany(h => h!.AsArray()))
        {
            Assert.Equal(6, row!.AsArray().Count);
            Assert.Equal(1.0, row.AsArray().Sum(v => (double)v!), 1e-4);
        }
        Assert.Equal(2, Maps(body, "encoder_self").Count);
        var self = Maps(body, "decoder_self")[0]!["weights"]![0]!.AsArray();
        Assert.Equal(0.0, (double)self[0]![1]!);                          // causal: <s> never sees the next position
    }

    [Fact]
    public async Task Bert_shows_its_predictions_at_each_mask()
    {
        var (status, body) = await f.Post("/api/inspect", """{"model": "runs/bert", "text": "ab[MASK]d_"}""");
        Assert.Equal(200, status);
        var json = JsonNode.Parse(body)!;
        var labels = Maps(body, "encoder_self")[0]!["query_labels"]!.AsArray().Select(l => (string)l!).ToArray();
        Assert.Equal(["a", "b", "[MASK]", "d", "[MASK]"], labels);
        var predictions = json["extra"]!["predictions"]!.AsArray();
        Assert.Equal([2, 4], predictions.Select(p => (int)p!["position"]!).ToArray());
        var output = (string)json["output"]!;
        Assert.Equal(5, output.Length);
        foreach (var p in predictions)
        {
            var top = p!["top"]!.AsArray();
            Assert.Equal(5, top.Count);
            Assert.Equal((string)top[0]!["token"]!, output[(int)p["position"]!].ToString());   // the filled-in text uses the top guess
            var probabilities = top.Select(t => (double)t!["probability"]!).ToArray();
            Assert.Equal(probabilities.OrderByDescending(x => x), probabilities);
        }
    }

    [Fact]
    public async Task Vit_takes_an_image_index_and_returns_its_pixels()
    {
        var (status, body) = await f.Post("/api/inspect", """{"model": "runs/vit", "image": 3}""");
        Assert.Equal(200, status);
        var (_, same) = await f.Post("/api/inspect", """{"model": "runs/vit", "text": "index:3"}""");
        Assert.Equal(same, body);
        var json = JsonNode.Parse(body)!;
        Assert.Equal(256, json["extra"]!["pixels"]!.AsArray().Count);
        var map = Maps(body, "encoder_self")[0]!;
        Assert.Equal("[CLS]", (string)map["query_labels"]![0]!);
        Assert.Equal(17, map["key_labels"]!.AsArray().Count);
    }

    [Theory]
    [InlineData("""{"model": "reverse", "text": "ABC"}""", 400, "not in the reverse model's alphabet")]
    [InlineData("""{"model": "reverse", "text": "abcdefghijklm"}""", 413, "reads at most 10")]
    [InlineData("""{"model": "reverse", "text": "abc", "target": "Q"}""", 400, "not in the model's alphabet")]
    [InlineData("""{"model": "reverse", "text": "abc", "target": "abcdefghijklmnop"}""", 400, "writes at most 10")]
    [InlineData("""{"model": "reverse", "ids": [1, 2]}""", 400, "\"ids\" is for GPT-2 models")]
    [InlineData("""{"model": "reverse", "text": "abc", "layer": 2}""", 400, "\"layer\" must be in [0, 1]")]
    [InlineData("""{"model": "reverse", "text": "abc", "attention": "nonsense"}""", 400, "")]
    [InlineData("""{"model": "runs/bert", "text": "abc", "target": "x"}""", 400, "a target prefix is for seq2seq models")]
    [InlineData("""{"model": "runs/bert", "text": "~~~"}""", 400, "not in the model's")]
    [InlineData("""{"model": "runs/bert", "text": "" }""", 400, "the text is empty")]
    [InlineData("""{"model": "runs/vit", "image": 999}""", 400, "\"image\" must be in [0, 255]")]
    [InlineData("""{"model": "runs/vit", "text": "index:x"}""", 400, "'index:N'")]
    [InlineData("""{"model": "runs/vit", "text": "class:hexagon"}""", 400, "unknown class 'hexagon'")]
    [InlineData("""{"model": "runs/bert", "image": 1}""", 400, "\"image\" is for ViT models")]
    public async Task Bad_input_is_a_4xx_with_one_line(string request, int expected, string message)
    {
        var (status, body) = await f.Post("/api/inspect", request);
        Assert.Equal(expected, status);
        var error = (string)JsonNode.Parse(body)!["error"]!;
        Assert.Contains(message, error);
        Assert.DoesNotContain("\n", error);
        Assert.DoesNotContain("   at ", error);
    }

    /// <summary>The GPT-2-only endpoints say so in one line instead of failing on another kind of model.</summary>
    [Theory]
    [InlineData("/api/maps")]
    [InlineData("/api/head")]
    [InlineData("/api/intervene")]
    [InlineData("/api/generate")]
    public async Task Gpt2_only_views_refuse_other_kinds_in_one_line(string path)
    {
        var (status, body) = await f.Post(path, """{"model": "runs/vit", "text": "index:0"}""");
        Assert.Equal(400, status);
        Assert.Contains("model 'runs/vit' is a vit model; this view needs a GPT-2 or Llama-family model", (string)JsonNode.Parse(body)!["error"]!);
    }

    /// <summary>The CLI's --target is the same one-line refusal on a GPT-2 model, and exit code 2.</summary>
    [Fact]
    public void Cli_target_prefix_is_for_seq2seq_models_only()
    {
        var r = CliHarness.Run("inspect", "--model", Path.Combine(f.Runs, "gpt2"), "--ids", "1,2", "--target", "x");
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StderrLines);
        Assert.Contains("--target is for seq2seq models", r.Stderr);
        var bert = CliHarness.Run("inspect", "--model", f.Bert, "--text", "ab_", "--target", "x");
        Assert.Equal(2, bert.ExitCode);
        Assert.Contains("a target prefix is for seq2seq models", bert.Stderr);
    }

    [Fact]
    public async Task Gpt2_models_still_inspect_as_before()
    {
        var (status, body) = await f.Post("/api/inspect", """{"model": "runs/gpt2", "ids": [1, 2, 3], "logits": false}""");
        Assert.Equal(200, status);
        Assert.Equal(3, JsonNode.Parse(body)!["tokens"]!.AsArray().Count);
    }
}
