using System.Text.Json;
using AttentionLab.Workbook;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// <c>attnlab exercises</c>: the pen-and-paper set (seed 004) worked step by step from the library's numbers, and
/// <c>--check answers.json</c> to grade a learner's answers. The work is <see cref="PenAndPaperExercises"/> and
/// <see cref="ExerciseGrader"/>; this file parses and renders.
/// </summary>
public static class ExercisesCommand
{
    public const string Summary = "the pen-and-paper exercises worked by the library; --check grades your answers";

    private const string Usage = """
        usage: attnlab exercises [--part N | --question Q8] [--json]
               attnlab exercises --check answers.json [--json]

        The 31 pen-and-paper exercises (seed 004: shapes, attention by hand, causal mask, multi-head, the GPT
        forward pass, parameter counts, concepts), each worked step by step with the library's own numbers.

          --part N          only part N (1..7)
          --question ID     only one question, e.g. Q8
          --check FILE      grade your answers: a JSON object {"Q1": 4, "Q8": {"exp": [...], "weights": [...]}, ...};
                            for each wrong answer, the first step where it went wrong (format: docs/exercises.md,
                            example: data/exercises/answers.example.json)
          --json            exercises: {"exercises":[{"id","part","title","steps":[{"key","what","value","working"}],
                            "answer","note"}]}; check: {"correct","graded","wrong","unanswered","results":[{"id",
                            "status","first_wrong_step","step_number","expected","message"}]}

        Numbers may be rounded as on paper (|error| ≤ 0.005 + 0.1%); counts and shapes must be exact; −∞ is "-inf".
        """;

    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        var args = new Args(argv);
        if (args.Help) { stdout.WriteLine(Usage); return 0; }
        int? part = args.Has("part") ? args.Int("part", 1, 1, PenAndPaperExercises.Parts.Count) : null;
        string? question = args.String("question");
        string? check = args.String("check");
        bool json = args.Json;
        args.EnsureAllUsed();
        if (check is not null && (part is not null || question is not null))
            throw new CliError("--check grades the whole answers file; leave out --part and --question");
        if (part is not null && question is not null) throw new CliError("give either --part or --question, not both");

        if (check is not null) return Check(check, json, stdout);

        var exercises = PenAndPaperExercises.All.AsEnumerable();
        if (part is { } n) exercises = exercises.Where(e => e.Part == n);
        if (question is not null)
        {
            var one = PenAndPaperExercises.Find(question)
                ?? throw new CliError($"--question: no question '{question}'; the questions are Q1 … Q{PenAndPaperExercises.All.Count}");
            exercises = [one];
        }
        var selected = exercises.ToList();
        if (json) PrintJson(stdout, selected);
        else Print(stdout, selected);
        return 0;
    }

    private static int Check(string path, bool json, TextWriter stdout)
    {
        if (!File.Exists(path)) throw new CliError($"--check: file '{path}' not found");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new CliError($"--check: {path} is not valid JSON: {e.Message}"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new CliError($"--check: cannot read '{path}': {e.Message}"); }
        GradeReport report;
        using (doc)
        {
            try { report = ExerciseGrader.Check(doc.RootElement); }
            catch (ArgumentException e) { throw new CliError($"--check {path}: {e.Message}"); }
        }
        int wrong = report.Results.Count(r => r.Status == GradeStatus.Wrong);
        if (json)
        {
            JsonOutput.Print(stdout, w =>
            {
                w.WriteStartObject();
                w.WriteString("file", path);
                w.WriteNumber("correct", report.Correct);
                w.WriteNumber("graded", report.Graded);
                w.WriteNumber("wrong", wrong);
                w.WriteStartArray("unanswered"); foreach (var id in report.Unanswered) w.WriteStringValue(id); w.WriteEndArray();
                w.WriteStartArray("results");
                foreach (var r in report.Results)
                {
                    w.WriteStartObject();
                    w.WriteString("id", r.Id);
                    w.WriteString("status", Status(r.Status));
                    if (r.FirstWrongStep is null) w.WriteNull("first_wrong_step"); else w.WriteString("first_wrong_step", r.FirstWrongStep);
                    w.WriteNumber("step_number", r.StepNumber);
                    if (r.Expected is null) w.WriteNull("expected"); else w.WriteString("expected", r.Expected);
                    w.WriteString("message", r.Message);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            });
            return 0;
        }
        stdout.WriteLine($"Grading {path}: {report.Correct} of {report.Graded} graded answers correct, {wrong} wrong" +
            (report.Unanswered.Count > 0 ? $"; {report.Unanswered.Count} questions not answered" : ""));
        stdout.WriteLine();
        foreach (var r in report.Results)
            stdout.WriteLine($"  {r.Id,-4} {Status(r.Status),-11} {(r.Status == GradeStatus.Correct ? "" : r.Message)}".TrimEnd());
        if (report.Unanswered.Count > 0)
        {
            stdout.WriteLine();
            stdout.WriteLine($"  not answered: {string.Join(", ", report.Unanswered)}");
        }
        return 0;
    }

    private static string Status(GradeStatus s) => s switch
    {
        GradeStatus.Correct => "correct",
        GradeStatus.Wrong => "wrong",
        GradeStatus.Incomplete => "incomplete",
        _ => "not_graded",
    };

    private static void PrintJson(TextWriter stdout, List<Exercise> exercises) => JsonOutput.Print(stdout, w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("exercises");
        foreach (var e in exercises)
        {
            w.WriteStartObject();
            w.WriteString("id", e.Id);
            w.WriteNumber("part", e.Part);
            w.WriteString("title", e.Title);
            w.WriteStartArray("steps");
            foreach (var s in e.Steps)
            {
                w.WriteStartObject();
                w.WriteString("key", s.Key);
                w.WriteString("what", s.What);
                w.WritePropertyName("value");
                s.Value.WriteJson(w);
                w.WriteString("working", s.Working);
                if (s.AlsoAccepted is { Count: > 0 } also)
                {
                    w.WriteStartArray("also_accepted");
                    foreach (var a in also) a.WriteJson(w);
                    w.WriteEndArray();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (e.IsGraded) w.WriteString("answer", e.Answer.Key); else w.WriteNull("answer");
            w.WriteString("note", e.Note);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });

    private static void Print(TextWriter w, List<Exercise> exercises)
    {
        w.WriteLine("The pen-and-paper exercises (seed 004), worked step by step with the library's own numbers");
        w.WriteLine("  grade your own answers with: attnlab exercises --check answers.json   (format: docs/exercises.md)");
        int part = 0;
        foreach (var e in exercises)
        {
            if (e.Part != part)
            {
                part = e.Part;
                w.WriteLine();
                w.WriteLine($"Part {part}: {PenAndPaperExercises.Parts[part]}");
            }
            w.WriteLine();
            w.WriteLine($"{e.Id}. {e.Title}");
            for (int i = 0; i < e.Steps.Count; i++)
            {
                var s = e.Steps[i];
                w.WriteLine($"  {i + 1}. {s.Key} — {s.What}: {s.Working}");
                var shown = s.Value.ToString();
                if (i < e.Steps.Count - 1 && !s.Working.EndsWith(shown, StringComparison.Ordinal) && !s.Working.EndsWith(shown.Replace('[', '(').Replace(']', ')'), StringComparison.Ordinal))
                    w.WriteLine($"     = {shown}");
            }
            if (e.IsGraded) w.WriteLine($"  answer ({e.Answer.Key}): {e.Answer.Value}");
            if (e.Note.Length > 0) w.WriteLine($"  {(e.IsGraded ? "why" : "answer (in words)")}: {e.Note}");
        }
    }
}
