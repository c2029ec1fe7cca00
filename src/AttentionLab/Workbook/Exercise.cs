namespace AttentionLab.Workbook;

/// <summary>One step of a worked answer: a named intermediate value and how it was reached.</summary>
/// <param name="Key">the name a learner uses in the answers file, e.g. "exp" or "weights"</param>
/// <param name="What">what the step is, in a phrase</param>
/// <param name="Value">the library's number for it</param>
/// <param name="Working">the arithmetic, e.g. "8 / 2 = 4"</param>
/// <param name="AlsoAccepted">other correct ways to write this step (e.g. exp with the row max subtracted)</param>
public sealed record ExerciseStep(string Key, string What, AnswerValue Value, string Working, IReadOnlyList<AnswerValue>? AlsoAccepted = null)
{
    /// <summary>The value or any accepted alternative matches.</summary>
    public bool Accepts(System.Text.Json.JsonElement given) =>
        Value.Matches(given) || (AlsoAccepted?.Any(a => a.Matches(given)) ?? false);
}

/// <summary>A known wrong final answer and the step where that mistake leaves the right path.</summary>
/// <param name="Step">the key of the first wrong step</param>
/// <param name="Value">the final answer this mistake produces (computed with the mistake, by library code)</param>
/// <param name="Mistake">what was done wrong, in one sentence</param>
public sealed record ExerciseSlip(string Step, AnswerValue Value, string Mistake);

/// <summary>
/// One question of the pen-and-paper set (seed 004) with its worked answer. The last step is the answer; a
/// question answered in words only has no steps and a model answer in <see cref="Note"/>.
/// </summary>
/// <param name="Id">"Q1" … "Q31"</param>
/// <param name="Part">1 … 7</param>
/// <param name="Title">the question in a line</param>
/// <param name="Steps">the worked steps, the answer last</param>
/// <param name="Note">the part of the answer that is words (meaning, why)</param>
/// <param name="Slips">common mistakes recognised in a bare final answer</param>
public sealed record Exercise(string Id, int Part, string Title, IReadOnlyList<ExerciseStep> Steps, string Note, IReadOnlyList<ExerciseSlip> Slips)
{
    public bool IsGraded => Steps.Count > 0;
    public ExerciseStep Answer => Steps[^1];

    /// <summary>The step with this key (case-insensitive), or null.</summary>
    public ExerciseStep? Step(string key) =>
        Steps.FirstOrDefault(s => string.Equals(s.Key, key, StringComparison.OrdinalIgnoreCase));
}
