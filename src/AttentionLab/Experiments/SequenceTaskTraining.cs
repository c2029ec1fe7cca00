using System.Diagnostics;
using AttentionLab.Training;

namespace AttentionLab.Experiments;

/// <summary>The training loop of a synthetic task, shared by every <see cref="ISequenceTask"/>.</summary>
public static class SequenceTaskTraining
{
    /// <summary>
    /// Trains on fresh windows with the trainer's recipe (AdamW, clipping, warmup; then the cosine schedule over a fixed
    /// step count, or a constant rate under a time budget, whose length is not known in advance).
    /// </summary>
    /// <param name="validation">the task's held-out loss, recorded every <c>EvalEvery</c> steps and at the end</param>
    /// <param name="progress">(step, planned, loss) after every step</param>
    public static TrainingState Train(ISequenceTask task, ILanguageModel model, TrainingOptions options, TimeSpan? budget, Func<double> validation, Action<int, int, double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(validation);
        task.Validate();
        options.Validate();
        if (model.VocabSize < task.VocabSize || model.Context < task.Context) throw new ArgumentException($"the model must take {task.VocabSize} tokens and {task.Context} positions");
        var optimizer = Trainer.CreateOptimizer(model, options);
        var schedule = budget is null ? options.Schedule : new LearningRateSchedule(options.LearningRate, options.LearningRate, options.WarmupSteps, int.MaxValue);
        int planned = budget is null ? options.Steps : int.MaxValue;
        var random = new SplitMix64(options.Seed);
        int B = options.BatchSize, T = task.Context;
        var x = new int[B * T]; var y = new int[B * T];
        var state = new TrainingState();
        var clock = Stopwatch.StartNew();
        for (int step = 0; step < planned && (budget is null || clock.Elapsed < budget.Value); step++)
        {
            task.Fill(ref random, x, y, B);
            model.ZeroGrad();
            float loss = model.Forward(x, B, T, y);
            if (!float.IsFinite(loss)) throw new InvalidOperationException($"the loss became {loss} at step {step}");
            model.Backward();
            AdamW.ClipGradientNorm(model.Gradients, options.GradientClip > 0 ? (float)options.GradientClip : float.PositiveInfinity);
            optimizer.Step(model.Parameters, model.Gradients, (float)schedule.At(step));
            state.Step = step + 1;
            state.TrainLosses.Add(new LossPoint(step, loss));
            progress?.Invoke(state.Step, budget is null ? planned : 0, loss);
            if (state.Step % options.EvalEvery == 0) state.ValidationLosses.Add(new LossPoint(state.Step, validation()));
        }
        state.Seconds = clock.Elapsed.TotalSeconds;
        if (state.ValidationLosses.Count == 0 || state.ValidationLosses[^1].Step != state.Step)
            state.ValidationLosses.Add(new LossPoint(state.Step, validation()));
        return state;
    }
}
