using System.Collections.Concurrent;
using AttentionLab.Inspection;
using AttentionLab.IO;
using AttentionLab.Models;
using AttentionLab.Text;

namespace AttentionLab.Explorer;

/// <summary>
/// The models this server may open: the directories given at start-up, plus every model directory directly under
/// the runs folder (re-listed on each request, so a model trained from the page appears). A request names a model;
/// the name is looked up here and never used as a path.
/// </summary>
public sealed class ModelCatalog
{
    private readonly IReadOnlyList<string> _given;
    private readonly string? _runs;
    private readonly ConcurrentDictionary<string, Lazy<LoadedModel>> _loaded = new(StringComparer.Ordinal);
    private readonly int _viewsPerModel;
    private readonly AttentionLab.Kernels.WeightFormat? _weightFormat;

    /// <param name="directories">model directories given with --model</param>
    /// <param name="runsDirectory">where trained runs live (null: none)</param>
    /// <param name="viewsPerModel">inference views (activation arenas) per model: how many requests run at once</param>
    /// <param name="weightFormat">how GPT-2 models hold their streamed weights; null: each folder's own dtype</param>
    public ModelCatalog(IEnumerable<string> directories, string? runsDirectory, int viewsPerModel = 2, AttentionLab.Kernels.WeightFormat? weightFormat = null)
    {
        _weightFormat = weightFormat;
        _given = directories.Select(Path.GetFullPath).ToArray();
        _runs = runsDirectory is null ? null : Path.GetFullPath(runsDirectory);
        _viewsPerModel = viewsPerModel;
    }

    /// <summary>The runs folder (new demo models are trained into it).</summary>
    public string? RunsDirectory => _runs;

    /// <summary>Name → directory of every model that may be opened, given ones first, then runs newest first.</summary>
    public IReadOnlyList<(string Name, string Directory)> List()
    {
        var result = new List<(string, string)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        string Unique(string name)
        {
            var n = name;
            for (int k = 2; !names.Add(n); k++) n = $"{name}-{k}";
            return n;
        }
        foreach (var dir in _given) result.Add((Unique(Path.GetFileName(dir.TrimEnd(Path.DirectorySeparatorChar)) is { Length: > 0 } n ? n : "model"), dir));
        if (_runs is not null && Directory.Exists(_runs))
        {
            var runs = new DirectoryInfo(_runs).GetDirectories()
                .Where(d => IsModelDirectory(d.FullName) && !_given.Contains(d.FullName))
                .OrderByDescending(d => d.Name, StringComparer.Ordinal);
            foreach (var d in runs) result.Add((Unique("runs/" + d.Name), d.FullName));
        }
        return result;
    }

    /// <summary>True when the folder holds config.json and model.safetensors (listed; what kind it is, <see cref="Kind"/> says).</summary>
    public static bool IsModelDirectory(string directory) => ModelFolder.Exists(directory);

    /// <summary>"gpt2", "seq2seq", "bert" or "vit" (<see cref="ModelFolderInfo.Read"/>).</summary>
    /// <exception cref="InvalidDataException">a folder of no kind attnlab reads, or a damaged GPT-2 config</exception>
    public static string Kind(string directory) => ModelFolderInfo.Read(directory).Kind;

    public const string Gpt2Kind = ModelFolderInfo.Gpt2;

    /// <summary>The listed model of that name, with its directory and kind.</summary>
    /// <exception cref="ExplorerException">400 without a name, 404 for a name the catalog does not list</exception>
    public (string Name, string Directory, string Kind) Find(string? name)
    {
        if (string.IsNullOrEmpty(name)) throw new ExplorerException(400, "give a model name (GET /api/models lists them)");
        var match = List().FirstOrDefault(m => m.Name == name);
        if (match.Name is null) throw new ExplorerException(404, $"unknown model '{Shorten(name)}'; GET /api/models lists the models this server opens");
        try { return (match.Name, match.Directory, Kind(match.Directory)); }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw new ExplorerException(422, $"model '{Shorten(name)}' cannot be opened: {e.Message.Split('\n')[0]}");
        }
    }

    /// <summary>The loaded GPT-2 model of that name (loaded on first use).</summary>
    /// <exception cref="ExplorerException">404 for a name the catalog does not list, 400 for a model of another kind</exception>
    public LoadedModel Get(string? name)
    {
        var match = Find(name);
        if (match.Kind is not (Gpt2Kind or ModelFolderInfo.Llama))
            throw new ExplorerException(400, $"model '{match.Name}' is a {match.Kind} model; this view needs a GPT-2 or Llama-family model (POST /api/inspect reads every kind)");
        var lazy = _loaded.GetOrAdd(match.Directory, d => new Lazy<LoadedModel>(() => LoadedModel.Open(match.Name, d, _viewsPerModel, _weightFormat)));
        try { return lazy.Value; }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or FormatException or System.Text.Json.JsonException)
        {
            _loaded.TryRemove(match.Directory, out _);
            throw new ExplorerException(422, $"model '{name}' cannot be opened: {e.Message}");
        }
    }

    internal static string Shorten(string s) => s.Length <= 60 ? s : s[..60] + "…";
}

/// <summary>
/// One opened model: its weights (shared), tokenizer, and a small pool of inference views. <see cref="DecoderModel"/>
/// is not thread-safe, so each request rents a view (its own activations over the shared weights) and returns it.
/// </summary>
public sealed class LoadedModel
{
    private readonly ConcurrentBag<DecoderModel> _views = new();
    private readonly SemaphoreSlim _available;

    private LoadedModel(string name, string directory, DecoderModel model, ITokenizer? tokenizer, int views)
    {
        Name = name; Directory = directory; Model = model; Tokenizer = tokenizer;
        _available = new SemaphoreSlim(views, views);
        _views.Add(model);
        for (int i = 1; i < views; i++) _views.Add(model.InferenceView());
    }

    public string Name { get; }
    public string Directory { get; }
    /// <summary>The model as loaded (also the first view).</summary>
    public DecoderModel Model { get; }
    public ITokenizer? Tokenizer { get; }
    public DecoderConfig Config => Model.Config;

    public static LoadedModel Open(string name, string directory, int views, AttentionLab.Kernels.WeightFormat? weightFormat = null)
    {
        var info = ModelFolderInfo.Read(directory);
        var model = DecoderFolder.Load(directory, attention: null, training: false, format: weightFormat);
        var tokenizer = info.OpenTokenizer();
        return new LoadedModel(name, directory, model, tokenizer, Math.Max(1, views));
    }

    /// <summary>Runs <paramref name="work"/> on a free view. Kernels, masks and interventions are arguments of the
    /// view's calls (<see cref="ForwardOptions"/>), so there is nothing to restore.</summary>
    public T With<T>(Func<DecoderModel, T> work)
    {
        _available.Wait();
        if (!_views.TryTake(out var view)) { _available.Release(); throw new InvalidOperationException("no free model view"); }
        try { return work(view); }
        finally
        {
            _views.Add(view);
            _available.Release();
        }
    }
}
