using System.Text.Json;
using AttentionLab.Inspection;
using AttentionLab.Tests.Inspection;

namespace AttentionLab.Tests.Cli;

/// <summary><c>attnlab attention</c> reproduces seed 004 Parts 2 and 3 in text and in JSON.</summary>
public class AttentionCommandTests
{
    private static readonly string[] Exercise = ["attention", "--q", "[[1,0],[0,1],[1,1]]", "--k", "[[1,0],[0,1],[1,1]]", "--v", "[[1,2],[3,4],[5,6]]"];

    private static string[] With(params string[] more) => [.. Exercise, .. more];

    [Fact]
    public void Text_ShowsEveryStepWithItsNumbers()
    {
        var text = CliHarness.Ok(Exercise);
        foreach (var step in new[] { "Step 1. Raw scores", "Step 2. Scale", "Step 3. Mask", "Step 4. Row max", "Step 5. Exponentials", "Step 6. Row sums", "Step 7. Weights", "Step 8. Output", "Step 9. Entropy" })
            Assert.Contains(step, text);
        Assert.Contains("  q3   1   1   2", text);                                        // Q6: raw scores, row 3
        Assert.Contains("scale = 1/√D = 1/√2 = 1/1.4142 = 0.7071", text);               // Q7
        Assert.Contains("  q1  0.7071  0.0000  0.7071", text);                          // Q7: scaled row 1
        Assert.Contains("  q1  0.4011  0.1978  0.4011  1.0000", text);                  // Q8 with its row sum
        Assert.Contains("o1 = 0.4011·[1, 2] + 0.1978·[3, 4] + 0.4011·[5, 6] = [3.0000, 4.0000]", text); // Q9
        Assert.Contains("ln(Tk) = ln 3 = 1.0986", text);
        Assert.Contains("no mask", text);
    }

    [Fact]
    public void Text_Causal_ShowsTrilMaskAndMinusInfinity()
    {
        var text = CliHarness.Ok(With("--causal"));
        Assert.Contains("torch.tril(torch.ones(3, 3))", text);                          // Q10
        Assert.Contains("  q1  0.7071    -inf    -inf", text);                          // Q11
        Assert.Contains("  q1  1.0000  0.0000  0.0000  1.0000", text);                  // Q12
        Assert.Contains("  q2  0.3302  0.6698  0.0000  1.0000", text);                  // Q13: token 3 gets 0%
    }

    [Fact]
    public void Json_HasEveryStep_MatchingTheTrace()
    {
        var r = CliHarness.Ok(With("--causal", "--json"));
        using var doc = JsonDocument.Parse(r);
        var root = doc.RootElement;
        var trace = AttentionTrace.Compute(AttentionTraceTests.Q, AttentionTraceTests.K, AttentionTraceTests.V, isCausal: true);
        Assert.Equal(new double[,] { { 1, 0, 1 }, { 0, 1, 1 }, { 1, 1, 2 } }, Matrix(root.GetProperty("scores")));
        Assert.Equal(1 / Math.Sqrt(2), root.GetProperty("scale").GetDouble());
        Assert.Equal(trace.Scaled, Matrix(root.GetProperty("scaled")));
        Assert.Equal(trace.Masked, Matrix(root.GetProperty("masked"))); // null ↔ −∞
        Assert.Equal(JsonValueKind.Null, root.GetProperty("masked")[0][1].ValueKind);
        Assert.Equal(trace.Exp, Matrix(root.GetProperty("exp")));
        Assert.Equal(trace.Weights, Matrix(root.GetProperty("weights")));
        Assert.Equal([1.0, 0.0, 0.0], AttentionTraceTests.Row(Matrix(root.GetProperty("weights")), 0));
        Assert.Equal(0.0, root.GetProperty("weights")[1][2].GetDouble());
        Assert.Equal(trace.Output, Matrix(root.GetProperty("output")));
        Assert.Equal(trace.Entropy, root.GetProperty("entropy").EnumerateArray().Select(e => e.GetDouble()));
        Assert.Equal(trace.RowMax, root.GetProperty("row_max").EnumerateArray().Select(e => e.GetDouble()));
        Assert.Equal(trace.RowSum, root.GetProperty("row_sum").EnumerateArray().Select(e => e.GetDouble()));
    }

