using System.Text.Json;
using AttentionLab.Hooks;
using AttentionLab.Tests.Generation;

namespace AttentionLab.Tests.Cli;

/// <summary><c>attnlab hooks</c>: the names the library defines, their shapes, and a cached run's statistics.</summary>
public class HooksCommandTests
{
    [Fact]
    public void Lists_every_canonical_name_in_forward_order()
    {
        using var doc = JsonDocument.Parse(CliHarness.Ok("hooks", "--model", TinyGpt2.Directory, "--json"));
        var names = doc.RootElement.GetProperty("hooks").EnumerateArray().Select(h => h.GetProperty("name").GetString()).ToArray();
        Assert.Equal(HookNames.For(TinyGpt2.Load().Config).Select(h => h.Name), names);
        var text = CliHarness.Ok("hooks", "--preset", "gpt2", "--filter", "blocks.11.attn.hook_pattern");
        Assert.Contains("blocks.11.attn.hook_pattern", text);
        Assert.Contains("L = 12, H = 12, C = 768, D = 64", text);
    }

    [Fact]
    public void With_ids_shows_each_activation_s_shape_from_one_cached_run()
    {
        using var doc = JsonDocument.Parse(CliHarness.Ok("hooks", "--model", TinyGpt2.Directory, "--ids", "1,2,3,4,5", "--filter", "blocks.0.attn.hook_pattern", "--json"));
        var hook = Assert.Single(doc.RootElement.GetProperty("hooks").EnumerateArray());
        Assert.Equal([1, 4, 5, 5], hook.GetProperty("dims").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal(0.2, hook.GetProperty("mean").GetDouble(), 6);          // rows of probabilities over 5 keys, 0 above the diagonal
        var model = TinyGpt2.Load();
        var (_, cache) = model.RunWithCache([1, 2, 3, 4, 5], n => n == "blocks.0.attn.hook_pattern");
        Assert.Equal(cache["blocks.0.attn.hook_pattern"].Data.Max(), hook.GetProperty("max_abs").GetDouble(), 6);
    }

    [Theory]
    [InlineData("hooks")]
    [InlineData("hooks", "--preset", "gpt2", "--text", "hello")]
    [InlineData("hooks", "--preset", "gpt2", "--filter", "nothing-like-this")]
    [InlineData("hooks", "--preset", "no-such-preset")]
    [InlineData("hooks", "--model", "/no/such/dir")]
    public void Bad_input_is_one_line_and_exit_2(params string[] args)
    {
        var r = CliHarness.Run(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }
}
