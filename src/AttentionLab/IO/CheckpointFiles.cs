using System.Text.Json;

namespace AttentionLab.IO;

/// <summary>
/// A Hugging Face folder's weights, one file or sharded: <c>model.safetensors</c>, or
/// <c>model.safetensors.index.json</c> (<c>{"metadata": {"total_size": bytes}, "weight_map": {name: file}}</c>)
/// with the shards it names, <c>model-0000k-of-0000n.safetensors</c>. Opening reads and checks every header (not the
/// values): each weight_map entry must be in the shard it names, no tensor in two shards, no shard tensor missing from
/// the map, shard names plain file names inside the folder. <see cref="Read"/> then gives one tensor by name as float32
/// (F32, F16 or BF16 on disk), so a loader holds one tensor beyond its arena at a time.
/// <code>
///   using var files = CheckpointFiles.Open(dir);
///   files.EnsureFits();                                  // one line when the folder is too large for this machine
///   float[] wq = files.Read("model.layers.0.self_attn.q_proj.weight");
/// </code>
/// </summary>
public sealed class CheckpointFiles : IDisposable
{
    /// <summary>The unsharded weights file.</summary>
    public const string SingleFile = "model.safetensors";

    /// <summary>The index of a sharded checkpoint.</summary>
    public const string IndexFile = "model.safetensors.index.json";

    /// <summary>Index files larger than this are refused (Llama 3 70B's is about 60 kB).</summary>
    public const long MaxIndexBytes = 16 << 20;

    /// <summary>At most this many shards.</summary>
    public const int MaxShards = 4096;

    private readonly Dictionary<string, (int Shard, SafeTensorEntry Entry)> _tensors;
    private readonly FileStream[] _streams;
    private readonly SafeTensorsHeader[] _headers;

    /// <summary>The folder.</summary>
    public string Directory { get; }

    /// <summary>The weight files in the order first named (one for an unsharded folder).</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>True when the folder has an index.</summary>
    public bool IsSharded { get; }

    /// <summary>Every tensor name, in ordinal order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The index's metadata.total_size, or null (unsharded, or absent).</summary>
    public long? DeclaredTotalSize { get; }

    /// <summary>The bytes of every tensor as stored.</summary>
    public long StoredBytes => _tensors.Values.Sum(t => t.Entry.Bytes);

    /// <summary>The bytes of every tensor as float32.</summary>
    public long Float32Bytes => _tensors.Values.Sum(t => t.Entry.Count * 4);

    private CheckpointFiles(string directory, List<string> files, FileStream[] streams, SafeTensorsHeader[] headers,
        Dictionary<string, (int, SafeTensorEntry)> tensors, bool sharded, long? declared)
    {
        Directory = directory; Files = files; _streams = streams; _headers = headers; _tensors = tensors;
        IsSharded = sharded; DeclaredTotalSize = declared;
        Names = [.. tensors.Keys.Order(StringComparer.Ordinal)];
    }

    /// <summary>True when the folder holds model.safetensors or model.safetensors.index.json.</summary>
    public static bool Exists(string directory) =>
        File.Exists(Path.Combine(directory, IndexFile)) || File.Exists(Path.Combine(directory, SingleFile));

    /// <summary>Opens the folder's weights: the index and its shards when the index is there, else model.safetensors.</summary>
    /// <exception cref="InvalidDataException">a missing, damaged or inconsistent file: one line naming it</exception>
    public static CheckpointFiles Open(string directory)
    {
        var indexPath = Path.Combine(directory, IndexFile);
        if (File.Exists(indexPath) || System.IO.Directory.Exists(indexPath))
        {
            var (map, declared) = ReadIndex(indexPath);
            var files = map.Values.Distinct(StringComparer.Ordinal).ToList();
            if (files.Count > MaxShards) throw new InvalidDataException($"{indexPath}: {files.Count} shards, more than the {MaxShards} allowed");
            return OpenFiles(directory, files, map, declared);
        }
        if (!File.Exists(Path.Combine(directory, SingleFile)) && !System.IO.Directory.Exists(Path.Combine(directory, SingleFile)))
            throw new InvalidDataException($"{directory} has neither {SingleFile} nor {IndexFile}");
        return OpenFiles(directory, [SingleFile], null, null);
    }

