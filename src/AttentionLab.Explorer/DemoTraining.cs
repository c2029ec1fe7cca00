using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using AttentionLab.Attention;
using AttentionLab.Training;

namespace AttentionLab.Explorer;

/// <summary>
/// Trains the demo model (what <c>attnlab demo</c> trains) in the background when the page asks — offered when no
/// model exists yet — and reports its progress for the page to poll. One run at a time, into a new runs/ folder, under
/// the library's <see cref="RunPolicy"/> (a checkpoint at each validation, so the model can be opened as soon as the
/// first one is written, and one at the end); the run's directory lock is released when it ends, however it ends.
/// </summary>
public sealed class DemoTraining(ModelCatalog catalog, DemoTrainingSpec? spec)
{
    private readonly object _lock = new();
    private Task? _task;
    private string? _directory, _error;
    private StepReport? _last;
    private double? _validation;
    private readonly Stopwatch _clock = new();

    public bool Available => spec is not null && catalog.RunsDirectory is not null;

    /// <summary>The run in progress or last run (completes when its directory is released); null before the first.</summary>
    public Task? Completion { get { lock (_lock) return _task; } }

    public JsonNode Start()
    {
        if (!Available) throw new ExplorerException(409, "this server cannot train the demo model (start it with a runs folder)");
        lock (_lock)
        {
            if (_task is { IsCompleted: false }) return Status();
            _directory = null; _error = null; _last = null; _validation = null;
            _clock.Restart();
            DecoderTrainingRun run;
            try
            {
                var s = spec!;
                var corpus = Corpus.Load(s.DataPath, "char");
                run = DecoderTrainingRun.StartNew(corpus, s.DataPath, s.Config, s.Training, directory: null, AttentionKernels.Default, runsRoot: catalog.RunsDirectory!);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidDataException)
            {
                _error = e.Message.Split('\n')[0];
                _task = Task.CompletedTask;
                return Status();
            }
            _directory = run.Directory;
            _task = Task.Run(() => Train(run));
            return Status();
        }
    }

    private void Train(DecoderTrainingRun run)
    {
        using var _ = run; // releases the directory's lock
        try
        {
            var plan = new TimeBudgetPlan(spec!.Budget, spec.Training.Steps, () => _clock.Elapsed.TotalSeconds);
            run.Run(new Reports(this), CancellationToken.None, plan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidDataException or TrainingDivergedException)
        {
            lock (_lock) _error = e.Message.Split('\n')[0];
        }
    }

    private sealed class Reports(DemoTraining owner) : IProgress<StepReport>
    {
        public void Report(StepReport r)
        {
            lock (owner._lock) { owner._last = r; if (r.ValidationLoss is double v) owner._validation = v; }
        }
    }

    public JsonNode Status()
    {
        lock (_lock)
        {
            bool running = _task is { IsCompleted: false };
            return new JsonObject
            {
                ["available"] = Available, ["running"] = running, ["done"] = _task is { IsCompleted: true } && _error is null,
                ["error"] = _error,
                ["model"] = _directory is null ? null : "runs/" + Path.GetFileName(_directory),
                ["step"] = _last?.Step, ["steps"] = _last?.TotalSteps, ["loss"] = _last?.Loss, ["val_loss"] = _validation,
                ["seconds"] = Math.Round(_clock.Elapsed.TotalSeconds, 1),
                ["budget_seconds"] = spec?.Budget.TotalSeconds,
            };
        }
    }
}
