using System.Text.Json;
using AttentionLab.Interpretability;
using AttentionLab.Tests.Generation;

namespace AttentionLab.Tests.Cli;

/// <summary><c>attnlab analyze</c>: each method's JSON is the library's answer, pictures are written whole, bad input
/// is one line and exit 2.</summary>
public class AnalyzeCommandTests
{
    private static readonly string Model = TinyGpt2.Directory;

    [Fact]
    public void Lens_json_is_the_library_s_lens()
    {
        using var doc = JsonDocument.Parse(CliHarness.Ok("analyze", "lens", "--model", Model, "--ids", "1,2,3,4", "--target-id", "5", "--top", "2", "--json"));
        var expected = LogitLens.Run(TinyGpt2.Load(), [1, 2, 3, 4], 5, 2);
        var cells = doc.RootElement.GetProperty("cells").EnumerateArray().ToArray();
        Assert.Equal(expected.Cells.Length, cells.Length);
        for (int i = 0; i < cells.Length; i++)
        {
            Assert.Equal(expected.Cells[i].TargetRank, cells[i].GetProperty("target_rank").GetInt32());
            Assert.Equal(expected.Cells[i].Top[0].Token, cells[i].GetProperty("top")[0].GetProperty("token").GetInt32());
            Assert.Equal(expected.Cells[i].TargetProbability, cells[i].GetProperty("target_p").GetDouble(), 6);
        }
        Assert.Equal("blocks.1.hook_resid_post", doc.RootElement.GetProperty("stages")[2].GetString());
    }

