using System.Text.Json.Nodes;
using OpenQA.Selenium;

namespace AttentionLab.Tests.Explorer;

/// <summary>End to end in a real headless Chromium over seq2seq, BERT and ViT models: a link with group=cross draws
/// the cross-attention maps as rectangles (decoder queries × encoder keys), every view a kind offers draws from its
/// URL alone, and the views it does not offer say why in one line.</summary>
[Collection("explorer-encoders")]
public sealed class EncoderExplorerBrowserTests(EncoderExplorerFixture f, Browser browser) : IClassFixture<Browser>
{
    private readonly Browser _browser = browser;
    private Uri Url(string query) => new(f.Address, "/?" + query);

    /// <summary>Dark pixels (the map's ink), and the canvas's size in pixels.</summary>
    private const string Ink = """
        const c = arguments[0], d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 200) n++;
        return [n, c.width, c.height];
        """;

    private void NoError(string what) =>
        Assert.True(_browser.Driver_.FindElement(By.Id("error")).GetAttribute("hidden") is not null, $"{what}: {_browser.Driver_.FindElement(By.Id("error")).Text}");

    [BrowserFact]
    public async Task A_cross_attention_link_draws_decoder_rows_against_encoder_columns()
    {
        // a 10-character prefix fills the decoder: 11 query rows (<s> + 10) over the 6 source characters
        var (_, body) = await f.Post("/api/inspect", """{"model": "reverse", "text": "abcdef", "target": "fedcbafedc"}""");
        var cross = JsonNode.Parse(body)!["attention"]!.AsArray().Single(m => (string)m!["kind"]! == "cross")!;
        int rows = cross["query_labels"]!.AsArray().Count, cols = cross["key_labels"]!.AsArray().Count;
        Assert.Equal((11, 6), (rows, cols));

        _browser.Open(Url("model=reverse&text=abcdef&target=fedcbafedc&group=cross"));
        NoError("model view");
        var tiles = _browser.Driver_.FindElements(By.CssSelector("#model-grid canvas"));
        Assert.Equal(1 * 2, tiles.Count);                                // 1 decoder layer × 2 heads
        foreach (var tile in tiles)
        {
            Assert.Equal("cross", tile.GetAttribute("data-group"));
            Assert.Equal(rows.ToString(), tile.GetAttribute("data-rows"));
            Assert.Equal(cols.ToString(), tile.GetAttribute("data-cols"));
            var ink = (IReadOnlyList<object>)_browser.Js(Ink, tile)!;
            long dark = Convert.ToInt64(ink[0]), width = Convert.ToInt64(ink[1]), height = Convert.ToInt64(ink[2]);
            Assert.True(dark > 50, $"only {dark} dark pixels");
            Assert.Equal((double)cols / rows, (double)width / height, 0.05);   // a rectangle: taller than wide
        }
        Assert.Contains("group=cross", _browser.Driver_.Url);
        Assert.Equal("cross", _browser.Js("return document.querySelector('#group-controls select').value"));

        var svg = System.Xml.Linq.XDocument.Parse(_browser.Driver_.ExecuteAsyncScript(
            "const done = arguments[arguments.length - 1]; explorer.exportBlob('svg').then(b => b.text()).then(done);") as string ?? "");
        Assert.Equal(2, svg.Descendants().Count(e => e.Name.LocalName == "g"));            // one group of cells per tile
        Assert.Contains("cross-attention", svg.Root!.Value);
        var exported = JsonNode.Parse(_browser.Driver_.ExecuteAsyncScript(
            "const done = arguments[arguments.length - 1]; explorer.exportBlob('json').then(b => b.text()).then(done);") as string ?? "")!;
        Assert.Equal(("seq2seq", "cross"), ((string?)exported["model_type"], (string?)exported["group"]));
        Assert.Equal(3, _browser.Driver_.FindElements(By.CssSelector("#group-controls select option")).Count);   // encoder, decoder, cross

        tiles[1].Click();                                                  // open head 1 in the head view
        _browser.WaitReady();
        Assert.Contains("view=head", _browser.Driver_.Url);
        Assert.Contains("group=cross", _browser.Driver_.Url);
        var map = _browser.Driver_.FindElement(By.Id("head-map"));
        Assert.Equal(rows.ToString(), map.GetAttribute("data-rows"));
        Assert.Equal(cols.ToString(), map.GetAttribute("data-cols"));
        Assert.True(Convert.ToInt64(((IReadOnlyList<object>)_browser.Js(Ink, _browser.Driver_.FindElement(By.Id("lines")))!)[0]) > 50);
        Assert.Contains("decoder queries (left) attend to encoder keys (right)", _browser.Driver_.FindElement(By.TagName("main")).Text);
    }

