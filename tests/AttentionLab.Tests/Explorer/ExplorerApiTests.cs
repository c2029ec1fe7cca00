using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AttentionLab.Tests.Cli;
using static System.FormattableString;

namespace AttentionLab.Tests.Explorer;

/// <summary>The Explorer's API against a real server on loopback.</summary>
[Collection("explorer")]
public class ExplorerApiTests(ExplorerFixture f)
{
    private const string Text = "ROMEO: But soft, what light";

    [Fact]
    public async Task Models_lists_the_given_model_and_the_runs_with_their_sizes()
    {
        var json = JsonNode.Parse(await f.Http.GetStringAsync("/api/models"))!;
        var models = json["models"]!.AsArray();
        Assert.Equal(["small", "runs/tiny"], models.Select(m => (string)m!["name"]!).ToArray());
        Assert.Equal(64, (int)models[0]!["context"]!);
        Assert.True((bool)models[0]!["tokenizer"]!);
        Assert.False((bool)models[1]!["tokenizer"]!);
        Assert.Equal(4, (int)models[1]!["heads"]!);
    }

    /// <summary>POST /api/inspect answers exactly what <c>attnlab inspect --json</c> prints, logits included.</summary>
    [Fact]
    public async Task Inspect_is_the_same_json_as_the_cli()
    {
        var cli = CliHarness.Ok("inspect", "--model", f.SmallModel, "--text", Text, "--json").Trim();
        var (status, body) = await f.Post("/api/inspect", JsonSerializer.Serialize(new { model = "small", text = Text }));
        Assert.Equal(200, status);
        Assert.Equal(cli, body);
        var ids = JsonNode.Parse(body)!["ids"]!.AsArray().Select(i => (int)i!).ToArray();
        var (_, byIds) = await f.Post("/api/inspect", JsonSerializer.Serialize(new { model = "small", ids }));
        Assert.Equal(cli, byIds);
    }

    [Fact]
    public async Task Logits_false_leaves_out_only_the_logits()
    {
        var (_, full) = await f.Post("/api/inspect", """{"model": "small", "text": "abc"}""");
        var (_, lean) = await f.Post("/api/inspect", """{"model": "small", "text": "abc", "logits": false}""");
        var a = JsonNode.Parse(full)!.AsObject();
        var b = JsonNode.Parse(lean)!.AsObject();
        Assert.True(a.ContainsKey("logits"));
        Assert.False(b.ContainsKey("logits"));
        a.Remove("logits");
        Assert.Equal(a.ToJsonString(), b.ToJsonString());
    }

    [Theory]
    [InlineData("""{"model": "nope", "text": "abc"}""", 404, "unknown model 'nope'")]
    [InlineData("""{"model": "../../etc", "text": "abc"}""", 404, "unknown model")]
    [InlineData("""{"model": "small", "text": "abc", "head": 9}""", 400, "\"head\" must be in [0, 3], got 9")]
    [InlineData("""{"model": "small", "text": "abc", "layer": -1}""", 400, "\"layer\" must be in [0, 1]")]
    [InlineData("""{"model": "small", "text": "abc", "ids": [1]}""", 400, "exactly one of")]
    [InlineData("""{"model": "small", "ids": [1, 99]}""", 400, "outside [0, 64]")]
    [InlineData("""{"model": "small", "text": "~~~"}""", 400, "")]
    [InlineData("""{"model": "runs/tiny", "text": "abc"}""", 400, "has no tokenizer")]
    [InlineData("""{"model": "small", "text": "abc", "attention": "bogus"}""", 400, "unknown attention kernel 'bogus'")]
    [InlineData("""{"model": "small", "text": """, 400, "malformed JSON")]
    [InlineData("""[1, 2]""", 400, "must be a JSON object")]
    public async Task Bad_input_is_a_4xx_with_one_line(string request, int expected, string message)
    {
        var (status, body) = await f.Post("/api/inspect", request);
        Assert.Equal(expected, status);
        var error = (string)JsonNode.Parse(body)!["error"]!;
        Assert.Contains(message, error);
        Assert.DoesNotContain('\n', error);
        Assert.DoesNotContain("   at ", body);                 // no stack trace
        Assert.DoesNotContain(".cs:line", body);
    }

