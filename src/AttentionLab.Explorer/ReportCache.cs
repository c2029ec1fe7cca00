namespace AttentionLab.Explorer;

/// <summary>
/// The last few inspection results, by input and settings, so that switching the head or view of the same text does
/// not run the model again. Bounded by entry count and by the floats the entries hold.
/// </summary>
/// <param name="size">floats one entry holds</param>
public sealed class ReportCache<T>(Func<T, long> size, int maxEntries = 8, long maxFloats = 400_000_000)
{
    private readonly LinkedList<(string Key, T Value)> _entries = new();
    private readonly object _lock = new();

    public T GetOrAdd(string key, Func<T> compute)
    {
        lock (_lock)
        {
            for (var n = _entries.First; n is not null; n = n.Next)
                if (n.Value.Key == key) { _entries.Remove(n); _entries.AddFirst(n); return n.Value.Value; }
        }
        var value = compute();                           // outside the lock: other requests go on meanwhile
        lock (_lock)
        {
            _entries.AddFirst((key, value));
            long floats = 0;
            for (var n = _entries.First; n is not null; n = n.Next) floats += size(n.Value.Value);
            while (_entries.Count > 1 && (_entries.Count > maxEntries || floats > maxFloats))
            {
                floats -= size(_entries.Last!.Value.Value);
                _entries.RemoveLast();
            }
        }
        return value;
    }
}
