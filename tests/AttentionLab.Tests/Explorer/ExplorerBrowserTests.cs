using System.IO.Compression;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using OpenQA.Selenium;

namespace AttentionLab.Tests.Explorer;

/// <summary>End to end in a real headless Chromium: type a sentence, see the maps drawn, switch a head, zero a head,
/// export a PNG that decodes, and see a bad input's message.</summary>
[Collection("explorer")]
public sealed class ExplorerBrowserTests(ExplorerFixture f, Browser browser) : IClassFixture<Browser>
{
    private readonly Browser _browser = browser;
    private Uri Url(string query) => new(f.Address, "/?" + query);

    /// <summary>Counts the pixels of a canvas darker than the background (the heatmap's ink), and reads two pixels.</summary>
    private const string Ink = """
        const c = arguments[0], d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 200) n++;
        const at = (x, y) => d[(y * c.width + x) * 4];
        return [n, at(c.width - 3, 2), at(2, 2)];
        """;

    [BrowserFact]
    public void Typing_a_sentence_draws_every_heads_map()
    {
        _browser.Open(Url(""));
        var box = _browser.Driver_.FindElement(By.Id("text"));
        box.Clear();
        box.SendKeys("To be, or not to be" + Keys.Enter);
        _browser.WaitReady();
        Assert.Contains("text=To+be", _browser.Driver_.Url);
        var tiles = _browser.Driver_.FindElements(By.CssSelector("#model-grid canvas"));
        Assert.Equal(2 * 4, tiles.Count);                                 // 2 layers × 4 heads
        var ink = (IReadOnlyList<object>)_browser.Js(Ink, tiles[0])!;
        Assert.True(Convert.ToInt64(ink[0]) > 50, $"only {ink[0]} dark pixels");
        Assert.True(Convert.ToInt64(ink[1]) > 245, "the top-right corner (a future key) must stay white under the causal mask");
        Assert.True(Convert.ToInt64(ink[2]) < 100, "query 0 attends only to itself: the top-left cell is dark");
        Assert.True(_browser.Driver_.FindElement(By.Id("error")).GetAttribute("hidden") is not null);
    }

    [BrowserFact]
    public void Clicking_a_tile_opens_that_head_and_the_chips_overlay_heads()
    {
        _browser.Open(Url("text=ROMEO%3A+But+soft"));
        _browser.Driver_.FindElement(By.CssSelector("#model-grid canvas[data-layer='1'][data-head='2']")).Click();
        _browser.WaitReady();
        Assert.Contains("view=head", _browser.Driver_.Url);
        Assert.Contains("layer=1", _browser.Driver_.Url);
        Assert.Contains("head=2", _browser.Driver_.Url);
        Assert.Contains("Layer 1, head 2", _browser.Driver_.FindElement(By.TagName("main")).Text);
        var lines = _browser.Driver_.FindElement(By.Id("lines"));
        Assert.True(Convert.ToInt64(((IReadOnlyList<object>)_browser.Js(Ink, lines)!)[0]) > 50);
        _browser.Driver_.FindElement(By.CssSelector("#head-chips [data-head='0']")).Click();
        _browser.WaitReady();
        Assert.Contains("heads=0%2C2", _browser.Driver_.Url);
        Assert.Contains("on", _browser.Driver_.FindElement(By.CssSelector("#head-chips [data-head='0']")).GetAttribute("class"));
    }

    [BrowserFact]
    public void Zeroing_a_head_shows_the_change_in_loss_and_prediction()
    {
        _browser.Open(Url("view=intervene&text=ROMEO%3A+But+soft"));
        Assert.Contains("Δ +0.000", _browser.Driver_.FindElement(By.Id("loss-delta")).Text);
        _browser.Driver_.FindElement(By.CssSelector("#zero-grid [data-layer='0'][data-head='1']")).Click();
        _browser.WaitReady();
        Assert.Contains("zero=0.1", _browser.Driver_.Url);
        Assert.Contains("zeroed", _browser.Driver_.FindElement(By.CssSelector("#zero-grid [data-layer='0'][data-head='1']")).GetAttribute("class"));
        Assert.DoesNotContain("Δ +0.000", _browser.Driver_.FindElement(By.Id("loss-delta")).Text);
        Assert.True(_browser.Driver_.FindElements(By.CssSelector("#changes tr")).Count > 1);
    }

