using System.Globalization;
using System.Text.Json.Nodes;
using AttentionLab.Inspection;
using AttentionLab.Models;

namespace AttentionLab.Explorer;

public sealed partial class ExplorerApi
{
    /// <summary>
    /// POST /api/generate: one step of generation. The request's "ids" (or "text") is the whole sequence so far;
    /// with the "session" of the previous step, only the tokens the session's KV cache lacks are run
    /// (<see cref="DecoderModel.ForwardCached"/>). Answers the candidates after temperature, top-k and top-p (the
    /// sampler's own distribution, <see cref="SamplingDistribution"/>), the token <see cref="TokenSampler"/> picks at
    /// this position with this seed (the one <c>attnlab generate</c> picks there), and the new attention rows
    /// (L, H, new, T) with how many cached rows were reused.
    /// </summary>
    public JsonNode Generate(RequestReader r)
    {
        var model = catalog.Get(r.String("model"));
        var c = model.Config;
        if (!c.IsCausal) throw new ExplorerException(400, "step-by-step generation needs a causal (decoder) model");
        var ids = r.Input(model);
        var options = new SamplingOptions(
            Temperature: r.Double("temperature", 0, 10) ?? 1.0,
            TopK: r.Int("top_k", 0, c.VocabSize) ?? 0,
            TopP: r.Double("top_p", 1e-6, 1) ?? 1.0,
            Seed: (ulong)(r.Int("seed", 0, int.MaxValue) ?? 1337));
        int show = r.Int("candidates", 1, 100) ?? 20;
        var session = _sessions.Get(r.String("session"), model.Name, () => model.Model.CreateCache());
        lock (session.Lock)
        {
            int common = 0;
            while (common < session.Ids.Count && common < ids.Length && session.Ids[common] == ids[common]) common++;
            if (common < session.Ids.Count || (common == ids.Length && session.LastLogits.Length == 0))
            {
                // the sequence changed under the cache (an edit, or a fresh start): start over
                session.Cache.Clear(); session.Ids.Clear(); common = 0;
            }
            int reused = common;
            var fresh = ids[common..];
            if (fresh.Length > 0)
            {
                var (logits, rows) = model.With(view =>
                {
                    var last = view.ForwardCached(fresh, session.Cache).ToArray();
                    int n = fresh.Length, tk = session.Cache.Length, L = c.Layers, H = c.Heads;
                    var all = new float[L * H * n * tk];                  // (L, H, n, Tk)
                    for (int l = 0; l < L; l++) view.AttentionWeights(l).CopyTo(all, l * H * n * tk);
                    return (last, all);
                });
                session.Ids.AddRange(fresh);
                session.LastLogits = logits; session.LastRows = rows; session.LastNew = fresh.Length;
            }
            // the sampler's own distribution, and its draw for the token at position ids.Length: the uniform number is a
            // function of the seed and the position only, so the same link replays the same choices and one seed picks
            // the tokens `attnlab generate` picks (TextGenerator starts its sampler at the prompt's length)
            var candidates = SamplingDistribution.Compute(session.LastLogits, options);
            int sampled = SamplingDistribution.Draw(candidates, TokenSampler.Uniform(options.Seed, ids.Length));
            string Label(int id) => model.Tokenizer?.TokenText(id) ?? id.ToString(CultureInfo.InvariantCulture);
            int newRows = session.LastNew, Tk = session.Ids.Count;
            return new JsonObject
            {
                ["model"] = model.Name, ["session"] = session.Id,
                ["ids"] = new JsonArray(session.Ids.Select(i => (JsonNode)i).ToArray()),
                ["tokens"] = new JsonArray(session.Ids.Select(i => (JsonNode)Label(i)).ToArray()),
                ["layers"] = c.Layers, ["heads"] = c.Heads, ["context"] = c.ContextLength,
                ["reused"] = fresh.Length > 0 ? reused : Tk - newRows, ["new"] = newRows,
                ["rows"] = new JsonArray(session.LastRows.Select(x => (JsonNode)x).ToArray()),
                ["candidates"] = new JsonArray(candidates.Take(show).Select(k => (JsonNode)new JsonObject
                {
                    ["id"] = k.Id, ["token"] = Label(k.Id), ["probability"] = k.Probability, ["raw"] = k.Raw,
                }).ToArray()),
                ["kept"] = candidates.Length,
                ["sampled"] = sampled, ["sampled_token"] = Label(sampled),
                ["full"] = Tk >= c.ContextLength,
            };
        }
    }
}
