using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using AttentionLab.Attention;
using AttentionLab.Training;

namespace AttentionLab.Explorer;

/// <summary>
/// Trains the demo model (what <c>attnlab demo</c> trains) in the background when the page asks — offered when no
/// model exists yet — and reports its progress for the page to poll. One run at a time, into a new runs/ folder;
/// checkpoints at each validation, so the model can be opened as soon as the first one is written.
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

    public JsonNode Start()
    {
        if (!Available) throw new ExplorerException(409, "this server cannot train the demo model (start it with a runs folder and the data)");
        lock (_lock)
        {
            if (_task is { IsCompleted: false }) return Status();
            var stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
            var dir = Path.Combine(catalog.RunsDirectory!, stamp);
            for (int k = 2; Directory.Exists(dir); k++) dir = Path.Combine(catalog.RunsDirectory!, $"{stamp}-{k}");
            _directory = dir; _error = null; _last = null; _validation = null;
            _clock.Restart();
            _task = Task.Run(() => Train(dir));
            return Status();
        }
    }

    private void Train(string dir)
    {
        try
        {
            var s = spec!;
            var corpus = Corpus.Load(s.DataPath, "char");
            var run = Gpt2TrainingRun.Start(corpus, s.DataPath, s.Config, s.Training, dir, AttentionKernels.Default);
            var plan = new TimeBudgetPlan(s.Budget, s.Training.Steps, () => _clock.Elapsed.TotalSeconds);
            while (!run.Trainer.IsFinished)
            {
                var r = run.Trainer.Step();
                lock (_lock) { _last = r; if (r.ValidationLoss is double v) _validation = v; }
                if (r.ValidationLoss is not null) run.Checkpoint();
                if (plan.ShouldStop(r, run.Trainer)) break;
            }
            run.Checkpoint();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidDataException)
        {
            lock (_lock) _error = e.Message.Split('\n')[0];
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
