using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using AttentionLab.Interpretability;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AttentionLab.Explorer;

/// <summary>
/// POST /api/analyze: the interpretability methods (namespace AttentionLab.Interpretability, the same calls as
/// <c>attnlab analyze</c>) for the page's Analyze view. <c>"method"</c>: lens, patch, attribute, ablate, induction,
/// neuron or sinks; tokens as <c>"token": " Mary"</c> (one token) or <c>"token_id": 5</c>. With <c>"stream": true</c>
/// the answer is NDJSON: <c>{"progress": {"done", "total"}}</c> lines while a sweep runs, then <c>{"result": …}</c>
/// (or <c>{"error": …}</c> if the sweep fails after the first line); bad input is still a 4xx with one line.
/// </summary>
public sealed partial class ExplorerApi
{
    public static readonly string[] AnalyzeMethods = ["lens", "patch", "attribute", "ablate", "induction", "neuron", "sinks"];

    private async Task AnalyzeAsync(HttpContext context)
    {
        RequestReader r;
        Func<IProgress<SweepProgress>?, JsonNode> work;
        try
        {
            r = await RequestReader.ReadAsync(context.Request);
            work = PrepareAnalysis(r);
        }
        catch (Exception e) when (ToError(e) is var (status, message))
        {
            await Fail(context, e, status, message);
            return;
        }
        if (r.Bool("stream") != true)
        {
            await Handle(context, () => Task.Run(() => work(null)));
            return;
        }
        var lines = Channel.CreateUnbounded<string>();
        var running = Task.Run(() =>
        {
            try { lines.Writer.TryWrite(new JsonObject { ["result"] = work(new ProgressLines(lines.Writer)) }.ToJsonString()); }
            catch (Exception e) when (ToError(e) is var (status, message))
            {
                if (status >= 500) _logger.LogError(e, "POST /api/analyze failed: {Message}", message);
                lines.Writer.TryWrite(new JsonObject { ["error"] = message, ["status"] = status }.ToJsonString());
            }
            finally { lines.Writer.Complete(); }
        });
        context.Response.ContentType = "application/x-ndjson; charset=utf-8";
        await foreach (var line in lines.Reader.ReadAllAsync(context.RequestAborted))
        {
            await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }
        await running;
    }

