using System.Text.Json;

namespace AttentionLab.Workbook;

public enum GradeStatus
{
    /// <summary>The answer (and every step given) is right.</summary>
    Correct,
    /// <summary>Something is wrong; <see cref="GradeResult.FirstWrongStep"/> says where, when it can be told.</summary>
    Wrong,
    /// <summary>The steps given are right but the final answer is missing.</summary>
    Incomplete,
    /// <summary>A question answered in words: compare with the model answer.</summary>
    NotGraded,
}

/// <summary>The grade of one question.</summary>
/// <param name="Id">"Q8"</param>
/// <param name="Status">correct, wrong, incomplete or not graded</param>
/// <param name="FirstWrongStep">the key of the first wrong step (e.g. "row"), or null when right or unknown</param>
/// <param name="StepNumber">its number, from 1, or 0</param>
/// <param name="Expected">the library's value for that step (or the answer)</param>
/// <param name="Message">one or two sentences for the learner</param>
public sealed record GradeResult(string Id, GradeStatus Status, string? FirstWrongStep, int StepNumber, string? Expected, string Message);

/// <summary>All grades of one answers file, in question order.</summary>
public sealed record GradeReport(IReadOnlyList<GradeResult> Results, IReadOnlyList<string> Unanswered)
{
    public int Correct => Results.Count(r => r.Status == GradeStatus.Correct);
    public int Graded => Results.Count(r => r.Status != GradeStatus.NotGraded);
}

/// <summary>
/// Grades a learner's answers file against <see cref="PenAndPaperExercises"/> and says, for each wrong answer, the
/// first step where it went wrong. The file is one JSON object (format and example in docs/exercises.md):
/// <code>
/// { "Q1": 4,                                            a bare final answer
///   "Q8": { "exp": [2.0281, 1, 2.0281], "sum": 5.0562,  or the steps, by name, in any subset
///           "weights": [0.4011, 0.1978, 0.4011] },
///   "Q11": [[0.7071, "-inf", "-inf"], …] }              −∞ written "-inf"
/// </code>
/// With steps, the first step (in the exercise's order) that does not match is the one reported. With a bare
/// answer, the grader recognises the common slips (skipping the 1/√d scaling, forgetting the mask or a bias, log
/// base 10, …) and names the step where each leaves the right path; an answer equal to an earlier step's value is
/// reported as stopping there.
/// </summary>
public static class ExerciseGrader
{
    /// <param name="answers">the parsed answers file: an object of question id → answer; keys starting with '_' are comments</param>
    /// <exception cref="ArgumentException">not an object, an unknown question, or an unknown step name</exception>
    public static GradeReport Check(JsonElement answers, IReadOnlyList<Exercise>? exercises = null)
    {
        exercises ??= PenAndPaperExercises.All;
        if (answers.ValueKind != JsonValueKind.Object)
            throw new ArgumentException("the answers file must be one JSON object such as {\"Q1\": 4, \"Q6\": [[1,0,1],[0,1,1],[1,1,2]]}");
        var given = new Dictionary<string, JsonElement>();
        foreach (var p in answers.EnumerateObject())
        {
            if (p.Name.StartsWith('_')) continue;
            var exercise = Find(exercises, p.Name)
                ?? throw new ArgumentException($"unknown question '{p.Name}'; the questions are {exercises[0].Id} … {exercises[^1].Id}");
            if (!given.TryAdd(exercise.Id, p.Value)) throw new ArgumentException($"question {exercise.Id} is answered twice");
        }
        var results = new List<GradeResult>();
        foreach (var exercise in exercises)
            if (given.TryGetValue(exercise.Id, out var answer)) results.Add(Grade(exercise, answer));
        var unanswered = exercises.Where(e => e.IsGraded && !given.ContainsKey(e.Id)).Select(e => e.Id).ToArray();
        return new GradeReport(results, unanswered);
    }

    /// <summary>Grades one answer: a bare value (the final answer) or an object of step name → value.</summary>
    public static GradeResult Grade(Exercise exercise, JsonElement answer)
    {
        ArgumentNullException.ThrowIfNull(exercise);
        if (!exercise.IsGraded)
            return new(exercise.Id, GradeStatus.NotGraded, null, 0, null, "answered in words; compare with the model answer: " + exercise.Note);
        return answer.ValueKind == JsonValueKind.Object
            ? GradeSteps(exercise, answer)
            : GradeFinal(exercise, answer);
    }

