using AttentionLab.Models;

namespace AttentionLab.Explorer;

/// <summary>
/// Step-by-step generation keeps one <see cref="KvCache"/> per page session: each step feeds only the tokens the
/// cache has not seen (the reused rows are the cache's, the new ones are computed now). Bounded: the oldest
/// session is dropped when there are too many.
/// </summary>
public sealed class GenerationSessions(int maxSessions = 8)
{
    public sealed class Session(string id, string model, KvCache cache)
    {
        public string Id { get; } = id;
        public string Model { get; } = model;
        public KvCache Cache { get; } = cache;
        /// <summary>The ids the cache holds, in order.</summary>
        public List<int> Ids { get; } = [];
        /// <summary>(V) logits after the last token.</summary>
        public float[] LastLogits { get; set; } = [];
        /// <summary>(L, H, n, Tk) attention rows of the last step's n new positions.</summary>
        public float[] LastRows { get; set; } = [];
        public int LastNew { get; set; }
        public DateTime Used { get; set; } = DateTime.UtcNow;
        public object Lock { get; } = new();
    }

    private readonly Dictionary<string, Session> _sessions = new(StringComparer.Ordinal);
    private readonly object _lock = new();

    /// <summary>The session of that id for that model, or a new one (with a fresh cache).</summary>
    public Session Get(string? id, string model, Func<KvCache> createCache)
    {
        lock (_lock)
        {
            if (id is not null && _sessions.TryGetValue(id, out var s) && s.Model == model) { s.Used = DateTime.UtcNow; return s; }
            while (_sessions.Count >= maxSessions)
                _sessions.Remove(_sessions.Values.OrderBy(x => x.Used).First().Id);
            var fresh = new Session(Guid.NewGuid().ToString("N")[..12], model, createCache());
            _sessions[fresh.Id] = fresh;
            return fresh;
        }
    }
}