    /// <summary>Heads at a glance draws the scores the API computed (EncoderHeadRoles), not its own: each cell of a
    /// head's row is the API's value to the 2 decimals shown (|shown − API| ≤ 0.005), and a cross-attention cell's
    /// shift is the API's.</summary>
    [BrowserFact]
    public async Task Heads_at_a_glance_shows_the_scores_of_the_api()
    {
        var (_, body) = await f.Post("/api/inspect", """{"model": "reverse", "text": "abcdef", "target": "fedcbafedc"}""");
        foreach (var (group, kind, layer, head, roles) in new[]
        {
            ("cross", "cross", 0, 1, new[] { "diagonal", "anti_diagonal" }),
            ("encoder", "encoder_self", 1, 0, new[] { "previous", "next", "self", "first" }),
        })
        {
            var api = JsonNode.Parse(body)!["attention"]!.AsArray()
                .Single(m => (string)m!["kind"]! == kind && (int)m["layer"]! == layer)!["roles"]!.AsArray()[head]!;
            _browser.Open(Url($"model=reverse&text=abcdef&target=fedcbafedc&group={group}&view=roles"));
            NoError($"roles, {group}");
            var table = _browser.Driver_.FindElement(By.Id("roles-table"));
            Assert.Equal(kind, table.GetAttribute("data-group"));
            var row = table.FindElements(By.TagName("tr")).Single(r => r.FindElement(By.XPath("./*[1]")).Text == $"L{layer} H{head}");
            var cells = row.FindElements(By.TagName("td")).Select(c => c.Text).ToArray();
            Assert.Equal(2 + roles.Length, cells.Length);                  // entropy, row max, then one per role
            string[] keys = ["entropy", "row_max", .. roles];
            for (int c = 0; c < keys.Length; c++)
            {
                var shown = System.Text.RegularExpressions.Regex.Match(cells[c], @"^(-?\d+\.\d\d)(?: \(([+−])(\d)\))?$");
                Assert.True(shown.Success, $"{keys[c]}: '{cells[c]}'");
                Assert.Equal((double)api[keys[c]]!, double.Parse(shown.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 0.005 + 1e-9);
                if (api[keys[c] + "_shift"] is JsonNode shift)
                    Assert.Equal((int)shift, (shown.Groups[2].Value == "−" ? -1 : 1) * int.Parse(shown.Groups[3].Value));
                else Assert.False(shown.Groups[2].Success, $"{keys[c]} has no shift");
            }
        }
    }

    [BrowserFact]
    public void Every_offered_view_draws_from_its_url_alone()
    {
        foreach (var query in new[]
        {
            "model=reverse&text=abc&group=encoder", "model=reverse&text=abc&group=decoder&view=head", "model=reverse&text=abc&group=cross&view=roles",
            "model=runs/bert&text=To+b%5BMASK%5D%2C+or+not", "model=runs/bert&view=head&heads=0,1&avg=1", "model=runs/bert&view=roles",
            "model=runs/vit&image=2", "model=runs/vit&text=class%3Aring&view=head", "model=runs/vit&view=roles",
        })
        {
            _browser.Open(Url(query));
            NoError(query);
            Assert.True(_browser.Driver_.FindElements(By.CssSelector("main canvas, main table")).Count > 0, query);
        }
        _browser.Open(Url("model=runs/bert&text=ab%5BMASK%5Dd"));
        Assert.Equal(2, _browser.Driver_.FindElements(By.CssSelector("#predictions tr")).Count);   // header + the one blank
        _browser.Open(Url("model=runs/vit&image=2"));
        var image = (IReadOnlyList<object>)_browser.Js("""
            const c = document.getElementById('vit-image'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let red = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > d[i + 1] + 20) red++;
            return [red, c.width];
            """)!;
        Assert.True(Convert.ToInt64(image[0]) > 100, "the [CLS] attention is drawn on the image in red");
    }

    [BrowserFact]
    public void Views_a_kind_does_not_offer_say_why_in_one_line()
    {
        _browser.Open(Url("model=runs/vit&view=generate"));
        NoError("generate on a ViT");
        var reason = _browser.Driver_.FindElement(By.Id("unavailable")).Text;
        Assert.Contains("Not available for a vision transformer", reason);
        Assert.DoesNotContain("\n", reason);
        Assert.NotNull(_browser.Driver_.FindElement(By.CssSelector("#tabs [data-view='generate']")).GetAttribute("disabled"));
        Assert.Null(_browser.Driver_.FindElement(By.CssSelector("#tabs [data-view='model']")).GetAttribute("disabled"));
    }

    [BrowserFact]
    public void A_source_outside_the_alphabet_shows_a_one_line_message()
    {
        _browser.Open(Url("model=reverse&text=ABC&group=cross"));
        var error = _browser.Driver_.FindElement(By.Id("error"));
        Assert.Null(error.GetAttribute("hidden"));
        Assert.Contains("not in the reverse model's alphabet", error.Text);
        Assert.DoesNotContain("\n", error.Text);
    }
}