    private static GradeResult GradeSteps(Exercise exercise, JsonElement answer)
    {
        var byKey = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in answer.EnumerateObject())
        {
            if (exercise.Step(p.Name) is null)
                throw new ArgumentException($"{exercise.Id} has no step '{p.Name}'; its steps are {string.Join(", ", exercise.Steps.Select(s => s.Key))}");
            byKey[p.Name] = p.Value;
        }
        for (int i = 0; i < exercise.Steps.Count; i++)
        {
            var step = exercise.Steps[i];
            if (!byKey.TryGetValue(step.Key, out var value) || step.Accepts(value)) continue;
            // a known slip that leaves the path here and leads to the final answer given names the mistake
            var slip = byKey.TryGetValue(exercise.Answer.Key, out var final)
                ? exercise.Slips.FirstOrDefault(s => string.Equals(s.Step, step.Key, StringComparison.OrdinalIgnoreCase) && s.Value.Matches(final))
                : null;
            return Wrong(exercise, step, i, slip is null
                ? $"{step.Value.Compare(value)}: expected {Expected(step)}"
                : $"{slip.Mistake}; expected {Expected(step)}");
        }
        if (!byKey.ContainsKey(exercise.Answer.Key))
            return new(exercise.Id, GradeStatus.Incomplete, null, 0, exercise.Answer.Value.ToString(),
                $"the steps given are right; the answer '{exercise.Answer.Key}' ({exercise.Answer.What}) is missing");
        return Correct(exercise);
    }

    private static GradeResult GradeFinal(Exercise exercise, JsonElement answer)
    {
        var final = exercise.Answer;
        if (final.Accepts(answer)) return Correct(exercise);
        foreach (var slip in exercise.Slips)
            if (slip.Value.Matches(answer) && exercise.Step(slip.Step) is { } step)
                return Wrong(exercise, step, IndexOf(exercise, step), $"{slip.Mistake}; expected {Expected(step)}");
        for (int i = 0; i < exercise.Steps.Count - 1; i++)
            if (exercise.Steps[i].Accepts(answer))
            {
                var next = exercise.Steps[i + 1];
                return Wrong(exercise, next, i + 1,
                    $"that is step {i + 1} '{exercise.Steps[i].Key}' ({exercise.Steps[i].What}); carry on: {next.What} gives {next.Value}");
            }
        string why = final.Value.Compare(answer) ?? "different";
        string steps = exercise.Steps.Count > 1
            ? $"; give the steps ({string.Join(", ", exercise.Steps.Select(s => s.Key))}) as an object to find the first wrong one"
            : "";
        return new(exercise.Id, GradeStatus.Wrong, exercise.Steps.Count == 1 ? final.Key : null, exercise.Steps.Count == 1 ? 1 : 0,
            final.Value.ToString(), $"{why}: expected {Expected(final)}{steps}");
    }

    private static GradeResult Correct(Exercise exercise) =>
        new(exercise.Id, GradeStatus.Correct, null, 0, exercise.Answer.Value.ToString(), "correct");

    private static GradeResult Wrong(Exercise exercise, ExerciseStep step, int index, string detail) =>
        new(exercise.Id, GradeStatus.Wrong, step.Key, index + 1, step.Value.ToString(),
            $"went wrong at step {index + 1} '{step.Key}' ({step.What}): {detail}");

    /// <summary>"65,792 (weight 256 × 256 = 65,536 + bias 256 = 65,792)", without repeating a working that is just the value.</summary>
    private static string Expected(ExerciseStep step)
    {
        var value = step.Value.ToString();
        return step.Working.Contains(value, StringComparison.Ordinal) ? step.Working : $"{value} ({step.Working})";
    }

    private static int IndexOf(Exercise exercise, ExerciseStep step)
    {
        for (int i = 0; i < exercise.Steps.Count; i++) if (ReferenceEquals(exercise.Steps[i], step)) return i;
        return 0;
    }

    private static Exercise? Find(IReadOnlyList<Exercise> exercises, string id)
    {
        var key = id.Trim().ToUpperInvariant();
        if (!key.StartsWith('Q')) key = "Q" + key;
        return exercises.FirstOrDefault(e => e.Id == key);
    }
}
