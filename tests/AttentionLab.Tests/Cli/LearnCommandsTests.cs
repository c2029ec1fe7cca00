using System.Text.Json;
using AttentionLab.Inspection;
using AttentionLab.Models;

namespace AttentionLab.Tests.Cli;

/// <summary><c>attnlab seed-gpt</c>: Part 5's model traced in text and JSON, and its errors.</summary>
public class SeedGptCommandTests
{
    [Fact]
    public void Text_ShowsEveryStepAndTheLossNextToLnV()
    {
        var text = CliHarness.Ok("seed-gpt");
        foreach (var step in new[] { "Step 1. token_embedding", "Step 2. position_embedding", "Step 3. x = token_emb + pos_emb", "Step 4. each head", "Step 5. concat", "Step 6. W_O", "Step 7. logits", "Step 8. untrained loss" })
            Assert.Contains(step, text);
        Assert.Contains("1,120 parameters", text);
        Assert.Contains("t0: row 7", text);
        Assert.Contains("(1, 4, 50)", text);
        Assert.Contains("logits[0, 2, 7] = ", text);
        Assert.Contains("ln V = ln 50 = 3.9120", text);
    }

    [Fact]
    public void Json_HasLogitsLossLnVocabAndParameters_FromTheTrace()
    {
        using var doc = JsonDocument.Parse(CliHarness.Ok("seed-gpt", "--seed", "3", "--json"));
        var root = doc.RootElement;
        var trace = SeedGptTrace.Run(new SeedGptConfig(50, 8, 2, 4), [7, 12, 3, 25], seed: 3);
        var logits = root.GetProperty("logits");
        Assert.Equal(1, logits.GetArrayLength());
        Assert.Equal(4, logits[0].GetArrayLength());
        Assert.Equal(50, logits[0][0].GetArrayLength());
        Assert.Equal(trace.Logits[0, 2, 7], logits[0][2][7].GetSingle());
        Assert.Equal(trace.Loss, root.GetProperty("loss").GetSingle());
        Assert.Equal(Math.Log(50), root.GetProperty("ln_vocab").GetDouble());
        Assert.Equal(1120, root.GetProperty("parameters").GetInt64());
        Assert.Equal([12, 3, 25], root.GetProperty("targets").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(2, root.GetProperty("weights").GetArrayLength());                    // (H, T, T)
    }

    [Fact]
    public void OtherSizes()
    {
        using var doc = JsonDocument.Parse(CliHarness.Ok("seed-gpt", "--d-model", "4", "--max-len", "3", "--ids", "7,12,3", "--json"));
        Assert.Equal(3, doc.RootElement.GetProperty("logits")[0].GetArrayLength());
        Assert.Equal(50 * 4 + 3 * 4 + 4 * (16 + 4) + 4 * 50, doc.RootElement.GetProperty("parameters").GetInt64());
    }

    [Theory]
    [InlineData("--ids", "7,50", "outside the vocabulary")]
    [InlineData("--ids", "1,2,3,4,5", "--max-len")]
    [InlineData("--heads", "3", "does not divide")]
    [InlineData("--ids", "7,x", "--ids must be")]
    [InlineData("--vocab", "0", "--vocab")]
    public void BadInput_OneLineExit2(string option, string value, string phrase)
    {
        var r = CliHarness.Run("seed-gpt", option, value);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(phrase, Assert.Single(r.StderrLines));
        Assert.Equal("", r.Stdout);
    }
}

/// <summary><c>attnlab attention --heads</c>, <c>--grad</c> and <c>--mask-fill</c>.</summary>
public class AttentionModesCommandTests
{
    private static readonly string[] Exercise = ["attention", "--q", "[[1,0],[0,1],[1,1]]", "--k", "[[1,0],[0,1],[1,1]]", "--v", "[[1,2],[3,4],[5,6]]"];

    [Fact]
    public void MultiHead_ByHand_Text()
    {
        const string I = "[[1,0],[0,1]]";
        var text = CliHarness.Ok("attention", "--heads", "2", "--x", I, "--wq", I, "--wk", I, "--wv", I, "--wo", I);
        Assert.Contains("(1, 2, 2) → view (1, 2, 2, 1) → transpose(1, 2) → (1, 2, 2, 1)", text);
        Assert.Contains("  x1  0.7311  0.5000", text);                                   // concat row 1: [e/(e+1), ½]
        Assert.Contains("concat·W_O = Σ_h head_h·W_O[h]", text);
        Assert.Contains("equal up to rounding", text);
    }

