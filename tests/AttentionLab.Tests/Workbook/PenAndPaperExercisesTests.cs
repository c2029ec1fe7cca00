using System.Text.Json;
using AttentionLab.Workbook;

namespace AttentionLab.Tests.Workbook;

/// <summary>
/// The workbook's answers (computed by library code) against the hand answers of seed 004, each derived in the
/// comment beside it. Numbers 1e-6 (hand values given to 7 digits), counts and shapes exact.
/// </summary>
public class PenAndPaperExercisesTests
{
    private static AnswerValue Step(string id, string key) => PenAndPaperExercises.Find(id)!.Step(key)!.Value;
    private static double Number(string id, string key) => Step(id, key).Values[0];
    private static double[] Values(string id, string key) => Step(id, key).Values.ToArray();

    [Fact]
    public void ThirtyOneQuestionsInSevenParts()
    {
        var all = PenAndPaperExercises.All;
        Assert.Equal(Enumerable.Range(1, 31).Select(i => $"Q{i}"), all.Select(e => e.Id));
        // Part 1 Q1–Q5, Part 2 Q6–Q9, Part 3 Q10–Q14, Part 4 Q15–Q17, Part 5 Q18–Q22, Part 6 Q23–Q27, Part 7 Q28–Q31
        Assert.Equal([5, 4, 5, 3, 5, 5, 4], Enumerable.Range(1, 7).Select(p => all.Count(e => e.Part == p)));
        Assert.All(all, e => Assert.InRange(e.Part, 1, 7));
        Assert.Equal(["Q14"], all.Where(e => !e.IsGraded).Select(e => e.Id));           // only Q14 is words alone
        Assert.Same(all[7], PenAndPaperExercises.Find("q8"));
        Assert.Same(all[7], PenAndPaperExercises.Find("8"));
    }

    [Fact]
    public void Part1_Shapes()
    {
        Assert.Equal(4, Number("Q1", "head_dim"));                                     // 8 / 2
        Assert.Equal([1, 4, 8], Values("Q2", "shape"));
        Assert.Equal([1, 4, 2, 4], Values("Q3", "view"));
        Assert.Equal([1, 2, 4, 4], Values("Q3", "shape"));
        Assert.Equal([1, 2, 4, 4], Values("Q4", "shape"));                              // (B, H, T, T)
        Assert.Equal([1, 4, 50], Values("Q5", "shape"));
    }

    [Fact]
    public void Part2And3_AttentionByHand()
    {
        Assert.Equal([1, 0, 1, 0, 1, 1, 1, 1, 2], Values("Q6", "scores"));
        Assert.Equal(Math.Sqrt(2), Number("Q7", "sqrt_head_dim"), 1e-12);
        double e = Math.Exp(1 / Math.Sqrt(2));                                          // e^0.7071 = 2.0281
        Assert.Equal(2.0281150, Values("Q8", "exp")[0], 1e-6);
        Assert.Equal(2 * e + 1, Number("Q8", "sum"), 1e-12);                           // 5.0562
        Close.Assert(Values("Q8", "weights").Select(x => (float)x).ToArray(), new[] { 0.4011121, 0.1977758, 0.4011121 }, 0, 1e-6, "Q8");
        Close.Assert(Values("Q9", "context").Select(x => (float)x).ToArray(), new[] { 3.0, 4.0 }, 0, 1e-6, "Q9");
        Assert.Equal([1, 0, 0, 1, 1, 0, 1, 1, 1], Values("Q10", "mask"));
        Assert.Equal(double.NegativeInfinity, Values("Q11", "masked")[1]);
        Assert.Equal([1, 0, 0], Values("Q12", "weights"));
        Close.Assert(Values("Q13", "weights").Select(x => (float)x).ToArray(), new[] { 0.3302385, 0.6697615, 0 }, 0, 1e-6, "Q13");
        Assert.Equal(0, Number("Q13", "percent_to_token_3"));
    }

