using System.Text.Json;

namespace AttentionLab.Tests.Cli;

/// <summary><c>attnlab shapes</c> answers seed 004 Parts 1, 4 and 5.</summary>
public class ShapesCommandTests
{
    [Fact]
    public void Text_Part1Defaults()
    {
        var text = CliHarness.Ok("shapes", "--d-model", "8", "--heads", "2", "--seq-len", "4", "--batch", "1", "--vocab", "50");
        Assert.Contains("head_dim D = d_model / heads = 8 / 2 = 4", text);   // Q1
        Assert.Contains("q.transpose(1, 2)", text);
        Assert.Contains("(1, 2, 4, 4)  (B, H, T, D)", text);               // Q3
        Assert.Contains("(1, 4, 50)", text);                               // Q5
        Assert.Equal(text, CliHarness.Ok("shapes"));                       // the defaults are Part 1
    }

    [Fact]
    public void Json_IsAListOfNameShapeMeaning()
    {
        using var doc = JsonDocument.Parse(CliHarness.Ok("shapes", "--d-model", "4", "--seq-len", "3", "--json"));
        var root = doc.RootElement;
        Assert.Equal(2, root.GetProperty("head_dim").GetInt32());
        var steps = root.GetProperty("steps").EnumerateArray().ToDictionary(
            s => s.GetProperty("name").GetString()!, s => s.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()).ToArray());
        Assert.Equal([1, 3, 4], steps["tok_emb = token_embedding(input_ids)"]);   // Q18
        Assert.Equal([3, 4], steps["pos_emb = position_embedding(pos_indices)"]); // Q19
        Assert.Equal([1, 3, 50], steps["logits = output_head(x)"]);               // Q21
        Assert.All(root.GetProperty("steps").EnumerateArray(), s => Assert.False(string.IsNullOrEmpty(s.GetProperty("meaning").GetString())));
    }
}
