using AttentionLab.Inspection;

namespace AttentionLab.Explorer;

/// <summary>
/// The last few inspection reports, by input and settings, so that switching the layer, head or view of the same
/// text does not run the model again. Bounded by entry count and by the floats the maps hold.
/// </summary>
public sealed class ReportCache(int maxEntries = 8, long maxFloats = 400_000_000)
{
    private readonly LinkedList<(string Key, InspectionReport Report)> _entries = new();
    private readonly object _lock = new();

    public InspectionReport GetOrAdd(string key, Func<InspectionReport> compute)
    {
        lock (_lock)
        {
            for (var n = _entries.First; n is not null; n = n.Next)
                if (n.Value.Key == key) { _entries.Remove(n); _entries.AddFirst(n); return n.Value.Report; }
        }
        var report = compute();                          // outside the lock: other requests go on meanwhile
        lock (_lock)
        {
            _entries.AddFirst((key, report));
            long floats = 0;
            for (var n = _entries.First; n is not null; n = n.Next) floats += Size(n.Value.Report);
            while (_entries.Count > 1 && (_entries.Count > maxEntries || floats > maxFloats))
            {
                floats -= Size(_entries.Last!.Value.Report);
                _entries.RemoveLast();
            }
        }
        return report;
    }

    private static long Size(InspectionReport r) => r.Attention.LongLength + r.Logits.LongLength;
}