    [Fact]
    public async Task Text_longer_than_the_context_and_oversized_bodies_are_refused()
    {
        var (status, body) = await f.Post("/api/inspect", JsonSerializer.Serialize(new { model = "small", text = new string('a', 65) }));
        Assert.Equal(413, status);
        Assert.Contains("reads at most 64 (its context)", body);
        var (big, _) = await f.Post("/api/inspect", JsonSerializer.Serialize(new { model = "small", text = new string('a', 100_000) }));
        Assert.Equal(413, big);                                  // over the 64 KiB body cap of this server
        using var missing = await f.Http.GetAsync("/api/nothing");
        Assert.Equal(404, (int)missing.StatusCode);
        Assert.Contains("no API endpoint", await missing.Content.ReadAsStringAsync());
    }

    /// <summary>Many readers on one model at once: every answer equals the one computed alone.</summary>
    [Fact]
    public async Task Concurrent_requests_give_the_same_answers()
    {
        string[] texts = ["abc", "ROMEO: hi", "To be, or not to be", "What light"];
        var alone = new Dictionary<string, string>();
        foreach (var t in texts) alone[t] = (await f.Post("/api/inspect", JsonSerializer.Serialize(new { model = "small", text = t, logits = false }))).Body;
        var tasks = Enumerable.Range(0, 24).Select(async k =>
        {
            var t = texts[k % texts.Length];
            var (status, body) = await f.Post("/api/inspect", JsonSerializer.Serialize(new { model = "small", text = t, logits = false }));
            Assert.Equal(200, status);
            Assert.Equal(alone[t], body);
        });
        await Task.WhenAll(tasks);
    }

