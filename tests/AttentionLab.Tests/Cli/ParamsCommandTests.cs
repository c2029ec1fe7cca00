using System.Text.Json;

namespace AttentionLab.Tests.Cli;

/// <summary><c>attnlab params</c> answers seed 004 Part 6 and counts GPT-2 124M.</summary>
public class ParamsCommandTests
{
    [Fact]
    public void Seed_Part6()
    {
        var text = CliHarness.Ok("params", "--arch", "seed", "--vocab", "200000", "--d-model", "256", "--heads", "4", "--max-len", "256");
        Assert.Contains("102,728,704", text);
        Assert.Contains("4 × Linear(256, 256) = 4 × (256 × 256 + 256) = 4 × 65,792 = 263,168", text); // Q25
        Assert.Contains("largest: token_embedding.weight and output_head.weight (a tie), 51,200,000 each", text); // Q27
        Assert.Equal(text, CliHarness.Ok("params")); // the defaults are Part 6
    }

    [Fact]
    public void Seed_Tiny_Json()
    {
        using var doc = JsonDocument.Parse(CliHarness.Ok("params", "--vocab", "50", "--d-model", "8", "--heads", "2", "--max-len", "4", "--json"));
        var root = doc.RootElement;
        Assert.Equal(1120, root.GetProperty("total").GetInt64());
        var components = root.GetProperty("components").EnumerateArray().ToArray();
        Assert.Equal(1120, components.Sum(c => c.GetProperty("count").GetInt64()));
        var head = components.Single(c => c.GetProperty("name").GetString() == "output_head.weight");
        Assert.Equal([50, 8], head.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()));
        Assert.Equal(400, head.GetProperty("count").GetInt64());
    }

    [Fact]
    public void Gpt2_124M()
    {
        string[] args = ["params", "--arch", "gpt2", "--vocab", "50257", "--d-model", "768", "--heads", "12", "--max-len", "1024", "--layers", "12"];
        var text = CliHarness.Ok(args);
        Assert.Contains("124,439,808", text);
        Assert.Contains("largest: transformer.wte.weight", text);
        Assert.Equal(text, CliHarness.Ok("params", "--arch", "gpt2"));
        using var doc = JsonDocument.Parse(CliHarness.Ok([.. args, "--json"]));
        Assert.Equal(124_439_808, doc.RootElement.GetProperty("total").GetInt64());
    }
}
