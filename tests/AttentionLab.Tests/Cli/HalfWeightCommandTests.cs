using System.Text.Json;
using AttentionLab.Diagnostics;
using AttentionLab.IO;
using AttentionLab.Kernels;
using AttentionLab.Models;

namespace AttentionLab.Tests.Cli;

/// <summary><c>--dtype</c> on generate and inspect, <c>compare-dtype</c>, <c>bench memory</c> and <c>bench generate</c>:
/// the CLI's JSON is the library's result, and bad input is one line and exit 2.</summary>
public class HalfWeightCommandTests
{
    private static string Tiny => Path.Combine(Fixtures.Directory, "gpt2_tiny");

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        int code = AttentionLab.Cli.Cli.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Theory]
    [InlineData("bf16")]
    [InlineData("f16")]
    public void GenerateWithDtypeGivesTheSixteenBitModelsGreedyTokens(string dtype)
    {
        var (code, stdout, stderr) = Run("generate", "--model", Tiny, "--ids", "1,2,3", "--max-tokens", "12", "--temperature", "0", "--dtype", dtype, "--json");
        Assert.True(code == 0, stderr);
        var ids = JsonDocument.Parse(stdout).RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var model = DecoderFolder.Load(Tiny, format: WeightFormats.Parse(dtype));
        Assert.Equal(new[] { 1, 2, 3 }.Concat(new TextGenerator(model).Greedy([1, 2, 3], 12)), ids);
    }

    [Fact]
    public void CompareDtypeJsonIsTheLibrarysReport()
    {
        var (code, stdout, stderr) = Run("compare-dtype", "--model", Tiny, "--ids", "1,2,3,4,5,6", "--tokens", "30", "--json");
        Assert.True(code == 0, stderr);
        var o = JsonDocument.Parse(stdout).RootElement;
        var f32 = DecoderFolder.Load(Tiny);
        var expected = WeightFormatAccuracy.Measure(f32, f32.WithWeightFormat(WeightFormat.BF16), [1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6], 30);
        Assert.Equal("bf16", o.GetProperty("dtype").GetString());
        Assert.Equal("f32", o.GetProperty("folder_dtype").GetString());
        Assert.Equal(expected.MaxAbsError, o.GetProperty("max_abs_error").GetDouble());
        Assert.Equal(expected.MeanKl, o.GetProperty("mean_kl").GetDouble());
        Assert.Equal(expected.Greedy, o.GetProperty("greedy").EnumerateArray().Select(e => e.GetInt32()));
        Assert.True(expected.MaxAbsError > 0, "BF16 rounding changes the logits");
    }

    [Fact]
    public void BadDtypeIsOneLineAndExitTwo()
    {
        foreach (var args in new[]
        {
            new[] { "generate", "--model", Tiny, "--ids", "1", "--dtype", "bf17" },
            new[] { "inspect", "--model", Tiny, "--ids", "1", "--dtype", "int4" },
            new[] { "compare-dtype", "--model", Tiny, "--ids", "1", "--dtype", "f32" },
            new[] { "bench", "generate", "--dtype", "f64" },
            new[] { "explore", "--model", Tiny, "--no-browser", "--port", "0", "--dtype", "q4" },
        })
        {
            var (code, stdout, stderr) = Run(args);
            Assert.Equal(2, code);
            Assert.Contains("--dtype", stderr);
            Assert.Single(stderr.Trim().Split('\n'));
        }
    }

    [Fact]
    public void BenchMemoryJsonHasReadAndTriadPerThreadCount()
    {
        var (code, stdout, stderr) = Run("bench", "memory", "--threads", "1", "--megabytes", "4", "--repeat", "1", "--json");
        Assert.True(code == 0, stderr);
        var results = JsonDocument.Parse(stdout).RootElement.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(new[] { "read", "triad" }, results.Select(r => r.GetProperty("kernel").GetString()));
        Assert.Equal(4L << 20, results[0].GetProperty("bytes").GetInt64());                        // the whole buffer, 4 bytes a float
        Assert.Equal(3 * 4L * ((4 << 20) / 4 / 3), results[1].GetProperty("bytes").GetInt64());     // STREAM's triad count
        foreach (var r in results)
            Assert.Equal(r.GetProperty("bytes").GetInt64() / r.GetProperty("seconds").GetDouble() / 1e9, r.GetProperty("gb_per_s").GetDouble(), 9);
        (code, _, stderr) = Run("bench", "memory", "--threads", "1,9999");
        Assert.Equal(2, code);
        Assert.Contains("--threads", stderr);
    }

    [Fact]
    public void BenchGenerateReportsBytesPerTokenAndTheShareOfTheRoof()
    {
        var (code, stdout, stderr) = Run("bench", "generate", "--preset", "tiny", "--dtype", "bf16", "--prompt-tokens", "4", "--tokens", "3",
            "--megabytes", "4", "--json");
        Assert.True(code == 0, stderr);
        var o = JsonDocument.Parse(stdout).RootElement;
        var rows = o.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(new[] { "f32", "bf16" }, rows.Select(r => r.GetProperty("dtype").GetString()));
        var c = DecoderConfig.Tiny;
        // float32: every parameter once at 4 bytes except the position table, read one row per step
        long f32Bytes = 4L * (c.ParameterCount - (long)c.ContextLength * c.Channels + c.Channels);
        Assert.Equal(f32Bytes, rows[0].GetProperty("weight_bytes_per_token").GetInt64());
        // BF16: the token table and the four block matrices at 2 bytes
        long streamed = (long)c.VocabSize * c.Channels + c.Layers * 12L * c.Channels * c.Channels;
        Assert.Equal(f32Bytes - 2 * streamed, rows[1].GetProperty("weight_bytes_per_token").GetInt64());
        // KV: 2·L·C·4 bytes per cached position, at the mean Tk = prompt + (tokens + 1)/2 = 6
        Assert.Equal(2L * c.Layers * c.Channels * 4 * 6, rows[0].GetProperty("kv_bytes_per_token").GetInt64());
        double read = o.GetProperty("read_gb_per_s").GetDouble();
        foreach (var r in rows)
        {
            double achieved = (r.GetProperty("weight_bytes_per_token").GetInt64() + r.GetProperty("kv_bytes_per_token").GetInt64())
                * r.GetProperty("kv_cache_tokens_per_s").GetDouble() / 1e9;
            Assert.Equal(achieved, r.GetProperty("achieved_gb_per_s").GetDouble(), 9);
            Assert.Equal(achieved / read, r.GetProperty("share_of_read_bandwidth").GetDouble(), 9);
            Assert.True(r.GetProperty("identical_tokens").GetBoolean());
        }
        Assert.True(rows[0].GetProperty("accuracy").ValueKind == JsonValueKind.Null);
        Assert.True(rows[1].GetProperty("accuracy").GetProperty("max_abs_error").GetDouble() > 0);
    }
}
