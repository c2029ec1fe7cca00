using System.Text.Json;
using AttentionLab.Models;

namespace AttentionLab.Tests.Cli;

/// <summary><c>attnlab inspect --model DIR</c> on a saved encoder-decoder: every map (encoder, decoder, cross) as text and JSON.</summary>
public sealed class InspectOtherModelsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "attnlab-inspect-s2s-" + Guid.NewGuid().ToString("N"));

    public InspectOtherModelsTests()
    {
        var model = new Seq2SeqModel(new Seq2SeqConfig { Channels = 16, Heads = 2, EncoderLayers = 1, DecoderLayers = 1 });
        model.Save(_dir);
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void JsonHasEncoderDecoderAndCrossMapsWhoseRowsSumToOne()
    {
        using var doc = JsonDocument.Parse(CliHarness.Ok("inspect", "--model", _dir, "--text", "abcd", "--json"));
        var root = doc.RootElement;
        Assert.Equal("seq2seq", root.GetProperty("model_type").GetString());
        Assert.Equal("abcd", root.GetProperty("input").GetString());
        var kinds = root.GetProperty("attention").EnumerateArray().Select(m => m.GetProperty("kind").GetString()).ToHashSet();
        Assert.Equal(new HashSet<string?> { "encoder_self", "decoder_self", "cross" }, kinds);
        foreach (var map in root.GetProperty("attention").EnumerateArray())
        {
            int keys = map.GetProperty("key_labels").GetArrayLength();
            if (map.GetProperty("kind").GetString() != "decoder_self") Assert.Equal(4, keys); // the four source characters
            foreach (var head in map.GetProperty("weights").EnumerateArray())
                foreach (var row in head.EnumerateArray())
                    Assert.True(Math.Abs(row.EnumerateArray().Sum(x => x.GetDouble()) - 1) < 1e-4);
        }
    }

    [Fact]
    public void TextShowsEachKindAndBadInputIsOneLine()
    {
        var text = CliHarness.Ok("inspect", "--model", _dir, "--text", "abc", "--head", "0");
        Assert.Contains("cross layer 0 head 0", text);
        Assert.Contains("encoder_self layer 0 head 0", text);
        var bad = CliHarness.Run("inspect", "--model", _dir, "--text", "ab1");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("not in the reverse model's alphabet", bad.Stderr);
        Assert.Single(bad.Stderr.Trim().Split('\n'));
    }
}