    [Fact]
    public void Patch_json_is_the_sweep_and_the_svgs_are_written()
    {
        var dir = Directory.CreateTempSubdirectory("attnlab-analyze-").FullName;
        try
        {
            string svg = Path.Combine(dir, "patch.svg");
            using var doc = JsonDocument.Parse(CliHarness.Ok("analyze", "patch", "--model", Model, "--ids", "1,2,3,4,5", "--corrupt-ids", "1,9,3,4,5",
                "--token-id", "7", "--other-id", "8", "--json", "--svg", svg));
            var patching = ActivationPatching.Prepare(TinyGpt2.Load(), [1, 2, 3, 4, 5], [1, 9, 3, 4, 5], PatchMetric.LogitDifference(7, 8));
            var z = patching.Sweep(PatchSite.HeadZ);
            var rows = doc.RootElement.GetProperty("sites").GetProperty("z").GetProperty("recovered");
            for (int l = 0; l < 2; l++)
                for (int h = 0; h < 4; h++) Assert.Equal(z[l, h], rows[l][h].GetDouble(), 5);
            Assert.Equal(patching.CleanMetric, doc.RootElement.GetProperty("clean_metric").GetDouble(), 6);
            foreach (var site in new[] { "resid", "attn", "mlp", "z" })
            {
                var text = File.ReadAllText(Path.Combine(dir, $"patch-{site}.svg"));
                Assert.StartsWith("<svg", text);
                Assert.EndsWith("</svg>\n", text);
            }
            Assert.Empty(Directory.GetFiles(dir, "*.tmp*"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Patch_text_shows_progress_and_every_map()
    {
        var text = CliHarness.Ok("analyze", "patch", "--model", Model, "--ids", "1,2,3,4,5", "--corrupt-ids", "1,9,3,4,5", "--token-id", "7", "--site", "z");
        Assert.Contains("z: 8/8 passes", text);
        Assert.Contains("attn.hook_z per head (layer × head)", text);
        Assert.DoesNotContain("hook_mlp_out", text);
    }

    [Fact]
    public void Attribute_ablate_neuron_sinks_and_induction_answer_in_json()
    {
        var model = TinyGpt2.Load();
        int[] ids = [1, 2, 3, 4, 5, 6];
        using (var doc = JsonDocument.Parse(CliHarness.Ok("analyze", "attribute", "--model", Model, "--ids", "1,2,3,4,5,6", "--token-id", "7", "--other-id", "8", "--json")))
        {
            var expected = DirectLogitAttribution.Run(model, ids, PatchMetric.LogitDifference(7, 8));
            Assert.Equal(expected.Total, doc.RootElement.GetProperty("total").GetDouble(), 5);
            Assert.Equal(expected.Terms.Length, doc.RootElement.GetProperty("terms").GetArrayLength());
        }
        using (var doc = JsonDocument.Parse(CliHarness.Ok("analyze", "ablate", "--model", Model, "--ids", "1,2,3,4,5,6", "--json")))
        {
            var expected = HeadAblation.Run(model, ids, AblationKind.Zero);
            Assert.Equal(expected[1, 3], doc.RootElement.GetProperty("delta")[1][3].GetDouble(), 5);
        }
        using (var doc = JsonDocument.Parse(CliHarness.Ok("analyze", "neuron", "--model", Model, "--ids", "1,2,3,4,5,6", "--layer", "1", "--head", "2", "--query", "4", "--key", "1", "--json")))
        {
            var expected = NeuronView.Run(model, ids, 1, 2, 4, 1);
            Assert.Equal(expected.Score, doc.RootElement.GetProperty("score").GetDouble(), 6);
            Assert.Equal(8, doc.RootElement.GetProperty("products").GetArrayLength());
        }
        using (var doc = JsonDocument.Parse(CliHarness.Ok("analyze", "sinks", "--model", Model, "--ids", "1,2,3,4,5,6", "--json")))
            Assert.Equal(AttentionSinks.Run(model, ids).Share[5], doc.RootElement.GetProperty("share")[1][1].GetDouble(), 6);
        using (var doc = JsonDocument.Parse(CliHarness.Ok("analyze", "induction", "--model", Model, "--period", "6", "--json")))
        {
            var expected = InductionHeads.Score(model, InductionHeads.RepeatedSequence(65, 6, 0));
            Assert.Equal(expected.Induction[2], doc.RootElement.GetProperty("induction")[0][2].GetDouble(), 6);
            Assert.Equal(12, doc.RootElement.GetProperty("tokens").GetArrayLength());
        }
    }

    [Theory]
    [InlineData("analyze")]
    [InlineData("analyze", "nothing")]
    [InlineData("analyze", "lens", "--ids", "1,2")]
    [InlineData("analyze", "lens", "--model", "/no/such/dir", "--ids", "1,2")]
    [InlineData("analyze", "lens", "--model", "{model}", "--ids", "1,99")]
    [InlineData("analyze", "lens", "--model", "{model}", "--text", "hello")]
    [InlineData("analyze", "patch", "--model", "{model}", "--ids", "1,2,3", "--corrupt-ids", "1,2", "--token-id", "3")]
    [InlineData("analyze", "patch", "--model", "{model}", "--ids", "1,2,3", "--corrupt-ids", "1,2,4")]
    [InlineData("analyze", "patch", "--model", "{model}", "--ids", "1,2,3", "--corrupt-ids", "1,2,4", "--token-id", "3", "--site", "heads")]
    [InlineData("analyze", "attribute", "--model", "{model}", "--ids", "1,2,3", "--token-id", "3", "--other-id", "3")]
    [InlineData("analyze", "ablate", "--model", "{model}", "--ids", "1", "--kind", "zero")]
    [InlineData("analyze", "ablate", "--model", "{model}", "--ids", "1,2,3", "--kind", "median")]
    [InlineData("analyze", "neuron", "--model", "{model}", "--ids", "1,2,3", "--layer", "2", "--head", "0")]
    [InlineData("analyze", "sinks", "--model", "{model}", "--ids", "1,2")]
    [InlineData("analyze", "lens", "--model", "{model}", "--ids", "1,2", "--svg", "/no/such/dir/x.svg")]
    public void Bad_input_is_one_line_and_exit_2(params string[] args)
    {
        var r = CliHarness.Run(args.Select(a => a == "{model}" ? Model : a).ToArray());
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StderrLines);
        Assert.StartsWith("attnlab analyze: ", r.Stderr);
    }
}