    /// <summary>Reads and checks the request (errors here are 4xx before any answer) and returns the work.</summary>
    private Func<IProgress<SweepProgress>?, JsonNode> PrepareAnalysis(RequestReader r)
    {
        var found = catalog.Find(r.String("model"));
        if (found.Kind != ModelCatalog.Gpt2Kind) throw new ExplorerException(400, $"model '{found.Name}' is a {found.Kind} model; the analyses need a decoder (GPT-2)");
        var model = catalog.Get(found.Name);
        var c = model.Config;
        string method = r.String("method") ?? "lens";
        if (!AnalyzeMethods.Contains(method)) throw new ExplorerException(400, $"\"method\" must be one of {string.Join(", ", AnalyzeMethods)}, got '{method}'");
        int? Token(string name)
        {
            if (r.Has(name + "_id")) return r.Int(name + "_id", 0, c.VocabSize - 1);
            var text = r.String(name);
            if (string.IsNullOrEmpty(text)) return null;
            if (model.Tokenizer is null) throw new ExplorerException(400, $"model '{model.Name}' has no tokenizer; give \"{name}_id\"");
            int[] ids;
            try { ids = model.Tokenizer.Encode(text); }
            catch (ArgumentException e) { throw new ExplorerException(400, e.Message.Split('\n')[0]); }
            if (ids.Length != 1) throw new ExplorerException(400, $"\"{name}\" '{text}' is {ids.Length} tokens; give exactly one");
            return ids[0];
        }
        int Require(string name) => Token(name) ?? throw new ExplorerException(400, $"method {method} needs \"{name}\" (a token) or \"{name}_id\"");
        string Label(int id) => model.Tokenizer?.TokenText(id) ?? $"#{id}";
        JsonArray Labels(int[] ids) => new(ids.Select(id => (JsonNode)Label(id)).ToArray());
        JsonArray Rows(float[] values, int rows, int columns) =>
            new(Enumerable.Range(0, rows).Select(i => (JsonNode)new JsonArray(values.AsSpan(i * columns, columns).ToArray().Select(Number).ToArray())).ToArray());
        var layers = new JsonArray(Enumerable.Range(0, c.Layers).Select(l => (JsonNode)$"blocks.{l}").ToArray());

        if (method == "induction")
        {
            int period = r.Int("period", 2, c.ContextLength / 2) ?? Math.Min(24, c.ContextLength / 2);
            int seed = r.Int("seed", 0, int.MaxValue) ?? 0;
            return _ => model.With(view =>
            {
                var tokens = InductionHeads.RepeatedSequence(c.VocabSize, period, seed);
                var s = InductionHeads.Score(view, tokens);
                var (tl, th, score) = s.Top;
                float without = InductionHeads.SecondHalfLossWithout(view, tokens, tl, th);
                return new JsonObject
                {
                    ["method"] = method, ["model"] = model.Name, ["tokens"] = Labels(tokens), ["period"] = period, ["rows"] = layers,
                    ["induction"] = Rows(s.Induction, c.Layers, c.Heads), ["previous_token"] = Rows(s.PreviousToken, c.Layers, c.Heads),
                    ["first_half_loss"] = Number(s.FirstHalfLoss), ["second_half_loss"] = Number(s.SecondHalfLoss),
                    ["top"] = new JsonObject { ["layer"] = tl, ["head"] = th, ["score"] = Number(score), ["second_half_loss_without"] = Number(without) },
                };
            });
        }
        var ids = r.Input(model);
        switch (method)
        {
            case "lens":
            {
                int? target = Token("target");
                int top = r.Int("top", 1, 20) ?? 5;
                return _ => model.With(view =>
                {
                    var lens = LogitLens.Run(view, ids, target, top);
                    var cells = new JsonArray();
                    foreach (var cell in lens.Cells)
                        cells.Add(new JsonObject
                        {
                            ["stage"] = cell.Stage, ["position"] = cell.Position,
                            ["top"] = new JsonArray(cell.Top.Select(t => (JsonNode)new JsonObject { ["token"] = t.Token, ["text"] = Label(t.Token), ["p"] = Number(t.Probability) }).ToArray()),
                            ["target_p"] = target is null ? null : Number(cell.TargetProbability), ["target_rank"] = target is null ? null : cell.TargetRank,
                        });
                    return new JsonObject
                    {
                        ["method"] = method, ["model"] = model.Name, ["tokens"] = Labels(ids), ["target"] = target is { } t ? Label(t) : null,
                        ["stages"] = new JsonArray(lens.Stages.Select(s => (JsonNode)s).ToArray()), ["cells"] = cells,
                    };
                });
            }
            case "patch":
            {
                var corrupted = r.Input(model, "corrupt", "corrupt_ids");
                var metric = new PatchMetric(Require("token"), Token("other"));
                string siteName = r.String("site") ?? "z";
                var site = siteName switch
                {
                    "resid" => PatchSite.ResidPre, "attn" => PatchSite.AttnOut, "mlp" => PatchSite.MlpOut, "z" => PatchSite.HeadZ,
                    _ => throw new ExplorerException(400, $"\"site\" must be resid, attn, mlp or z, got '{siteName}'"),
                };
                if (corrupted.Length != ids.Length) throw new ExplorerException(400, $"the clean and corrupted prompts must have the same number of tokens, got {ids.Length} and {corrupted.Length}");
                return progress => model.With(view =>
                {
                    var patching = ActivationPatching.Prepare(view, ids, corrupted, metric);
                    var sweep = patching.Sweep(site, progress);
                    return new JsonObject
                    {
                        ["method"] = method, ["model"] = model.Name, ["tokens"] = Labels(ids), ["corrupted"] = Labels(corrupted), ["site"] = siteName,
                        ["metric"] = metric.Other is { } o ? $"logit[{Label(metric.Token)}] − logit[{Label(o)}]" : $"−log p({Label(metric.Token)})",
                        ["clean_metric"] = Number(patching.CleanMetric), ["corrupted_metric"] = Number(patching.CorruptedMetric), ["rows"] = layers,
                        ["columns"] = site == PatchSite.HeadZ ? new JsonArray(Enumerable.Range(0, c.Heads).Select(h => (JsonNode)$"H{h}").ToArray()) : Labels(ids),
                        ["recovered"] = Rows(sweep.Recovered, sweep.Rows, sweep.Columns), ["values"] = Rows(sweep.Metric, sweep.Rows, sweep.Columns),
                    };
                });
            }
            case "attribute":
            {
                var metric = new PatchMetric(Require("token"), Token("other"));
                return _ => model.With(view =>
                {
                    var a = DirectLogitAttribution.Run(view, ids, metric);
                    var map = new float[c.Layers * (c.Heads + 1)];
                    for (int l = 0; l < c.Layers; l++)
                    {
                        a.Heads.AsSpan(l * c.Heads, c.Heads).CopyTo(map.AsSpan(l * (c.Heads + 1)));
                        map[l * (c.Heads + 1) + c.Heads] = a.Mlps[l];
                    }
                    return new JsonObject
                    {
                        ["method"] = method, ["model"] = model.Name, ["tokens"] = Labels(ids), ["position"] = a.Position,
                        ["metric"] = metric.Other is { } o ? $"logit[{Label(metric.Token)}] − logit[{Label(o)}]" : $"logit[{Label(metric.Token)}]",
                        ["total"] = Number(a.Total), ["sum"] = Number(a.Sum), ["rows"] = layers,
                        ["columns"] = new JsonArray(Enumerable.Range(0, c.Heads).Select(h => (JsonNode)$"H{h}").Append("MLP").ToArray()),
                        ["values"] = Rows(map, c.Layers, c.Heads + 1),
                        ["terms"] = new JsonArray(a.Terms.Select(t => (JsonNode)new JsonObject { ["name"] = t.Name, ["value"] = Number(t.Value) }).ToArray()),
                    };
                });
            }
            case "ablate":
            {
                string kindName = r.String("kind") ?? "zero";
                var kind = kindName switch { "zero" => AblationKind.Zero, "mean" => AblationKind.Mean, _ => throw new ExplorerException(400, $"\"kind\" must be zero or mean, got '{kindName}'") };
                if (ids.Length < 2) throw new ExplorerException(400, "ablation measures a loss: give at least two tokens");
                return progress => model.With(view =>
                {
                    var a = HeadAblation.Run(view, ids, kind, progress: progress);
                    return new JsonObject
                    {
                        ["method"] = method, ["model"] = model.Name, ["tokens"] = Labels(ids), ["kind"] = kindName, ["base_loss"] = Number(a.BaseLoss), ["rows"] = layers,
                        ["columns"] = new JsonArray(Enumerable.Range(0, c.Heads).Select(h => (JsonNode)$"H{h}").ToArray()),
                        ["values"] = Rows(a.Delta, c.Layers, c.Heads), ["loss"] = Rows(a.Loss, c.Layers, c.Heads),
                    };
                });
            }
            case "neuron":
            {
                int layer = r.Int("layer", 0, c.Layers - 1) ?? 0, head = r.Int("head", 0, c.Heads - 1) ?? 0;
                int query = r.Int("query", 0, ids.Length - 1) ?? ids.Length - 1, key = r.Int("key", 0, ids.Length - 1) ?? 0;
                return _ => model.With(view =>
                {
                    var v = NeuronView.Run(view, ids, layer, head, query, key);
                    JsonArray Floats(float[] x) => new(x.Select(Number).ToArray());
                    return new JsonObject
                    {
                        ["method"] = method, ["model"] = model.Name, ["tokens"] = Labels(ids), ["layer"] = layer, ["head"] = head, ["query"] = query, ["key"] = key,
                        ["scale"] = Number(v.Scale), ["q"] = Floats(v.Query), ["k"] = Floats(v.Key), ["products"] = Floats(v.Products), ["scaled"] = Floats(v.Scaled),
                        ["raw_score"] = Number(v.RawScore), ["score"] = Number(v.Score), ["scores"] = Floats(v.Scores), ["weights"] = Floats(v.Weights),
                    };
                });
            }
            default:
            {
                if (ids.Length < 3) throw new ExplorerException(400, "the sink experiment needs at least 3 tokens");
                return _ => model.With(view =>
                {
                    var s = AttentionSinks.Run(view, ids);
                    return new JsonObject
                    {
                        ["method"] = method, ["model"] = model.Name, ["tokens"] = Labels(ids), ["rows"] = layers,
                        ["columns"] = new JsonArray(Enumerable.Range(0, c.Heads).Select(h => (JsonNode)$"H{h}").ToArray()),
                        ["values"] = Rows(s.Share, c.Layers, c.Heads), ["max_share_without"] = Rows(s.ShareAfter, c.Layers, c.Heads),
                        ["loss"] = Number(s.Loss), ["loss_without_first_key"] = Number(s.LossWithout),
                        ["kl"] = new JsonArray(s.Divergence.Select(Number).ToArray()), ["same_top"] = s.SameTop,
                    };
                });
            }
        }
    }

    private static JsonNode? Number(float x) => float.IsFinite(x) ? JsonValue.Create(x) : null;

    /// <summary>A sweep's progress as NDJSON lines, at most one per 200 ms (and the last).</summary>
    private sealed class ProgressLines(ChannelWriter<string> lines) : IProgress<SweepProgress>
    {
        private long _last;
        public void Report(SweepProgress value)
        {
            long now = Environment.TickCount64;
            if (value.Done != value.Total && value.Done != 0 && now - _last < 200) return;
            _last = now;
            lines.TryWrite(new JsonObject { ["progress"] = new JsonObject { ["done"] = value.Done, ["total"] = value.Total } }.ToJsonString());
        }
    }
}