    [Fact]
    public void Parts4And5_MultiHeadAndTheForwardPass()
    {
        Assert.Equal([1, 3, 8], Values("Q15", "before_view"));
        Assert.Equal([1, 3, 2, 4], Values("Q15", "after_view"));
        Assert.Equal([1, 2, 3, 4], Values("Q15", "after_transpose"));
        Assert.Equal([1, 3, 8], Values("Q16", "after_view"));
        Assert.Equal(64, Number("Q17", "head_dim"));                                   // 256 / 4
        Assert.Equal([7, 12, 3], Values("Q18", "rows"));
        Assert.Equal([1, 3, 4], Values("Q18", "shape"));
        Assert.Equal([3, 4], Values("Q19", "shape"));
        Assert.Equal(8, Number("Q20", "concat_width"));                                 // 4 + 4
        Assert.Equal([1, 3, 50], Values("Q21", "logits_shape"));
        Assert.Equal((2, 7), ((int)Number("Q21", "position"), (int)Number("Q21", "token")));
        Assert.Equal([12, 3, 25], Values("Q22", "targets"));
    }

    [Fact]
    public void Parts6And7_CountsAndConcepts()
    {
        Assert.Equal(200000.0 * 256, Number("Q23", "count"));
        Assert.Equal(256.0 * 256, Number("Q24", "count"));
        Assert.Equal(256.0 * 256 + 256, Number("Q25", "linear"));                       // 65,792
        Assert.Equal(4 * 65792.0, Number("Q25", "attention"));                         // 263,168
        Assert.Equal(256.0 * 200000, Number("Q26", "count"));
        Assert.Equal(102_728_704, Number("Q27", "total"));
        Assert.Equal(1.0 / 256, Number("Q29", "weight"), 1e-9);
        Assert.Equal(64, Number("Q30", "max_dot"));
        Assert.Equal(8, Number("Q30", "scaled"));
        Assert.Equal(12.206072645530174, Number("Q31", "loss"), 1e-12);               // ln 200,000
    }
}

/// <summary>
/// <see cref="ExerciseGrader"/>: right answers pass (rounded as on paper), and a wrong one is pinned to the first
/// step where it leaves the right path.
/// </summary>
public class ExerciseGraderTests
{
    private static GradeReport Grade(string json) => ExerciseGrader.Check(JsonDocument.Parse(json).RootElement);
    private static GradeResult One(string json) => Assert.Single(Grade(json).Results);

    [Fact]
    public void RightAnswers_BareOrAsSteps_RoundedOnPaper()
    {
        var report = Grade("""
            { "Q1": 4, "Q6": [[1,0,1],[0,1,1],[1,1,2]], "Q8": {"exp": [2.03, 1, 2.03], "sum": 5.06, "weights": [0.40, 0.20, 0.40]},
              "q11": [[0.7071, "-inf", "-inf"], [0, 0.7071, null], [0.7071, 0.7071, 1.4142]], "27": {"total": "102,728,704", "largest": "output_head"},
              "Q28": "High", "Q29": 0.0039, "_comment": "ignored" }
            """);
        Assert.All(report.Results, r => Assert.True(r.Status == GradeStatus.Correct, $"{r.Id}: {r.Message}"));
        Assert.Equal(7, report.Correct);
        Assert.DoesNotContain("Q1", report.Unanswered);
        Assert.Contains("Q2", report.Unanswered);
    }

    [Fact]
    public void MaxSubtractedExpIsAlsoRight()
    {
        // e^(a − max): [1, e^−0.7071, 1] = [1, 0.4931, 1], sum 2.4931 — the same weights
        Assert.Equal(GradeStatus.Correct, One("""{"Q8": {"exp": [1, 0.4931, 1], "sum": 2.4931, "weights": [0.4011, 0.1978, 0.4011]}}""").Status);
    }

    [Fact]
    public void StepsPinTheFirstWrongOne()
    {
        // exp right, sum wrong (forgot the middle 1), weights wrong as a consequence: the sum is reported
        var r = One("""{"Q8": {"exp": [2.0281, 1, 2.0281], "sum": 4.0562, "weights": [0.5, 0, 0.5]}}""");
        Assert.Equal(GradeStatus.Wrong, r.Status);
        Assert.Equal(("sum", 3), (r.FirstWrongStep, r.StepNumber));
        Assert.Contains("5.0562", r.Message);
    }

    [Fact]
    public void StepsThatFollowAKnownSlip_NameTheMistake()
    {
        // the raw row [1, 0, 1] instead of the scaled one, then softmax of it: [e, 1, e] / (2e + 1)
        var r = One("""{"Q8": {"row": [1, 0, 1], "exp": [2.7183, 1, 2.7183], "weights": [0.4223, 0.1554, 0.4223]}}""");
        Assert.Equal(("row", 1), (r.FirstWrongStep, r.StepNumber));
        Assert.Contains("scaling by 1/√2 (Q7) was skipped", r.Message);
    }

