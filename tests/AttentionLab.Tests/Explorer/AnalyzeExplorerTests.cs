using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using AttentionLab.Interpretability;
using AttentionLab.IO;
using AttentionLab.Text;
using OpenQA.Selenium;

namespace AttentionLab.Tests.Explorer;

/// <summary>POST /api/analyze: the library's numbers, streamed progress, bad input as one 4xx line.</summary>
[Collection("explorer")]
public class AnalyzeApiTests(ExplorerFixture f)
{
    [Fact]
    public async Task Patching_streams_its_progress_then_the_library_s_sweep()
    {
        var (status, body) = await f.Post("/api/analyze", """{"model": "small", "method": "patch", "text": "ROMEO: But", "corrupt": "JULIET: Bu", "token": "a", "other": "e", "site": "z", "stream": true}""");
        Assert.Equal(200, status);
        var lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToArray();
        Assert.Equal(0, (int)lines[0]["progress"]!["done"]!);
        Assert.Equal(8, (int)lines[^2]["progress"]!["done"]!);                          // 2 layers × 4 heads
        var result = lines[^1]["result"]!;
        var model = DecoderFolder.Load(f.SmallModel, training: false);
        var tokenizer = Tokenizers.Load(f.SmallModel);
        var patching = ActivationPatching.Prepare(model, tokenizer.Encode("ROMEO: But"), tokenizer.Encode("JULIET: Bu"),
            PatchMetric.LogitDifference(tokenizer.Encode("a")[0], tokenizer.Encode("e")[0]));
        var sweep = patching.Sweep(PatchSite.HeadZ);
        for (int l = 0; l < 2; l++)
            for (int h = 0; h < 4; h++) Assert.Equal(sweep[l, h], (double)result["recovered"]![l]![h]!, 5);
        var (_, plain) = await f.Post("/api/analyze", """{"model": "small", "method": "patch", "text": "ROMEO: But", "corrupt": "JULIET: Bu", "token": "a", "other": "e"}""");
        Assert.Equal(result.ToJsonString(), JsonNode.Parse(plain)!.ToJsonString());          // without "stream": the same answer, one JSON
    }

    [Fact]
    public async Task Every_method_answers_with_its_map()
    {
        foreach (var (method, extra, rows, columns) in new[]
        {
            ("lens", "\"target\": \"a\"", 3, 6), ("attribute", "\"token\": \"a\"", 2, 5), ("ablate", "\"kind\": \"mean\"", 2, 4),
            ("induction", "\"period\": 8", 2, 4), ("sinks", "", 2, 4), ("neuron", "\"layer\": 1, \"head\": 2, \"query\": 4, \"key\": 1", 4, 8),
        })
        {
            var (status, body) = await f.Post("/api/analyze", $$"""{"model": "small", "method": "{{method}}", "text": "ROMEO:"{{(extra == "" ? "" : ", " + extra)}}}""");
            Assert.True(status == 200, $"{method}: {body}");
            var r = JsonNode.Parse(body)!;
            Assert.Equal(method, (string)r["method"]!);
            if (method == "lens") Assert.Equal(rows * columns, r["cells"]!.AsArray().Count);
            else if (method == "neuron") Assert.Equal(columns, r["products"]!.AsArray().Count);
            else
            {
                var grid = (r["values"] ?? r["induction"])!.AsArray();
                Assert.Equal(rows, grid.Count);
                Assert.Equal(columns, grid[0]!.AsArray().Count);
            }
        }
    }

    [Theory]
    [InlineData("""{"model": "small", "method": "nope", "text": "abc"}""", 400, "\"method\" must be one of")]
    [InlineData("""{"model": "small", "method": "patch", "text": "abc", "corrupt": "ab", "token": "a"}""", 400, "same number of tokens")]
    [InlineData("""{"model": "small", "method": "patch", "text": "abc", "corrupt": "abd"}""", 400, "needs \"token\"")]
    [InlineData("""{"model": "small", "method": "attribute", "text": "abc", "token": "ab"}""", 400, "is 2 tokens")]
    [InlineData("""{"model": "small", "method": "patch", "text": "abc", "corrupt": "abd", "token": "a", "site": "x"}""", 400, "\"site\" must be")]
    [InlineData("""{"model": "small", "method": "neuron", "text": "abc", "layer": 5}""", 400, "\"layer\" must be in [0, 1]")]
    [InlineData("""{"model": "small", "method": "sinks", "text": "ab"}""", 400, "at least 3 tokens")]
    [InlineData("""{"model": "runs/tiny", "method": "lens", "ids": [1, 2], "target": "a"}""", 400, "has no tokenizer")]
    public async Task Bad_input_is_a_4xx_with_one_line(string request, int expected, string message)
    {
        var (status, body) = await f.Post("/api/analyze", request.Replace("}", ", \"stream\": true}", StringComparison.Ordinal));
        Assert.Equal(expected, status);
        var error = (string)JsonNode.Parse(body)!["error"]!;
        Assert.Contains(message, error);
        Assert.DoesNotContain('\n', error);
    }
}

