using AttentionLab.IO;
using AttentionLab.Training;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// The <c>--out</c> folder of a seq2seq, bert or vit training, held from before training until its command ends: one
/// <see cref="RunDirectoryLock"/> per folder (as train and demo take), so a second writer is refused with one line
/// instead of mixing two models' files. Nothing the user keeps there is touched: the files the save would replace
/// (config.json, model.safetensors, the command's SVG) need --force, and a folder this command made is removed again
/// when it fails before saving.
/// </summary>
internal sealed class ModelOutputFolder : IDisposable
{
    private readonly RunDirectoryLock _lock;
    private readonly string? _createdFrom;

    private ModelOutputFolder(RunDirectoryLock directoryLock, string? createdFrom) { _lock = directoryLock; _createdFrom = createdFrom; }

    /// <summary>The locked folder (--out, or a new runs/&lt;timestamp&gt;).</summary>
    public string Directory => _lock.Directory;

    /// <summary>
    /// Locks <paramref name="outDir"/> (creating it), or a new runs/&lt;timestamp&gt; when null, then checks it: a folder
    /// that holds a model, or a file of the user's that saving would overwrite, needs <paramref name="force"/>.
    /// Call it after every other option is checked, so bad input never makes a folder.
    /// </summary>
    /// <param name="svgFile">the file name of the SVG the command writes beside the model</param>
    public static ModelOutputFolder Lock(string? outDir, bool force, string svgFile)
    {
        string? createdFrom = outDir is null ? null : OutermostMissing(outDir);
        var directoryLock = outDir is null ? NewRunDirectory() : TrainCommand.LockOut(outDir);
        var folder = new ModelOutputFolder(directoryLock, outDir is null ? directoryLock.Directory : createdFrom);
        try
        {
            folder.Check(force, svgFile);
            return folder;
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    private void Check(bool force, string svgFile)
    {
        if (force) return;
        if (ModelFolder.Exists(Directory))
            throw new CliError($"{Directory} already holds a model; pass --force to replace it, or --model {Directory} to evaluate it");
        var existing = new[] { ModelFolder.ConfigFile, ModelFolder.WeightsFile, svgFile }
            .Where(name => Path.Exists(Path.Combine(Directory, name))).ToList();
        if (existing.Count > 0)
            throw new CliError($"{Directory} holds {string.Join(", ", existing)}, which saving the model would overwrite; pass --force to replace it or choose another --out");
    }

    /// <summary>
    /// Trains to the end with progress (Ctrl+C stops early and keeps the model), evaluates, then saves the model and
    /// the command's SVG here.
    /// </summary>
    /// <param name="evaluate">the held-out score (timed)</param>
    /// <param name="save">writes config.json and model.safetensors into the folder it is given</param>
    /// <param name="svg">the SVG drawn from the trained model</param>
    public TrainedModel Train(Trainer trainer, bool json, TextWriter stdout, Func<double> evaluate, Action<string> save, string svgFile, Func<string> svg)
    {
        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        var (last, interrupted) = TrainingProgress.Run(trainer, TrainingProgress.Style.Examples, TrainingProgress.Choose(stdout, json), stdout);
        double cpuSeconds = (System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        double accuracy = evaluate();
        double evalSeconds = watch.Elapsed.TotalSeconds;
        save(Directory);
        ModelCommandSupport.WriteText(Path.Combine(Directory, svgFile), svg());
        return new TrainedModel(trainer, last, interrupted, cpuSeconds, accuracy, evalSeconds, Directory, svgFile);
    }

    /// <summary>Releases the lock; a folder this command made that holds nothing but the lock (it failed before
    /// saving) is removed, with the parent folders it made for it.</summary>
    public void Dispose()
    {
        _lock.Dispose();
        if (_createdFrom is null) return;
        RunDirectoryLock.RemoveIfOnlyLock(Directory);
        var stop = FullPath(_createdFrom);
        for (var d = Path.GetDirectoryName(FullPath(Directory)); d is not null && d.Length >= stop.Length; d = Path.GetDirectoryName(d))
        {
            try
            {
                if (!System.IO.Directory.Exists(d) || System.IO.Directory.EnumerateFileSystemEntries(d).Any()) return;
                System.IO.Directory.Delete(d);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        }
    }

    private static RunDirectoryLock NewRunDirectory()
    {
        try { return RunDirectoryLock.AcquireNew(); }
        catch (IOException e) { throw new CliError(e.Message); }
    }

    /// <summary>The outermost folder of <paramref name="path"/> that does not exist yet (null when it exists).</summary>
    private static string? OutermostMissing(string path)
    {
        string? missing = null;
        for (var d = FullPath(path); d is not null && !Path.Exists(d); d = Path.GetDirectoryName(d)) missing = d;
        return missing;
    }

    private static string FullPath(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
}
