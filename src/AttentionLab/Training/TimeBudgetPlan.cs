using System.Diagnostics;

namespace AttentionLab.Training;

/// <summary>
/// Fits a training run's step count to a wall-clock budget, as the demo does. First during warmup, from the speed of
/// steps 10..40 (the first steps include JIT compilation), then every 100 steps from the average speed since step 10
/// (evaluations and saves included), since a shared machine speeds up and slows down. The plan is what is left of the
/// budget after <see cref="Reserve"/> (sampling, drawing and saving at the end). Returns true from
/// <see cref="ShouldStop"/> only as a hard stop when the run overshoots the budget by 10%.
/// </summary>
public sealed class TimeBudgetPlan
{
    private readonly Stopwatch _training = Stopwatch.StartNew();
    private readonly Func<double> _elapsedTotal;
    private double _at10;

    /// <param name="budget">the whole run's budget</param>
    /// <param name="maxSteps">the most steps the plan may ask for</param>
    /// <param name="elapsedTotal">seconds since the run (not just training) started</param>
    /// <param name="reserve">seconds kept for the work after training</param>
    public TimeBudgetPlan(TimeSpan budget, int maxSteps, Func<double> elapsedTotal, TimeSpan? reserve = null)
    {
        if (budget <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(budget), "the time budget must be positive");
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSteps, 1);
        Budget = budget; MaxSteps = maxSteps; _elapsedTotal = elapsedTotal ?? throw new ArgumentNullException(nameof(elapsedTotal));
        Reserve = reserve ?? TimeSpan.FromSeconds(6);
    }

    public TimeSpan Budget { get; }
    public int MaxSteps { get; }
    public TimeSpan Reserve { get; }

    /// <summary>
    /// The step count to plan for after step <paramref name="step"/> of a run now planned for <paramref name="planned"/>
    /// steps, or null to keep the plan. Pure: a function of the measured speed, so tests can drive it.
    /// </summary>
    /// <param name="secondsSinceStep10">training seconds from step 10 to now</param>
    /// <param name="secondsLeft">budget seconds left for training</param>
    public static int? Refit(int step, int planned, int maxSteps, double secondsSinceStep10, double secondsLeft)
    {
        bool refit = step == 40 || (step > 40 && step % 100 == 0);
        if (!refit || step >= planned || secondsSinceStep10 <= 0) return null;
        double perStep = secondsSinceStep10 / (step - 10);
        int fit = (int)Math.Clamp(step + 1 + Math.Max(0, secondsLeft) / perStep, step + 1, maxSteps);
        return Math.Abs(fit - planned) > Math.Max(5, planned / 50) ? fit : null;
    }

    /// <summary>Called after each step: replans the trainer when due; true means stop now (hard limit).</summary>
    public bool ShouldStop(StepReport report, Trainer trainer)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(trainer);
        if (report.Step == 10) _at10 = _training.Elapsed.TotalSeconds;
        double left = Budget.TotalSeconds - _elapsedTotal() - Reserve.TotalSeconds;
        if (report.Step >= 40 && Refit(report.Step, trainer.Options.Steps, MaxSteps, _training.Elapsed.TotalSeconds - _at10, left) is int fit)
            trainer.Replan(fit);
        return _elapsedTotal() > Budget.TotalSeconds * 1.1;
    }
}