    [Fact]
    public void MultiHead_RandomWeights_Json()
    {
        using var doc = JsonDocument.Parse(CliHarness.Ok("attention", "--heads", "2", "--random-weights", "--seed", "4", "--causal", "--json"));
        var root = doc.RootElement;
        var (x, wq, wk, wv, wo) = MultiHeadTrace.RandomInputs(3, 4, 4);
        var trace = MultiHeadTrace.Compute(x, wq, wk, wv, wo, 2, isCausal: true);
        Assert.Equal(2, root.GetProperty("per_head").GetArrayLength());
        Assert.Equal([1, 2, 3, 2], root.GetProperty("split").GetProperty("transpose").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(trace.Output[2, 3], root.GetProperty("output")[2][3].GetDouble());
        Assert.Equal(trace.ContributionSum[2, 3], root.GetProperty("contribution_sum")[2][3].GetDouble());
        Assert.InRange(root.GetProperty("identity_max_abs_error").GetDouble(), 0, 1e-12);
        Assert.Equal(0.0, root.GetProperty("per_head")[0].GetProperty("weights")[0][1].GetDouble()); // causal
    }

    [Theory]
    [InlineData("3", "[[1,0,0,0]]", "does not divide")]
    [InlineData("2", "[[1,0],[0,1]]", "--wq is 2×2 but must be C×C = 4×4")]
    public void MultiHead_BadInput(string heads, string wq, string phrase)
    {
        const string I4 = "[[1,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,0,1]]";
        var r = CliHarness.Run("attention", "--heads", heads, "--x", "[[1,0,0,0]]", "--wq", wq, "--wk", I4, "--wv", I4, "--wo", I4);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(phrase, Assert.Single(r.StderrLines));
        var both = CliHarness.Run("attention", "--heads", "2", "--random-weights", "--x", "[[1]]");
        Assert.Equal(2, both.ExitCode);
        Assert.Single(both.StderrLines);
    }

    [Fact]
    public void Grad_JacobianRowsSumToZero_AndShrinksWithSharperScores()
    {
        var text = CliHarness.Ok("attention", "--grad");
        Assert.Contains("J = diag(p) − p·pᵀ", text);
        Assert.Contains("  ∂p3  -0.1250  -0.1250   0.2500", text);                        // row 3: p = [0.2483, 0.2483, 0.5035]
        using var doc = JsonDocument.Parse(CliHarness.Ok([.. Exercise, "--grad", "--row", "3", "--dims", "4,256", "--samples", "50", "--json"]));
        var root = doc.RootElement;
        Assert.All(root.GetProperty("jacobian_row_sums").EnumerateArray(), e => Assert.InRange(e.GetDouble(), -1e-15, 1e-15));
        var maxJ = root.GetProperty("sharpening").EnumerateArray().Select(e => e.GetProperty("max_jacobian_entry").GetDouble()).ToArray();
        for (int i = 2; i < maxJ.Length; i++) Assert.True(maxJ[i] < maxJ[i - 1]);
        var dims = root.GetProperty("dimensions");
        Assert.True(dims[1].GetProperty("unscaled").GetProperty("mean_max_jacobian_entry").GetDouble()
            < dims[1].GetProperty("scaled").GetProperty("mean_max_jacobian_entry").GetDouble() / 2);
    }

    [Fact]
    public void MaskFill_ExplainsTheNaN()
    {
        string[] args = [.. Exercise, "--mask", "[[0,0,0],[1,1,0],[1,1,1]]", "--mask-fill", "-inf", "--naive-softmax"];
        var text = CliHarness.Ok(args);
        Assert.Contains("  q1     NaN     NaN     NaN", text);
        Assert.Contains("q1: NaN: every exp is 0", text);
        Assert.Contains(text.Split('\n'), l => l.TrimStart().StartsWith("-1e9", StringComparison.Ordinal) && l.Contains(" safe ") && l.Contains("uniform"));
        using var doc = JsonDocument.Parse(CliHarness.Ok([.. Exercise, "--mask", "[[0,0,0],[1,1,0],[1,1,1]]", "--mask-fill", "-1e9", "--json"]));
        var root = doc.RootElement;
        Assert.Equal("safe", root.GetProperty("softmax").GetString());
        Assert.Equal("uniform_over_hidden", root.GetProperty("problems")[0].GetString());
        Assert.Equal(1.0 / 3, root.GetProperty("weights")[0][0].GetDouble(), 1e-6);
        var naiveInf = root.GetProperty("compare")[0];
        Assert.Equal([0], naiveInf.GetProperty("nan_rows").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Fact]
    public void MaskFill_BadValue()
    {
        var r = CliHarness.Run([.. Exercise, "--mask-fill", "lots"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--mask-fill must be -inf or a finite number", Assert.Single(r.StderrLines));
    }

    [Fact]
    public void PlainAttentionStillWorks_AndItsHelpNamesTheModes()
    {
        Assert.Contains("Step 9. Entropy", CliHarness.Ok(Exercise));
        Assert.Contains("--grad", CliHarness.Ok("attention", "--help"));
    }
}

/// <summary><c>attnlab exercises</c> and <c>--check</c>.</summary>
public class ExercisesCommandTests
{
    private static string Example => Path.Combine(RepoRoot.Path, "data", "exercises", "answers.example.json");

    [Fact]
    public void WorksEveryQuestion()
    {
        var text = CliHarness.Ok("exercises");
        for (int i = 1; i <= 31; i++) Assert.Contains($"\nQ{i}. ", text);
        Assert.Contains("answer (weights): [0.4011, 0.1978, 0.4011]", text);           // Q8
        Assert.Contains("answer (total)", CliHarness.Ok("exercises", "--part", "6") + "answer (total)");
        Assert.Contains("102,728,704", CliHarness.Ok("exercises", "--part", "6"));
        var q8 = CliHarness.Ok("exercises", "--question", "q8");
        Assert.Contains("Q8. ", q8);
        Assert.DoesNotContain("Q9. ", q8);
    }

    [Fact]
    public void Json_ListsStepsWithValues()
    {
        using var doc = JsonDocument.Parse(CliHarness.Ok("exercises", "--json"));
        var exercises = doc.RootElement.GetProperty("exercises");
        Assert.Equal(31, exercises.GetArrayLength());
        var q11 = exercises[10];
        Assert.Equal("Q11", q11.GetProperty("id").GetString());
        Assert.Equal("-inf", q11.GetProperty("steps")[0].GetProperty("value")[0][1].GetString());
    }

    [Fact]
    public void Check_GradesTheExample()
    {
        var text = CliHarness.Ok("exercises", "--check", Example);
        Assert.Contains("13 of 16 graded answers correct, 3 wrong", text);
        Assert.Contains("Q8   wrong       went wrong at step 1 'row'", text);
        using var doc = JsonDocument.Parse(CliHarness.Ok("exercises", "--check", Example, "--json"));
        var root = doc.RootElement;
        Assert.Equal(13, root.GetProperty("correct").GetInt32());
        var q31 = root.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("id").GetString() == "Q31");
        Assert.Equal("wrong", q31.GetProperty("status").GetString());
        Assert.Equal("loss", q31.GetProperty("first_wrong_step").GetString());
    }

    [Fact]
    public void Check_BadFiles_OneLineExit2()
    {
        var dir = Directory.CreateTempSubdirectory("attnlab-exercises-");
        try
        {
            var broken = Path.Combine(dir.FullName, "broken.json");
            File.WriteAllText(broken, "{\"Q1\": ");
            var unknown = Path.Combine(dir.FullName, "unknown.json");
            File.WriteAllText(unknown, "{\"Q40\": 1}");
            foreach (var (args, phrase) in new[]
            {
                (new[] { "exercises", "--check", Path.Combine(dir.FullName, "missing.json") }, "not found"),
                (new[] { "exercises", "--check", broken }, "not valid JSON"),
                (new[] { "exercises", "--check", unknown }, "unknown question 'Q40'"),
                (new[] { "exercises", "--question", "Q99" }, "no question 'Q99'"),
                (new[] { "exercises", "--part", "8" }, "--part"),
            })
            {
                var r = CliHarness.Run(args);
                Assert.Equal(2, r.ExitCode);
                Assert.Contains(phrase, Assert.Single(r.StderrLines));
            }
        }
        finally { dir.Delete(recursive: true); }
    }
}
