using System.Text.Json.Nodes;
using OpenQA.Selenium;

namespace AttentionLab.Tests.Explorer;

/// <summary>End to end in a real headless Chromium: the head view of a grouped-query model says which query heads
/// share each key/value head, a group's button shows those heads, the exports carry the grouping, and a multi-head
/// model shows no grouping.</summary>
public sealed class GqaExplorerBrowserTests(GqaExplorerFixture f, Browser browser) : IClassFixture<Browser>, IClassFixture<GqaExplorerFixture>
{
    private readonly Browser _browser = browser;

    private void NoError(string what) =>
        Assert.True(_browser.Driver_.FindElement(By.Id("error")).GetAttribute("hidden") is not null, $"{what}: {_browser.Driver_.FindElement(By.Id("error")).Text}");

    [BrowserFact]
    public void The_head_view_groups_the_query_heads_by_their_key_value_head()
    {
        _browser.Open(new Uri(f.Address, "/?model=gqa&ids=1,2,3,4,5&view=head&layer=1"));
        NoError("gqa head view");
        var buttons = _browser.Driver_.FindElements(By.CssSelector("#kv-groups button.kv-group"));
        Assert.Equal(["kv 0: heads 0–1", "kv 1: heads 2–3"], buttons.Select(b => b.Text).ToArray());   // H 4, Hkv 2
        Assert.Contains("4 query heads share 2 key/value heads", _browser.Driver_.FindElement(By.Id("kv-groups")).Text);
        var chipKv = _browser.Driver_.FindElements(By.CssSelector("#head-chips [data-head]")).Select(c => c.GetAttribute("data-kv") ?? "").ToArray();
        Assert.Equal(["0", "0", "1", "1"], chipKv);

        buttons[1].Click();
        _browser.WaitReady();
        NoError("after a group's button");
        Assert.Contains("heads=2%2C3", _browser.Driver_.Url);
        var on = _browser.Driver_.FindElements(By.CssSelector("#head-chips .chip.on")).Select(c => c.GetAttribute("data-head") ?? "").ToArray();
        Assert.Equal(["2", "3"], on);

        var exported = JsonNode.Parse(_browser.Driver_.ExecuteAsyncScript(
            "const done = arguments[arguments.length - 1]; explorer.exportBlob('json').then(b => b.text()).then(done);") as string ?? "")!;
        var groups = exported["key_value_heads"]!.AsArray();
        Assert.Equal([2, 3], groups[1]!["heads"]!.AsArray().Select(x => (int)x!).ToArray());
        var svg = _browser.Driver_.ExecuteAsyncScript(
            "const done = arguments[arguments.length - 1]; explorer.exportBlob('svg').then(b => b.text()).then(done);") as string ?? "";
        Assert.Contains("key/value heads: kv 0: heads 0–1, kv 1: heads 2–3", svg);

        _browser.Open(new Uri(f.Address, "/?model=mha&ids=1,2,3,4,5&view=head"));
        NoError("mha head view");
        Assert.Empty(_browser.Driver_.FindElements(By.Id("kv-groups")));
        Assert.All(_browser.Driver_.FindElements(By.CssSelector("#head-chips [data-head]")), c => Assert.Null(c.GetAttribute("data-kv")));
    }

    [BrowserFact]
    public void A_tokenizer_that_adds_bos_shows_it_as_the_first_token()
    {
        _browser.Open(new Uri(f.Address, "/?model=bos&text=the+cat&view=head"));
        NoError("bos head view");
        var exported = JsonNode.Parse(_browser.Driver_.ExecuteAsyncScript(
            "const done = arguments[arguments.length - 1]; explorer.exportBlob('json').then(b => b.text()).then(done);") as string ?? "")!;
        var tokens = exported["tokens"]!.AsArray().Select(t => (string)t!).ToArray();
        Assert.Equal(["<s>", "the", "", "c", "a", "t"], tokens);        // <s> ▁the ▁ c a t, as generate reads it (each decoded alone)
        var svg = _browser.Driver_.ExecuteAsyncScript(
            "const done = arguments[arguments.length - 1]; explorer.exportBlob('svg').then(b => b.text()).then(done);") as string ?? "";
        Assert.Contains("&lt;s&gt;", svg);
    }
}