    [Fact]
    public void FullyMaskedRow_IsZeroAndSaysSo()
    {
        string[] args = ["attention", "--q", "[[1,1],[1,1]]", "--k", "[[1,0],[0,1]]", "--v", "[[1,2],[3,4]]", "--mask", "[[0,0],[1,1]]"];
        var text = CliHarness.Ok(args);
        Assert.Contains("q1 sees no key", text);
        Assert.Contains("defined as 0", text);
        using var doc = JsonDocument.Parse(CliHarness.Ok([.. args, "--json"]));
        var root = doc.RootElement;
        Assert.Equal(new double[,] { { 0, 0 }, { 0.5, 0.5 } }, Matrix(root.GetProperty("weights")));
        Assert.Equal([0.0, 0.0], AttentionTraceTests.Row(Matrix(root.GetProperty("output")), 0));
        Assert.Equal(JsonValueKind.Null, root.GetProperty("row_max")[0].ValueKind);
        Assert.Equal(0, Assert.Single(root.GetProperty("fully_masked_rows").EnumerateArray()).GetInt32());
    }

    [Fact]
    public void Causal_WithTqNotTk_SaysBottomRight()
    {
        var text = CliHarness.Ok("attention", "--q", "[[1]]", "--k", "[[1],[2],[3]]", "--v", "[[1],[2],[3]]", "--causal");
        Assert.Contains("aligned bottom-right", text);
        Assert.Contains("j ≤ i + (Tk − Tq) = i + 2", text);
    }

    [Fact]
    public void ScaleOptions()
    {
        Assert.Contains("scale = 1   (--no-scale", CliHarness.Ok(With("--no-scale")));
        Assert.Contains("scale = 0.5000   (--scale", CliHarness.Ok(With("--scale", "0.5")));
        using var doc = JsonDocument.Parse(CliHarness.Ok(With("--scale", "0.25", "--json")));
        Assert.Equal(0.25, doc.RootElement.GetProperty("scale").GetDouble());
        Assert.Contains("  q1  0.40  0.20  0.40  1.00", CliHarness.Ok(With("--digits", "2")));
    }

    [Fact]
    public void ReadsMatricesFromFiles()
    {
        var dir = Directory.CreateTempSubdirectory("attnlab-test-");
        try
        {
            var q = Path.Combine(dir.FullName, "q.json");
            File.WriteAllText(q, "[\n  [1, 0],\n  [0, 1],\n  [1, 1]\n]\n");
            var text = CliHarness.Ok("attention", "--q", "@" + q, "--k", "@" + q, "--v", "[[1,2],[3,4],[5,6]]", "--json");
            using var doc = JsonDocument.Parse(text);
            Assert.Equal(2.0, doc.RootElement.GetProperty("scores")[2][2].GetDouble());
        }
        finally { dir.Delete(recursive: true); }
    }

    [Fact]
    public void Help_PrintsUsage_ExitZero()
    {
        var text = CliHarness.Ok("attention", "--help");
        Assert.StartsWith("usage: attnlab attention", text);
        Assert.Contains("attention", CliHarness.Run("--help").Stdout);
    }

    /// <summary>JSON matrix → double[,], with null read back as −∞ (a hidden score).</summary>
    private static double[,] Matrix(JsonElement e)
    {
        var rows = e.EnumerateArray().ToArray();
        var m = new double[rows.Length, rows[0].GetArrayLength()];
        for (int i = 0; i < rows.Length; i++)
            for (int j = 0; j < m.GetLength(1); j++)
                m[i, j] = rows[i][j].ValueKind == JsonValueKind.Null ? double.NegativeInfinity : rows[i][j].GetDouble();
        return m;
    }
}
