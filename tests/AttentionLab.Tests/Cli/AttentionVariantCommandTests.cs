using System.Text.Json;

namespace AttentionLab.Tests.Cli;

/// <summary><c>attnlab attention --trace flash / --window / --attention</c> and <c>attnlab bench attention</c>:
/// output, JSON shape and the one-line errors (exit 2) for bad variants, windows, feature counts, tiles and lengths.</summary>
public class AttentionVariantCommandTests
{
    private static readonly string[] Exercise = ["attention", "--q", "[[1,0],[0,1],[1,1]]", "--k", "[[1,0],[0,1],[1,1]]", "--v", "[[1,2],[3,4],[5,6]]"];

    private static string[] With(params string[] more) => [.. Exercise, .. more];

    [Fact]
    public void FlashTraceShowsEachTileAndEqualsSoftmax()
    {
        var text = CliHarness.Ok(With("--causal", "--trace", "flash", "--tile", "2"));
        Assert.Contains("Tile 1: keys k1..k2", text);
        Assert.Contains("Tile 2: keys k3..k3", text);
        // q3 meets a larger score in tile 2: m grows 0.7071 → 1.4142, α = exp(−0.7071) = 0.4931, l = 0.4931·2 + 1 = 1.9861
        Assert.Contains("  q3  1.4142    1.4142    0.7071   1.4142     0.4931    2.0000   1.9861", text);
        Assert.Contains("  q2  [2.3395, 3.3395]  [2.3395, 3.3395]", text); // final row = softmax row (seed 004 Q13)

        using var doc = JsonDocument.Parse(CliHarness.Ok(With("--trace", "flash", "--tile", "1", "--json")));
        var flash = doc.RootElement.GetProperty("flash");
        Assert.Equal(3, flash.GetProperty("steps").GetArrayLength());
        Assert.True(flash.GetProperty("max_abs_diff").GetDouble() <= 1e-12);
        Assert.Equal(3.0, flash.GetProperty("output")[0][0].GetDouble(), 1e-4); // seed 004 Q9: o1 = [3, 4]
    }

    [Fact]
    public void WindowShowsWhichKeysEachQuerySees()
    {
        string[] six = ["attention", "--q", "[[1,0],[0,1],[1,1],[2,0],[0,2],[1,-1]]", "--k", "[[1,0],[0,1],[1,1],[2,0],[0,2],[1,-1]]",
            "--v", "[[1,0],[0,1],[1,1],[2,0],[0,2],[1,-1]]"];
        using var doc = JsonDocument.Parse(CliHarness.Ok([.. six, "--window", "2", "--global", "1", "--json"]));
        var sees = doc.RootElement.GetProperty("sees").EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.Equal(["wGGGGG", "ww....", "gww...", "g.ww..", "g..ww.", "g...ww"], sees);
        Assert.Equal(20, doc.RootElement.GetProperty("visible_scores").GetInt32());
        Assert.Contains("error_vs_exact", doc.RootElement.GetProperty("attention").GetRawText());
        Assert.Contains("20 of 36 scores computed", CliHarness.Ok([.. six, "--window", "2", "--global", "1"]));
    }

    [Fact]
    public void AttentionPicksTheKernel()
    {
        using var doc = JsonDocument.Parse(CliHarness.Ok(With("--attention", "flash,tile:2", "--json")));
        var a = doc.RootElement.GetProperty("attention");
        Assert.Equal("flash,tile:2", a.GetProperty("kernel").GetString());
        Assert.True(a.GetProperty("exact").GetBoolean());
        Assert.Equal(0.4011, a.GetProperty("weights")[0][0].GetDouble(), 1e-4);
        Assert.Contains("error against exact attention", CliHarness.Ok(With("--attention", "performer:32")));
    }

    [Theory]
    [InlineData("unknown attention kernel 'flashy'; known kernels: naive, fast, flash", "--attention", "flashy")]
    [InlineData("--window must be in [1,", "--window", "0")]
    [InlineData("the number of random features F must be an integer from 1", "--attention", "performer:0")]
    [InlineData("tile must be an integer from 1", "--attention", "flash,tile:0")]
    [InlineData("--tile is the tile size of --trace flash", "--tile", "4")]
    [InlineData("--trace knows only 'flash'", "--trace", "naive")]
    public void BadVariantInputIsOneLineExit2(string message, string option, string value)
    {
        var r = CliHarness.Run(With(option, value));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void BenchAttentionJsonHasTheIssuesFields()
    {
        using var doc = JsonDocument.Parse(CliHarness.Ok("bench", "attention", "--variants", "naive,flash,window:8,performer:16", "--seq-lens", "16,32",
            "--heads", "2", "--head-dim", "8", "--repeat", "1", "--json"));
        var results = doc.RootElement.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(8, results.Count);
        foreach (var r in results)
            foreach (var field in new[] { "variant", "seq_len", "fwd_ms", "fwd_bwd_ms", "peak_bytes", "max_abs_err" })
                Assert.True(r.TryGetProperty(field, out _), field);
        var flash = results.First(r => r.GetProperty("variant").GetString() == "flash" && r.GetProperty("seq_len").GetInt32() == 32);
        Assert.True(flash.GetProperty("max_abs_err").GetDouble() <= 1e-5); // exact: equal to naive to float rounding
        // memory is counted, not sampled: at least the eight (B, H, T, D) buffers every variant holds, and for naive at least
        // its saved (B, H, T, T) weights (allocations by other threads can only add to these figures, so lower bounds hold)
        var naive = results.First(r => r.GetProperty("variant").GetString() == "naive" && r.GetProperty("seq_len").GetInt32() == 32);
        foreach (var r in new[] { naive, flash })
            Assert.True(r.GetProperty("peak_bytes").GetInt64() >= 8L * 2 * 32 * 8 * sizeof(float), r.ToString());
        Assert.True(naive.GetProperty("state_bytes").GetInt64() >= 2L * 32 * 32 * sizeof(float), naive.ToString());
    }

    [Theory]
    [InlineData("unknown attention kernel 'flashy'", "--variants", "naive,flashy")]
    [InlineData("the window size W (keys) must be an integer from 1", "--variants", "window:0")]
    [InlineData("--seq-lens must be comma-separated positive integers", "--seq-lens", "64,x")]
    [InlineData("more than one array can hold", "--seq-lens", "100000000")]
    public void BenchAttentionBadInputIsOneLineExit2(string message, string option, string value)
    {
        var r = CliHarness.Run("bench", "attention", option, value);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }
}