/// <summary>The Analyze view in headless Chromium: drawn from its URL, progress shown, exports that decode.</summary>
[Collection("explorer")]
public sealed class AnalyzeBrowserTests(ExplorerFixture f, Browser browser) : IClassFixture<Browser>
{
    private Uri Url(string query) => new(f.Address, "/?" + query);

    [BrowserFact]
    public void The_patching_view_is_reproduced_from_its_url_with_progress_and_exports()
    {
        browser.Open(Url("view=analyze&method=patch&text=ROMEO%3A+But&corrupt=JULIET%3A+Bu&token=a&other=e&site=z"));
        Assert.True(browser.Driver_.FindElement(By.Id("error")).GetAttribute("hidden") is not null, browser.Driver_.FindElement(By.Id("error")).Text);
        var map = browser.Driver_.FindElement(By.Id("analyze-map"));
        Assert.Equal("patch", map.GetAttribute("data-method"));
        var cells = browser.Driver_.FindElements(By.CssSelector("#analyze-map td"));
        Assert.Equal(2 * 4, cells.Count);
        var progress = browser.Driver_.FindElement(By.Id("analyze-progress"));
        Assert.Equal(("8", "8"), (progress.GetAttribute("data-done"), progress.GetAttribute("data-total")));
        // the cell's number is the API's, and its colour follows its sign
        var (_, body) = f.Post("/api/analyze", """{"model": "small", "method": "patch", "text": "ROMEO: But", "corrupt": "JULIET: Bu", "token": "a", "other": "e", "site": "z"}""").GetAwaiter().GetResult();
        var recovered = JsonNode.Parse(body)!["recovered"]!;
        Assert.Equal((double)recovered[1]![2]!, double.Parse(browser.Driver_.FindElement(By.CssSelector("#analyze-map td[data-row='1'][data-col='2']")).GetAttribute("data-value")!, System.Globalization.CultureInfo.InvariantCulture), 5);
        var svg = XDocument.Parse(browser.Driver_.ExecuteAsyncScript("const done = arguments[arguments.length - 1]; explorer.exportBlob('svg').then(b => b.text()).then(done);") as string ?? "");
        Assert.Equal("svg", svg.Root!.Name.LocalName);
        Assert.True(svg.Descendants().Count(e => e.Name.LocalName == "rect") >= 2);
        var png = browser.Driver_.ExecuteAsyncScript("""
            const done = arguments[arguments.length - 1];
            explorer.exportBlob('png').then(b => b.arrayBuffer()).then(a => done(Array.from(new Uint8Array(a).slice(0, 8))));
            """) as IReadOnlyCollection<object>;
        Assert.Equal(new long[] { 0x89, 'P', 'N', 'G', 13, 10, 26, 10 }, png!.Select(Convert.ToInt64));
        var json = JsonNode.Parse(browser.Driver_.ExecuteAsyncScript("const done = arguments[arguments.length - 1]; explorer.exportBlob('json').then(b => b.text()).then(done);") as string ?? "")!;
        Assert.Contains("method=patch", (string)json["url"]!);
    }

    [BrowserFact]
    public void Switching_the_method_keeps_the_url_in_step_and_bad_input_shows_one_line()
    {
        browser.Open(Url("view=analyze&method=lens&text=ROMEO&target=O"));
        Assert.Equal(3 * 5, browser.Driver_.FindElements(By.CssSelector("#analyze-map td")).Count);    // 3 stages × 5 positions
        browser.Js("const s = arguments[0]; s.value = 'ablate'; s.dispatchEvent(new Event('change'));", browser.Driver_.FindElement(By.CssSelector("#analyze-controls select")));
        browser.WaitReady();
        Assert.Contains("method=ablate", browser.Driver_.Url);
        Assert.Equal(2 * 4, browser.Driver_.FindElements(By.CssSelector("#analyze-map td")).Count);
        browser.Open(Url("view=analyze&method=attribute&text=ROMEO&token=OM"));
        var error = browser.Driver_.FindElement(By.Id("error"));
        Assert.Null(error.GetAttribute("hidden"));
        Assert.Contains("is 2 tokens", error.Text);
    }
}