    private static (Dictionary<string, string> Map, long? Declared) ReadIndex(string path)
    {
        using var doc = InputFile.ParseJson(InputFile.ReadAllBytes(path, MaxIndexBytes, IndexFile), path);
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path} is not a JSON object");
        var f = new JsonFields(doc.RootElement, path);
        long? declared = null;
        if (f.Optional("metadata", JsonValueKind.Object) is JsonElement meta)
            declared = new JsonFields(meta, $"{path}: metadata").OptionalLong("total_size", 0);
        if (f.Optional("weight_map", JsonValueKind.Object) is not JsonElement wm) throw new InvalidDataException($"{path} has no 'weight_map' object");
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in wm.EnumerateObject())
        {
            string name = InputFile.GetName(p, "tensor name");
            if (p.Value.ValueKind != JsonValueKind.String) throw new InvalidDataException($"{path}: weight_map['{Short(name)}'] is {InputFile.Describe(p.Value)}, not a file name");
            string file = InputFile.GetText(p.Value, $"{path}: weight_map['{Short(name)}']");
            if (!IsPlainFileName(file)) throw new InvalidDataException($"{path}: weight_map['{Short(name)}'] = '{Short(file)}' is not a .safetensors file name inside the folder");
            if (!map.TryAdd(name, file)) throw new InvalidDataException($"{path}: tensor '{Short(name)}' appears twice in the weight_map");
        }
        if (map.Count == 0) throw new InvalidDataException($"{path}: the weight_map is empty");
        return (map, declared);
    }

    /// <summary>A shard name must stay inside the folder: no separators, no "..", no drive letters or control characters.</summary>
    private static bool IsPlainFileName(string file) =>
        file.EndsWith(".safetensors", StringComparison.Ordinal) && file.Length > ".safetensors".Length && file.Length <= 255 &&
        file.IndexOfAny(['/', '\\', ':']) < 0 && !file.StartsWith('.') && !file.Any(char.IsControl);

    private static CheckpointFiles OpenFiles(string directory, List<string> files, Dictionary<string, string>? map, long? declared)
    {
        var streams = new List<FileStream>();
        try
        {
            var headers = new SafeTensorsHeader[files.Count];
            var tensors = new Dictionary<string, (int, SafeTensorEntry)>(StringComparer.Ordinal);
            for (int k = 0; k < files.Count; k++)
            {
                var path = Path.Combine(directory, files[k]);
                if (!File.Exists(path) && !System.IO.Directory.Exists(path))
                    throw new InvalidDataException($"{path} does not exist{(map is null ? "" : $" (the {IndexFile} puts tensors in it)")}");
                var stream = InputFile.OpenRead(path, "safetensors file");
                streams.Add(stream);
                try { headers[k] = SafeTensors.ReadHeader(stream); }
                catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
                catch (EndOfStreamException) { throw new InvalidDataException($"{path}: the file ended inside its header"); }
                foreach (var e in headers[k].Entries)
                {
                    if (tensors.TryGetValue(e.Name, out var other))
                        throw new InvalidDataException($"{directory}: tensor '{Short(e.Name)}' is in both {files[other.Item1]} and {files[k]}");
                    if (map is not null && (!map.TryGetValue(e.Name, out var listed) || listed != files[k]))
                        throw new InvalidDataException($"{path}: tensor '{Short(e.Name)}' is in this shard but the weight_map {(listed is null ? "does not list it" : $"puts it in {listed}")}");
                    tensors[e.Name] = (k, e);
                }
            }
            if (map is not null)
                foreach (var (name, file) in map)
                    if (!tensors.ContainsKey(name)) throw new InvalidDataException($"{Path.Combine(directory, file)}: has no tensor '{Short(name)}', which the weight_map puts there");
            return new CheckpointFiles(directory, files, [.. streams], headers, tensors, map is not null, declared);
        }
        catch
        {
            foreach (var s in streams) s.Dispose();
            throw;
        }
    }

    /// <summary>True when the checkpoint holds a tensor of that name.</summary>
    public bool Contains(string name) => _tensors.ContainsKey(name);

    /// <summary>A tensor's dtype, shape and place, without reading it.</summary>
    /// <exception cref="InvalidDataException">no tensor of that name</exception>
    public SafeTensorEntry Entry(string name) =>
        _tensors.TryGetValue(name, out var t) ? t.Entry : throw new InvalidDataException($"{Directory}: the checkpoint has no tensor '{Short(name)}'");

    /// <summary>The weight file that holds a tensor.</summary>
    public string FileOf(string name) => _tensors.TryGetValue(name, out var t) ? Files[t.Shard] : throw new InvalidDataException($"{Directory}: the checkpoint has no tensor '{Short(name)}'");

    /// <summary>One tensor's values as float32.</summary>
    /// <exception cref="InvalidDataException">no such tensor, a NaN or ±∞ in it, or a file that changed since it was opened</exception>
    public float[] Read(string name)
    {
        var entry = Entry(name);
        int k = _tensors[name].Shard;
        try { return SafeTensors.ReadTensor(_streams[k], _headers[k], entry); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{Path.Combine(Directory, Files[k])}: {e.Message}", e); }
        catch (EndOfStreamException) { throw new InvalidDataException($"{Path.Combine(Directory, Files[k])}: the file ended inside tensor '{Short(name)}' (it changed after it was opened?)"); }
    }

    /// <summary>What loading every tensor as float32 needs against <paramref name="availableBytes"/> (default: the
    /// GC's TotalAvailableMemoryBytes).</summary>
    public LoadMemory Memory(long? availableBytes = null)
    {
        var largest = _tensors.Values.Select(t => t.Entry).MaxBy(e => e.Count)!;
        return LoadMemory.Estimate(Float32Bytes / 4, largest.Count, largest.Name, availableBytes ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
    }

    /// <summary>Refuses, with one line, a checkpoint whose <see cref="Memory"/> does not fit.</summary>
    /// <exception cref="ModelTooLargeException">weights + working set exceed the available memory</exception>
    public void EnsureFits(long? availableBytes = null)
    {
        var m = Memory(availableBytes);
        if (!m.Fits)
            throw new ModelTooLargeException(
                $"{Directory} needs about {LoadMemory.Format(m.RequiredBytes)} ({LoadMemory.Format(m.WeightBytes)} of weights as float32 + " +
                $"{LoadMemory.Format(m.WorkingSetBytes)} working set: twice the largest tensor, '{Short(m.LargestTensor)}', and {LoadMemory.Format(LoadMemory.ReserveBytes)}) " +
                $"but this process can use {LoadMemory.Format(m.AvailableBytes)}");
    }

    /// <summary>
    /// Writes F32 tensors as save_pretrained does: one <c>model.safetensors</c> when they fit in
    /// <paramref name="maxShardBytes"/>, else shards of at most that size (a larger tensor alone in its shard) named
    /// <c>model-0000k-of-0000n.safetensors</c> and the index. Each file is written durably (temporary file, rename).
    /// </summary>
    public static void Write(string directory, IReadOnlyList<(string Name, int[] Shape, ReadOnlyMemory<float> Data)> tensors, long maxShardBytes = 5L << 30)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxShardBytes, 1);
        var shards = new List<List<(string Name, int[] Shape, ReadOnlyMemory<float> Data)>> { new() };
        long size = 0;
        foreach (var t in tensors)
        {
            long bytes = t.Data.Length * 4L;
            if (shards[^1].Count > 0 && size + bytes > maxShardBytes) { shards.Add([]); size = 0; }
            shards[^1].Add(t);
            size += bytes;
        }
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        if (shards.Count == 1)
        {
            DurableFile.Replace(Path.Combine(directory, SingleFile), s => SafeTensors.Write(s, shards[0], metadata));
            return;
        }
        var map = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int k = 0; k < shards.Count; k++)
        {
            string file = $"model-{k + 1:D5}-of-{shards.Count:D5}.safetensors";
            DurableFile.Replace(Path.Combine(directory, file), s => SafeTensors.Write(s, shards[k], metadata));
            foreach (var t in shards[k]) map[t.Name] = file;
        }
        var index = new System.Text.Json.Nodes.JsonObject
        {
            ["metadata"] = new System.Text.Json.Nodes.JsonObject { ["total_size"] = tensors.Sum(t => t.Data.Length * 4L) },
            ["weight_map"] = new System.Text.Json.Nodes.JsonObject(map.Select(p => KeyValuePair.Create(p.Key, (System.Text.Json.Nodes.JsonNode?)p.Value))),
        };
        DurableFile.Replace(Path.Combine(directory, IndexFile), index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static string Short(string s) => s.Length <= 60 ? s : s[..60] + "…";

    public void Dispose()
    {
        foreach (var s in _streams) s.Dispose();
    }
}