    [Theory]
    [InlineData("""{"Q8": [0.4223, 0.1554, 0.4223]}""", "row", "scaling by 1/√2")]        // softmax of raw [1, 0, 1]
    [InlineData("""{"Q8": [0.5, 0, 0.5]}""", "exp", "without exponentiating")]            // [0.7071, 0, 0.7071] / 1.4142
    [InlineData("""{"Q12": [0.4011, 0.1978, 0.4011]}""", "weights", "forgot the mask")]
    [InlineData("""{"Q13": 40.11}""", "percent_to_token_3", "forgot the mask")]
    [InlineData("""{"Q25": 262144}""", "linear", "forgot the bias")]                      // 4 × 256²
    [InlineData("""{"Q27": 51528704}""", "total", "tied")]
    [InlineData("""{"Q31": 5.301}""", "loss", "log base 10")]
    [InlineData("""{"Q31": 0.000005}""", "loss", "probability")]
    public void BareWrongAnswers_RecogniseTheSlip(string json, string step, string phrase)
    {
        var r = One(json);
        Assert.Equal(GradeStatus.Wrong, r.Status);
        Assert.Equal(step, r.FirstWrongStep);
        Assert.Contains(phrase, r.Message);
    }

    [Fact]
    public void AnAnswerThatIsAnEarlierStep_SaysWhereToCarryOn()
    {
        var r = One("""{"Q7": 1.4142}""");                                             // √2 is step 1, the question asks for the scaled matrix
        Assert.Equal(("scaled", 2), (r.FirstWrongStep, r.StepNumber));
        Assert.Contains("that is step 1", r.Message);
    }

    [Fact]
    public void Tolerance_SmallNumbersKeepTheirDigits()
    {
        Assert.Equal(GradeStatus.Correct, One("""{"Q29": 0.004}""").Status);           // 1/256 = 0.0039: within 5%
        Assert.Equal(GradeStatus.Wrong, One("""{"Q29": 0.008}""").Status);             // within 0.005 but 100% off
        Assert.Equal(GradeStatus.Correct, One("""{"Q31": 12.21}""").Status);           // 0.03% off
        Assert.Equal(GradeStatus.Wrong, One("""{"Q27": {"total": 102728705}}""").Status); // counts exact
        Assert.Equal(GradeStatus.Wrong, One("""{"Q2": [1, 8, 4]}""").Status);
        Assert.Contains("list of 3", One("""{"Q2": [1, 4, 8, 1]}""").Message);
    }

    [Fact]
    public void WordsAndMissingFinalAnswers()
    {
        Assert.Equal(GradeStatus.NotGraded, One("""{"Q14": "so it cannot cheat"}""").Status);
        var r = One("""{"Q25": {"linear": 65792}}""");
        Assert.Equal(GradeStatus.Incomplete, r.Status);
        Assert.Contains("attention", r.Message);
    }

    [Fact]
    public void MalformedFilesAreArgumentErrors()
    {
        Assert.Contains("JSON object", Assert.Throws<ArgumentException>(() => Grade("[1, 2]")).Message);
        Assert.Contains("unknown question 'Q99'", Assert.Throws<ArgumentException>(() => Grade("""{"Q99": 1}""")).Message);
        Assert.Contains("its steps are row, exp, sum, weights", Assert.Throws<ArgumentException>(() => Grade("""{"Q8": {"softmax": 1}}""")).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => Grade("""{"Q8": 1, "q8": 1}""")).Message);
    }

    [Fact]
    public void TheShippedExampleGradesAsDocumented()
    {
        var path = Path.Combine(RepoRoot.Path, "data", "exercises", "answers.example.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var report = ExerciseGrader.Check(doc.RootElement);
        Assert.Equal((13, 16), (report.Correct, report.Graded));
        var wrong = report.Results.Where(r => r.Status == GradeStatus.Wrong).Select(r => (r.Id, r.FirstWrongStep)).ToArray();
        Assert.Equal([("Q8", "row"), ("Q25", "linear"), ("Q31", "loss")], wrong);
    }
}