    [BrowserFact]
    public void Exports_decode_png_svg_json_and_html()
    {
        _browser.Open(Url("view=model&text=ROMEO"));
        var png = Convert.FromBase64String(_browser.Driver_.ExecuteAsyncScript("""
            const done = arguments[arguments.length - 1];
            explorer.exportBlob('png').then(b => b.arrayBuffer()).then(a => {
              const u = new Uint8Array(a); let s = ''; for (let i = 0; i < u.length; i++) s += String.fromCharCode(u[i]); done(btoa(s)); });
            """) as string ?? "");
        var (width, height, pixels) = DecodePng(png);
        Assert.True(width > 200 && height > 200, $"{width}×{height}");
        Assert.Equal((long)height * (1 + width * 4), pixels.LongLength);   // every scanline present after inflating
        string Text(string kind) => _browser.Driver_.ExecuteAsyncScript(
            $"const done = arguments[arguments.length - 1]; explorer.exportBlob('{kind}').then(b => b.text()).then(done);") as string ?? "";
        var svg = XDocument.Parse(Text("svg"));
        Assert.Equal("svg", svg.Root!.Name.LocalName);
        Assert.True(svg.Descendants().Count(e => e.Name.LocalName == "rect") > 20);
        var json = JsonNode.Parse(Text("json"))!;
        Assert.Equal(8, json["thumbnails"]!.AsArray().SelectMany(l => l!.AsArray()).Count());
        Assert.Contains("<svg", Text("html"));
    }

    /// <summary>Decodes a PNG far enough to prove it is one: signature, IHDR, and the zlib stream of every IDAT
    /// inflated to its scanlines (RGBA 8-bit, one filter byte per row).</summary>
    private static (int Width, int Height, byte[] Scanlines) DecodePng(byte[] png)
    {
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10 }, png[..8]);
        int width = 0, height = 0;
        using var idat = new MemoryStream();
        for (int at = 8; at < png.Length;)
        {
            int length = (png[at] << 24) | (png[at + 1] << 16) | (png[at + 2] << 8) | png[at + 3];
            var type = System.Text.Encoding.ASCII.GetString(png, at + 4, 4);
            var data = png.AsSpan(at + 8, length);
            if (type == "IHDR")
            {
                width = (data[0] << 24) | (data[1] << 16) | (data[2] << 8) | data[3];
                height = (data[4] << 24) | (data[5] << 16) | (data[6] << 8) | data[7];
                Assert.Equal(8, data[8]);     // bit depth
                Assert.Equal(6, data[9]);     // RGBA
            }
            else if (type == "IDAT") idat.Write(data);
            else if (type == "IEND") break;
            at += 12 + length;
        }
        idat.Position = 0;
        using var z = new ZLibStream(idat, CompressionMode.Decompress);
        using var raw = new MemoryStream();
        z.CopyTo(raw);
        return (width, height, raw.ToArray());
    }

    /// <summary>A GPT-2's report has one group, its decoder self-attention: the model, head and roles views (the same
    /// views every kind's report is drawn with) show it without a group selector, and export it as group "decoder".</summary>
    [BrowserFact]
    public void A_gpt2_report_is_drawn_as_its_one_decoder_group()
    {
        foreach (var view in new[] { "model", "head", "roles" })
        {
            _browser.Open(Url($"text=ROMEO%3A+But&view={view}"));
            Assert.True(_browser.Driver_.FindElement(By.Id("error")).GetAttribute("hidden") is not null, view);
            Assert.Empty(_browser.Driver_.FindElements(By.CssSelector("#group-controls select")));
            var json = JsonNode.Parse(_browser.Driver_.ExecuteAsyncScript(
                "const done = arguments[arguments.length - 1]; explorer.exportBlob('json').then(b => b.text()).then(done);") as string ?? "")!;
            Assert.Equal(("gpt2", "decoder"), ((string?)json["model_type"], (string?)json["group"]));
        }
        Assert.Equal("decoder_self", _browser.Driver_.FindElement(By.Id("roles-table")).GetAttribute("data-group"));
        Assert.Equal(6, _browser.Driver_.FindElements(By.CssSelector("#roles-table tr"))[1].FindElements(By.TagName("td")).Count);  // entropy, 4 roles, strongest
    }

    [BrowserFact]
    public void Every_view_draws_from_its_url_alone()
    {
        foreach (var query in new[] { "view=step&layer=1&head=3&temp=0.5", "view=roles", "view=generate&temperature=0", "view=playground&window=3&global=1", "view=compare&model2=small", "view=head&heads=0,1,2,3&avg=1" })
        {
            _browser.Open(Url("text=ROMEO%3A+But&" + query));
            Assert.True(_browser.Driver_.FindElement(By.Id("error")).GetAttribute("hidden") is not null,
                $"{query}: {_browser.Driver_.FindElement(By.Id("error")).Text}");
            Assert.True(_browser.Driver_.FindElements(By.CssSelector("main canvas, main table")).Count > 0, query);
        }
    }

    [BrowserFact]
    public void A_text_over_the_context_shows_a_one_line_message()
    {
        _browser.Open(Url("text=" + new string('a', 70)));
        var error = _browser.Driver_.FindElement(By.Id("error"));
        Assert.Null(error.GetAttribute("hidden"));
        Assert.Contains("reads at most 64 (its context)", error.Text);
        Assert.DoesNotContain("\n", error.Text);
    }
}
