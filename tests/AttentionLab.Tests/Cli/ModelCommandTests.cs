using System.Text.Json.Nodes;

namespace AttentionLab.Tests.Cli;

/// <summary>
/// The seq2seq, bert and vit commands: a few training steps of a tiny model write a folder that <c>--model DIR</c>
/// reloads to the same accuracy; bad input is one line on stderr and exit code 2, and writes nothing.
/// </summary>
public class ModelCommandTests
{
    private static string TempDir() => Path.Combine(Path.GetTempPath(), "attnlab-cli-models-" + Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData("seq2seq")]
    [InlineData("bert")]
    [InlineData("vit")]
    public void HelpWorks(string command) => Assert.Contains("usage: attnlab " + command, CliHarness.Ok(command, "--help"));

    public static TheoryData<string[], string> BadInputs() => new()
    {
        { ["seq2seq"], "missing required option --task" },
        { ["seq2seq", "--task", "sort"], "unknown seq2seq task 'sort'" },
        { ["seq2seq", "--task", "reverse", "--d-model", "30", "--heads", "4"], "must divide by --heads" },
        { ["seq2seq", "--task", "reverse", "--steps", "0"], "--steps must be" },
        { ["seq2seq", "--task", "reverse", "--attention", "bogus"], "unknown attention kernel 'bogus'" },
        { ["seq2seq", "--task", "reverse", "--input", "ABC"], "is not a reverse source" },
        { ["seq2seq", "--model", "/nonexistent/model"], "no such directory" },
        { ["bert", "--data", "/nonexistent/text.txt"], "does not exist" },
        { ["bert", "--max-length", "4"], "--max-length must be" },
        { ["vit", "--patch-size", "5"], "must divide --image-size" },
        { ["vit", "--frobnicate=1"], "unknown option --frobnicate" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInputIsOneLineAndExitCode2(string[] args, string message)
    {
        var dir = TempDir();
        var r = CliHarness.Run([.. args, "--out", dir]);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StderrLines);
        Assert.Contains(message, r.Stderr);
        Assert.False(Directory.Exists(dir), "a failed command must not write its output folder");
    }

    [Fact]
    public void VitTrainsSavesAndReloadsToTheSameAccuracy()
    {
        var dir = TempDir();
        var trained = JsonNode.Parse(CliHarness.Ok("vit", "--steps", "5", "--d-model", "16", "--heads", "2", "--layers", "1", "--held-out", "40", "--out", dir, "--json"))!;
        Assert.True(File.Exists(Path.Combine(dir, "model.safetensors")) && File.Exists(Path.Combine(dir, "cls_attention.svg")));
        var reloaded = JsonNode.Parse(CliHarness.Ok("vit", "--model", dir, "--held-out", "40", "--json"))!;
        Assert.Equal((double)trained["accuracy"]!, (double)reloaded["accuracy"]!);
        Assert.InRange((double)trained["accuracy"]!, 0, 1);

        // the same folder again without --force is refused; another command cannot load it
        var again = CliHarness.Run("vit", "--steps", "1", "--out", dir);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("already holds a model", again.Stderr);
        var wrong = CliHarness.Run("bert", "--model", dir);
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains("'vit' model, not a 'bert' model", wrong.Stderr);
    }

    [Fact]
    public void Seq2SeqTrainsSavesReloadsAndShowsCrossAttention()
    {
        var dir = TempDir();
        var trained = JsonNode.Parse(CliHarness.Ok("seq2seq", "--task", "reverse", "--steps", "4", "--d-model", "16", "--heads", "2", "--layers", "1",
            "--held-out", "30", "--out", dir, "--json"))!;
        var reloaded = JsonNode.Parse(CliHarness.Ok("seq2seq", "--model", dir, "--held-out", "30", "--input", "abc", "--show-attention", "--json"))!;
        Assert.Equal((double)trained["accuracy"]!, (double)reloaded["accuracy"]!);
        var kinds = reloaded["attention"]!.AsArray().Select(m => (string)m!["kind"]!).ToList();
        Assert.Equal(["encoder_self", "decoder_self", "cross"], kinds);
        var cross = reloaded["attention"]![2]!;
        Assert.Equal(3, cross["key_labels"]!.AsArray().Count); // the source "abc"
        var text = CliHarness.Ok("seq2seq", "--model", dir, "--held-out", "5", "--input", "abc", "--show-attention");
        Assert.Contains("cross-attention of decoder layer 0", text);
    }

    [Fact]
    public void BertTrainsSavesAndReloadsToTheSameAccuracy()
    {
        var data = Path.Combine(Path.GetTempPath(), "attnlab-bert-" + Guid.NewGuid().ToString("N") + ".txt");
        File.WriteAllText(data, File.ReadAllText(Path.Combine(RepoRoot.Path, "data", "tinyshakespeare.txt"))[..20_000]);
        var dir = TempDir();
        var trained = JsonNode.Parse(CliHarness.Ok("bert", "--data", data, "--steps", "3", "--d-model", "16", "--heads", "2", "--layers", "1",
            "--max-length", "32", "--held-out", "2", "--input", "to b_", "--out", dir, "--json"))!;
        Assert.True(File.Exists(Path.Combine(dir, "bert_vs_gpt_attention.svg")));
        var reloaded = JsonNode.Parse(CliHarness.Ok("bert", "--model", dir, "--data", data, "--held-out", "2", "--input", "to b_", "--json"))!;
        Assert.Equal((double)trained["accuracy"]!, (double)reloaded["accuracy"]!);
        Assert.Equal((double)trained["unigram_accuracy"]!, (double)reloaded["unigram_accuracy"]!);
        Assert.Equal(5, ((string)reloaded["filled"]!).Length);
        var bad = CliHarness.Run("bert", "--model", dir, "--data", data, "--input", "to b€");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("not in the model's vocabulary", bad.Stderr);
    }
}
