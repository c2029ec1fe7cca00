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

    /// <summary>The text ends with one line per head, its strongest role as in the JSON's "roles" (same library call).</summary>
    [Fact]
    public void TextListsEachHeadsStrongestRoleAsTheJsonDoes()
    {
        var text = CliHarness.Ok("inspect", "--model", _dir, "--text", "abcd", "--head", "1");
        using var doc = JsonDocument.Parse(CliHarness.Ok("inspect", "--model", _dir, "--text", "abcd", "--json"));
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        int start = Array.FindIndex(lines, l => l.StartsWith("head roles", StringComparison.Ordinal));
        Assert.True(start > 0, "a head roles section");
        var roleLines = lines[(start + 1)..].Where(l => l.Length > 0).ToArray();
        var maps = doc.RootElement.GetProperty("attention").EnumerateArray().ToArray();
        Assert.Equal(maps.Length, roleLines.Length);                     // --head 1: one line per map (1 + 1 + 1 layers)
        foreach (var map in maps)
        {
            var roles = map.GetProperty("roles")[1];
            Assert.Equal(1, roles.GetProperty("head").GetInt32());
            var strongest = roles.GetProperty("strongest").GetString()!;
            var prefix = $"  {map.GetProperty("kind").GetString()} layer {map.GetProperty("layer").GetInt32()} head 1: {strongest} ";
            var line = Assert.Single(roleLines, l => l.StartsWith(prefix, StringComparison.Ordinal));
            Assert.Contains(roles.GetProperty(strongest).GetDouble().ToString("0.00", System.Globalization.CultureInfo.InvariantCulture), line);
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