    /// <summary>The page's binary maps carry the same numbers as the JSON report.</summary>
    [Fact]
    public async Task Maps_decode_to_the_reports_attention_and_roles()
    {
        var (_, json) = await f.Post("/api/inspect", """{"model": "small", "text": "ROMEO: to be", "logits": false}""");
        var report = JsonNode.Parse(json)!;
        using var response = await f.Http.PostAsync("/api/maps", new StringContent("""{"model": "small", "text": "ROMEO: to be", "layer": 1, "thumb": 64}""", Encoding.UTF8, "application/json"));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        int n = BitConverter.ToInt32(bytes, 0);
        var header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 4, n))!;
        int start = 4 + n + (4 - (4 + n) % 4) % 4;
        var floats = new float[(bytes.Length - start) / 4];
        Buffer.BlockCopy(bytes, start, floats, 0, floats.Length * 4);
        int L = 2, H = 4, T = (int)header["length"]!;
        Assert.Equal(12, T);
        Assert.Equal(T, (int)header["side"]!);                       // short input: thumbnails are the maps
        Assert.Equal("lower", (string)header["packing"]!);             // causal: rows sent up to the diagonal
        Assert.Equal(L * H * T * T + H * T * (T + 1) / 2, floats.Length);
        Assert.Equal(bytes.Length, response.Content.Headers.ContentLength);
        int packed = L * H * T * T;
        for (int h = 0; h < H; h++)
            for (int i = 0; i < T; i++)
                for (int j = 0; j < T; j++)
                {
                    float expected = (float)report["attention"]![1]![h]![i]![j]!;
                    Assert.Equal(expected, floats[((1 * H + h) * T + i) * T + j]);       // thumbnail of layer 1
                    if (j <= i) Assert.Equal(expected, floats[packed++]);              // maps of layer 1, row i: keys 0…i
                    else Assert.Equal(0f, expected);
                }
        Assert.Equal(floats.Length, packed);
        Assert.True(response.Headers.Contains("Server-Timing"));
        Assert.Equal(L * H, header["roles"]!.AsArray().Count);
    }

    [Fact]
    public async Task Long_inputs_get_max_pooled_thumbnails()
    {
        using var response = await f.Http.PostAsync("/api/maps", new StringContent(JsonSerializer.Serialize(new { model = "small", text = new string('a', 64), thumb = 16 }), Encoding.UTF8, "application/json"));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 4, BitConverter.ToInt32(bytes, 0)))!;
        Assert.Equal(16, (int)header["side"]!);
        Assert.Equal(64, (int)header["length"]!);
    }

    [Fact]
    public async Task Head_steps_follow_the_scale_and_temperature()
    {
        var (status, body) = await f.Post("/api/head", """{"model": "small", "text": "ROMEO", "layer": 1, "head": 2, "temperature": 2}""");
        Assert.Equal(200, status);
        var r = JsonNode.Parse(body)!;
        Assert.Equal(1 / Math.Sqrt(8) / 2, (double)r["scale"]!, 6);
        Assert.Null(r["masked"]![0]![1]);                           // causal: −∞ above the diagonal, sent as null
        foreach (var row in r["weights"]!.AsArray()) Assert.Equal(1.0, row!.AsArray().Sum(x => (double)x!), 5);
        var (_, unscaled) = await f.Post("/api/head", """{"model": "small", "text": "ROMEO", "layer": 1, "head": 2, "scaled": false}""");
        Assert.Equal(1.0, (double)JsonNode.Parse(unscaled)!["scale"]!);
    }

    [Fact]
    public async Task Zeroing_heads_changes_the_prediction_and_hiding_a_token_says_what_the_model_expected_there()
    {
        var (status, body) = await f.Post("/api/intervene", """{"model": "small", "text": "ROMEO: But soft", "zero": [[0, 0], [0, 1], [0, 2], [0, 3]], "mask": [3]}""");
        Assert.Equal(200, status);
        var r = JsonNode.Parse(body)!;
        Assert.NotEqual((double)r["before"]!["loss"]!, (double)r["after"]!["loss"]!);
        Assert.True((double)r["kl"]! > 0);
        var p = r["predictions"]![0]!;
        Assert.Equal(3, (int)p["position"]!);
        Assert.Equal("E", (string)p["token"]!);
        Assert.Equal(5, p["predicted"]!.AsArray().Count);
        var (none, plain) = await f.Post("/api/intervene", """{"model": "small", "text": "ROMEO: But soft"}""");
        Assert.Equal(0.0, (double)JsonNode.Parse(plain)!["kl"]!);
        var (bad, message) = await f.Post("/api/intervene", """{"model": "small", "text": "ROMEO", "zero": [[5, 0]]}""");
        Assert.Equal(400, bad);
        Assert.Contains("layer must be in [0, 1]", message);
    }

    /// <summary>One seed gives the same tokens in the page's step-by-step generation (each step a stateless request
    /// that samples the next token) as in <c>attnlab generate</c> (one <see cref="AttentionLab.Models.TextGenerator"/> run),
    /// at a temperature above 0 with top-k and top-p.</summary>
    [Theory]
    [InlineData(1.0, 0, 1.0, 5)]
    [InlineData(1.5, 12, 0.95, 77)]
    public async Task Generate_samples_the_tokens_of_the_cli_for_one_seed(double temperature, int topK, double topP, int seed)
    {
        const int Steps = 12;
        var cli = JsonNode.Parse(CliHarness.Ok("generate", "--model", f.SmallModel, "--text", "ROMEO", "--max-tokens", $"{Steps}",
            "--temperature", Invariant($"{temperature}"), "--top-k", $"{topK}", "--top-p", Invariant($"{topP}"), "--seed", $"{seed}", "--json"))!;
        var expected = cli["ids"]!.AsArray().Select(i => (int)i!).ToArray();
        int[] ids = [];
        string? session = null;
        for (int step = 0; step < Steps; step++)
        {
            var request = step == 0
                ? JsonSerializer.Serialize(new { model = "small", text = "ROMEO", temperature, top_k = topK, top_p = topP, seed })
                : JsonSerializer.Serialize(new { model = "small", ids, session, temperature, top_k = topK, top_p = topP, seed });
            var (status, body) = await f.Post("/api/generate", request);
            Assert.Equal(200, status);
            var r = JsonNode.Parse(body)!;
            session = (string)r["session"]!;
            ids = r["ids"]!.AsArray().Select(i => (int)i!).Append((int)r["sampled"]!).ToArray();
        }
        Assert.Equal(expected, ids);
        Assert.True(expected.Skip(5).Distinct().Count() > 1, "a sampled run, not a constant one");
    }

    /// <summary>Each generation step reuses the session's KV cache: only the new token is run, and its attention row
    /// equals the row a full forward pass computes.</summary>
    [Fact]
    public async Task Generation_reuses_the_cache_and_grows_the_maps_by_a_row()
    {
        var (_, first) = await f.Post("/api/generate", """{"model": "small", "text": "ROMEO", "temperature": 0}""");
        var a = JsonNode.Parse(first)!;
        Assert.Equal(0, (int)a["reused"]!);
        Assert.Equal(5, (int)a["new"]!);
        int pick = (int)a["sampled"]!;
        Assert.Equal((int)a["candidates"]![0]!["id"]!, pick);       // temperature 0: greedy
        var ids = a["ids"]!.AsArray().Select(i => (int)i!).Append(pick).ToArray();
        var (_, second) = await f.Post("/api/generate", JsonSerializer.Serialize(new { model = "small", ids, session = (string)a["session"]!, temperature = 0 }));
        var b = JsonNode.Parse(second)!;
        Assert.Equal(5, (int)b["reused"]!);
        Assert.Equal(1, (int)b["new"]!);
        var rows = b["rows"]!.AsArray().Select(x => (float)x!).ToArray();        // (L, H, 1, 6)
        Assert.Equal(2 * 4 * 6, rows.Length);
        var (_, full) = await f.Post("/api/inspect", JsonSerializer.Serialize(new { model = "small", ids, logits = false }));
        var att = JsonNode.Parse(full)!["attention"]!;
        for (int l = 0; l < 2; l++)
            for (int h = 0; h < 4; h++)
                for (int j = 0; j < 6; j++)
                    Assert.Equal((float)att[l]![h]![5]![j]!, rows[(l * 4 + h) * 6 + j], 1e-5f);
    }

    [Fact]
    public async Task Playground_composes_masks_and_compares_kernels()
    {
        var (status, body) = await f.Post("/api/playground", """{"model": "small", "text": "abcdefgh", "window": 2, "global": 1, "tile": 2, "attention": "fast", "sweep": "naive;fast"}""");
        Assert.Equal(200, status);
        var r = JsonNode.Parse(body)!;
        Assert.Equal("10000000" + "11000000" + "11100000" + "10110000", ((string)r["visible"]!)[..32]);
        Assert.True((double)r["max_error"]! < 1e-5);                // fast is exact
        Assert.Equal(2, r["sweep"]!.AsArray().Count);
        var (bad, message) = await f.Post("/api/playground", """{"model": "small", "text": "abc", "pad": [7]}""");
        Assert.Equal(400, bad);
        Assert.Contains("outside [0, 2]", message);
    }

    /// <summary>The playground's errors are <see cref="AttentionLab.Attention.ApproximationError.Compare"/> of the two maps
    /// it answers, the mean over the visible cells; the sweep's entry for the chosen kernel is the same figure.</summary>
    [Fact]
    public async Task Playground_errors_are_the_approximation_error_of_its_maps()
    {
        var (status, body) = await f.Post("/api/playground", """{"model": "small", "text": "abcdefgh", "causal": true, "attention": "performer:16", "sweep": "performer:16;naive"}""");
        Assert.Equal(200, status);
        var r = JsonNode.Parse(body)!;
        float[] Map(string name) => r[name]!.AsArray().Select(x => (float)x!).ToArray();
        int visible = (int)r["counts"]!["visible"]!;
        Assert.Equal(36, visible);                                    // causal over 8 tokens: 8·9/2
        var expected = AttentionLab.Attention.ApproximationError.Compare(Map("weights"), Map("exact_weights"), "naive", meanOver: visible);
        Assert.True(expected.MaxAbs > 1e-4, "performer:16 is an approximation");
        Assert.Equal(expected.MaxAbs, (double)r["max_error"]!, 12);
        Assert.Equal(expected.MeanAbs, (double)r["mean_error"]!, 12);
        var sweep = r["sweep"]!.AsArray();
        Assert.Equal(expected.MaxAbs, (double)sweep[0]!["max_error"]!, 12);
        Assert.Equal(expected.MeanAbs, (double)sweep[0]!["mean_error"]!, 12);
        Assert.Equal(0.0, (double)sweep[1]!["max_error"]!);            // naive against itself
    }

    [Fact]
    public async Task The_page_and_its_scripts_are_served_locally_with_a_strict_policy()
    {
        using var page = await f.Http.GetAsync("/");
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<script type=\"module\" src=\"js/main.js\">", html);
        Assert.DoesNotContain("http", html.Replace("http-equiv", ""));   // nothing from elsewhere
        Assert.Contains("default-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
        using var js = await f.Http.GetAsync("/js/views/model.js");
        Assert.Equal("text/javascript", js.Content.Headers.ContentType!.MediaType);
        using var traversal = await f.Http.GetAsync("/..%2F..%2Fetc%2Fpasswd");
        Assert.Equal(404, (int)traversal.StatusCode);
    }
}
