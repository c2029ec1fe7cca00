using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AttentionLab.Attention;
using AttentionLab.Inspection;
using AttentionLab.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AttentionLab.Explorer;

/// <summary>
/// The Explorer's API. Every endpoint parses its request at the edge (<see cref="RequestReader"/>), calls the
/// library — <see cref="DecoderInspector.Inspect"/> for every map, the same call <c>attnlab inspect --json</c> makes —
/// and renders JSON (or, for the page's maps, a compact binary form of the same report).
/// </summary>
/// <param name="logger">where internal errors (500s) are logged; null: nowhere</param>
public sealed partial class ExplorerApi(ModelCatalog catalog, DemoTrainingSpec? demo, ILogger? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private readonly ReportCache<InspectionReport> _reports = new(r => r.Attention.LongLength + r.Logits.LongLength);
    private readonly ReportCache<AttentionOverview> _overviews = new(o => o.Thumbnails.LongLength + o.LayerMaps.LongLength, maxEntries: 16, maxFloats: 100_000_000);
    private readonly GenerationSessions _sessions = new();
    private readonly DemoTraining _training = new(catalog, demo);

    public ModelCatalog Catalog => catalog;

    public void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/models", c => Handle(c, () => Models()));
        app.MapGet("/api/kernels", c => Handle(c, () => new JsonObject
        {
            ["kernels"] = new JsonArray(AttentionKernels.Names.Select(n => (JsonNode)n).ToArray()),
        }));
        app.MapPost("/api/inspect", c => Handle(c, async () => Inspect(await RequestReader.ReadAsync(c.Request))));
        app.MapPost("/api/maps", MapsAsync);
        app.MapPost("/api/head", c => Handle(c, async () => HeadSteps(await RequestReader.ReadAsync(c.Request))));
        app.MapPost("/api/intervene", c => Handle(c, async () => Intervene(await RequestReader.ReadAsync(c.Request))));
        app.MapPost("/api/generate", c => Handle(c, async () => Generate(await RequestReader.ReadAsync(c.Request))));
        app.MapPost("/api/analyze", AnalyzeAsync);
        app.MapPost("/api/playground", c => Handle(c, async () => Playground(await RequestReader.ReadAsync(c.Request))));
        app.MapGet("/api/train-demo", c => Handle(c, () => _training.Status()));
        app.MapPost("/api/train-demo", c => Handle(c, () => _training.Start()));
    }

    /// <summary>GET /api/models: every model this server may open, with its sizes (loaded ones) and whether it has a
    /// tokenizer; plus whether the page may train the demo model.</summary>
    public JsonObject Models()
    {
        var models = new JsonArray();
        foreach (var (name, dir) in catalog.List())
        {
            var entry = new JsonObject { ["name"] = name };
            try
            {
                var info = AttentionLab.IO.ModelFolderInfo.Read(dir);
                if (!info.IsDecoder) { models.Add(EncoderModelEntry(name, dir, info.Kind)); continue; }
                var c = AttentionLab.IO.DecoderFolder.ReadConfig(dir);
                entry["layers"] = c.Layers; entry["heads"] = c.Heads; entry["channels"] = c.Channels;
                entry["context"] = c.ContextLength; entry["vocab"] = c.VocabSize; entry["attention"] = c.Attention; entry["causal"] = c.IsCausal;
                entry["parameters"] = c.ParameterCount;
                entry["tokenizer"] = info.Tokenizer != AttentionLab.IO.ModelTokenizer.None;
                entry["kind"] = ModelCatalog.Gpt2Kind;                                   // the GPT views draw both decoders
                entry["architecture"] = info.Kind;
                entry["key_value_heads"] = c.KeyValueHeads;                          // query heads h share key/value head h / (H / Hkv)
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or JsonException or FormatException)
            {
                entry["error"] = e.Message.Split('\n')[0];
            }
            models.Add(entry);
        }
        return new JsonObject { ["models"] = models, ["can_train_demo"] = _training.Available };
    }

    /// <summary>POST /api/inspect: exactly <c>attnlab inspect --json</c>'s JSON for this model and input.
    /// <c>"logits": false</c> leaves out the (T, V) logits (for GPT-2, 50257 numbers per token).</summary>
    public JsonNode Inspect(RequestReader r)
    {
        var found = catalog.Find(r.String("model"));
        if (found.Kind != ModelCatalog.Gpt2Kind) return InspectEncoderModel(r, found.Directory, found.Kind);
        var model = catalog.Get(found.Name);
        var c = model.Config;
        var ids = r.Input(model);
        var kernel = r.Kernel();
        int? layer = r.Int("layer", 0, c.Layers - 1);
        int? head = r.Int("head", 0, c.Heads - 1);
        bool logits = r.Bool("logits") ?? true;
        int topK = r.Int("top_k", 1, 100) ?? 5;
        var report = model.With(view => DecoderInspector.Inspect(view, model.Tokenizer, ids,
            new InspectionOptions { Layer = layer, Head = head, IncludeLogits = logits, TopK = topK, Forward = Call(view, ids.Length, kernel, []) }));
        return InspectionJson.ToJson(report);
    }

    /// <summary>The settings that change the maps, as one cache key.</summary>
    private static string Key(LoadedModel m, IAttentionKernel? kernel, int[] ids, float[]? gates, int[] masked) =>
        $"{m.Name}|{kernel?.Name}|{string.Join(',', ids)}|{(gates is null ? "" : string.Join(',', gates))}|{string.Join(',', masked)}";

    /// <summary>Gates (L·H) with the given heads zeroed; null when none is.</summary>
    private static float[]? Gates(DecoderConfig c, (int Layer, int Head)[] zeroed)
    {
        if (zeroed.Length == 0) return null;
        var g = Enumerable.Repeat(1f, c.Layers * c.Heads).ToArray();
        foreach (var (l, h) in zeroed) g[l * c.Heads + h] = 0f;
        return g;
    }

    /// <summary>One inspection with optional kernel, zeroed heads and hidden key positions, cached by its settings.</summary>
    private InspectionReport Report(LoadedModel model, int[] ids, IAttentionKernel? kernel, float[]? gates, int[] masked, bool logits = false, int topK = 10) =>
        _reports.GetOrAdd(Key(model, kernel, ids, gates, masked) + (logits ? "|logits" : "") + "|" + topK, () => model.With(view =>
            DecoderInspector.Inspect(view, model.Tokenizer, ids,
                new InspectionOptions { IncludeLogits = logits, HeadGates = gates, TopK = topK, Forward = Call(view, ids.Length, kernel, masked) })));

    /// <summary>The call's kernel (null: the model's) and masks, the masked key positions hidden from every query:
    /// arguments of the forward pass, nothing set on the shared model view.</summary>
    private static ForwardOptions Call(DecoderModel view, int length, IAttentionKernel? kernel, int[] masked)
    {
        if (masked.Length == 0) return new ForwardOptions { Attention = kernel };
        var keep = Enumerable.Repeat(true, length).ToArray();
        foreach (int p in masked) keep[p] = false;
        return new ForwardOptions { Attention = kernel, AttentionOptions = view.AttentionOptions with { KeyPaddingMask = keep } };
    }

    /// <summary>
    /// POST /api/maps: the page's form of the report — a JSON header (tokens, next tokens, loss, entropy, head roles)
    /// followed by little-endian float32 maps: every head's thumbnail (L, H, S, S), S = min(T, "thumb"), then the
    /// full (H, T, T) maps of "layer". Layout: uint32 header length, header (UTF-8), zero padding to 4 bytes, floats.
    /// </summary>
    private async Task MapsAsync(HttpContext context)
    {
        MapsAnswer answer;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            var r = await RequestReader.ReadAsync(context.Request);
            answer = Maps(r);
        }
        catch (Exception e) when (ToError(e) is var (status, message))
        {
            await Fail(context, e, status, message);
            return;
        }
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = answer.Bytes;
        // the time spent computing the answer, before any byte is sent (browsers show it; the benchmark reports it)
        context.Response.Headers["Server-Timing"] = FormattableString.Invariant(
            $"maps;dur={System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds:0.0}");
        await answer.WriteAsync(context.Response.BodyWriter, context.RequestAborted);
    }

    /// <summary>Inputs whose (L, H, T, T) maps fit in this many floats keep every layer (64 MB).</summary>
    private const long AllLayersFloats = 16L << 20;

    public MapsAnswer Maps(RequestReader r)
    {
        var model = catalog.Get(r.String("model"));
        var c = model.Config;
        var ids = r.Input(model);
        int T = ids.Length;
        var kernel = r.Kernel();
        int layer = r.Int("layer", 0, c.Layers - 1) ?? 0;
        int thumb = r.Int("thumb", 4, 256) ?? 64;
        var gates = Gates(c, r.Heads("zero", c.Layers, c.Heads));
        var masked = r.Ints("mask", 0, T - 1, T) ?? [];
        // short inputs keep every layer's maps, so switching layers needs no new forward; long ones keep one layer
        int? keep = (long)c.Layers * c.Heads * T * T <= AllLayersFloats ? null : layer;
        var o = _overviews.GetOrAdd($"{Key(model, kernel, ids, gates, masked)}|{keep}|{thumb}", () => model.With(view =>
            DecoderInspector.Overview(view, model.Tokenizer, ids,
                new OverviewOptions { Layer = keep, ThumbnailSide = thumb, HeadGates = gates, Forward = Call(view, ids.Length, kernel, masked) })));
        var maps = o.Maps(layer);                                           // (H, T, T)
        int side = o.Side;
        var header = new JsonObject
        {
            ["model"] = model.Name, ["tokens"] = new JsonArray(o.Tokens.Select(t => (JsonNode)t).ToArray()),
            ["ids"] = new JsonArray(ids.Select(i => (JsonNode)i).ToArray()),
            ["layers"] = c.Layers, ["heads"] = c.Heads, ["length"] = T, ["context"] = c.ContextLength, ["head_dim"] = c.HeadDim,
            ["side"] = side, ["layer"] = layer,
            ["kernel"] = o.Kernel, ["exact"] = o.KernelIsExact, ["causal"] = o.IsCausal,
            ["loss"] = o.Loss is float loss && float.IsFinite(loss) ? loss : null,
            ["entropy"] = new JsonArray(o.Entropy.Select(e => (JsonNode?)(double.IsFinite(e) ? e : null)).ToArray()),
            ["next"] = NextJson(o.Next),
            ["roles"] = RolesJson(o.Roles),
            ["sink_threshold"] = HeadRoles.SinkThreshold,
            // the same "groups" as the report's JSON (InspectionJson): GPT-2 has one, the decoder's self-attention
            ["groups"] = new JsonArray(AttentionGroup.Describe(AttentionGroup.Decoder, o.IsCausal ? AttentionKinds.DecoderSelf : AttentionKinds.EncoderSelf,
                c.Layers, c.Heads, o.Tokens, o.Tokens)),
        };
        bool lower = MapsAnswer.IsLowerTriangular(maps, c.Heads, T);
        header["packing"] = lower ? "lower" : "full";
        return new MapsAnswer(Encoding.UTF8.GetBytes(header.ToJsonString()), o.Thumbnails, maps, c.Heads, T, lower);
    }

    internal static JsonArray NextJson(IEnumerable<NextToken> next) =>
        new(next.Select(t => (JsonNode)new JsonObject { ["id"] = t.Id, ["token"] = t.Token, ["probability"] = t.Probability }).ToArray());

    private static JsonArray RolesJson(IEnumerable<HeadRoleScores> roles) =>
        new(roles.Select(s => (JsonNode)new JsonObject
        {
            ["layer"] = s.Layer, ["head"] = s.Head, ["entropy"] = double.IsFinite(s.Entropy) ? s.Entropy : null,
            ["previous"] = s.Previous, ["first"] = s.First, ["self"] = s.Self, ["induction"] = s.Induction,
            ["sink"] = s.IsSink, ["role"] = s.Strongest?.Role,
        }).ToArray());

    /// <summary>POST /api/head: one head step by step (<see cref="HeadProbe"/>): q, k, v, scores, scaled, masked,
    /// weights, output and row entropies. "scaled": false drops 1/√D; "temperature" divides the scores.</summary>
    public JsonNode HeadSteps(RequestReader r)
    {
        const int MaxTokens = 256;
        var model = catalog.Get(r.String("model"));
        var c = model.Config;
        var ids = r.Input(model);
        if (ids.Length > MaxTokens) throw new ExplorerException(413, $"the step-by-step view shows at most {MaxTokens} tokens (got {ids.Length}); the model and head views take the whole context");
        int layer = r.Int("layer", 0, c.Layers - 1) ?? 0, head = r.Int("head", 0, c.Heads - 1) ?? 0;
        bool scaled = r.Bool("scaled") ?? true;
        double temperature = r.Double("temperature", 0.01, 100) ?? 1.0;
        var kernel = r.Kernel();
        var trace = model.With(view => HeadProbe.Trace(view, ids, layer, head, scaled, temperature, new ForwardOptions { Attention = kernel }));
        return new JsonObject
        {
            ["model"] = model.Name, ["layer"] = layer, ["head"] = head, ["scaled"] = scaled, ["temperature"] = temperature,
            ["scale"] = trace.Scale, ["head_dim"] = trace.HeadDim, ["causal"] = trace.IsCausal,
            ["tokens"] = new JsonArray(ids.Select(i => (JsonNode)(model.Tokenizer?.TokenText(i) ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray()),
            ["q"] = Matrix(trace.Q), ["k"] = Matrix(trace.K), ["v"] = Matrix(trace.V),
            ["scores"] = Matrix(trace.Scores), ["scaled_scores"] = Matrix(trace.Scaled), ["masked"] = Matrix(trace.Masked),
            ["weights"] = Matrix(trace.Weights), ["output"] = Matrix(trace.Output),
            ["entropy"] = Vector(trace.Entropy), ["row_max"] = Vector(trace.RowMax), ["row_sum"] = Vector(trace.RowSum),
        };
    }

    private static JsonArray Matrix(double[,] m)
    {
        var rows = new JsonArray();
        for (int i = 0; i < m.GetLength(0); i++)
        {
            var row = new JsonNode?[m.GetLength(1)];
            for (int j = 0; j < row.Length; j++) row[j] = double.IsFinite(m[i, j]) ? JsonValue.Create((float)m[i, j]) : null;
            rows.Add(new JsonArray(row));
        }
        return rows;
    }

    private static JsonArray Vector(double[] v) => new(v.Select(x => (JsonNode?)(double.IsFinite(x) ? JsonValue.Create(x) : null)).ToArray());

    /// <summary>
    /// POST /api/intervene: the next-token distribution and loss with heads zeroed ("zero": [[l, h], ...]) and/or
    /// tokens hidden from every query ("mask": [positions]), against the unedited model. For each hidden position p
    /// it also shows what the model predicts there (the distribution at p − 1, exBERT's masked-token question asked
    /// of a left-to-right model).
    /// </summary>
    public JsonNode Intervene(RequestReader r)
    {
        var model = catalog.Get(r.String("model"));
        var c = model.Config;
        var ids = r.Input(model);
        int T = ids.Length;
        var kernel = r.Kernel();
        var zeroed = r.Heads("zero", c.Layers, c.Heads);
        var masked = r.Ints("mask", 0, T - 1, T) ?? [];
        int topK = r.Int("top_k", 1, 50) ?? 10;
        var gates = Gates(c, zeroed);
        var before = Report(model, ids, kernel, null, [], logits: true, topK);
        var after = Report(model, ids, kernel, gates, masked, logits: true, topK);
        int V = c.VocabSize;
        var p0 = DecoderInspector.Probabilities(before.Logits.AsSpan((T - 1) * V, V));
        var p1 = DecoderInspector.Probabilities(after.Logits.AsSpan((T - 1) * V, V));
        double kl = 0;
        for (int i = 0; i < V; i++) if (p0[i] > 0 && p1[i] > 0) kl += p0[i] * Math.Log(p0[i] / p1[i]);
        var union = before.Next.Select(n => n.Id).Concat(after.Next.Select(n => n.Id)).Distinct().ToArray();
        string Label(int id) => model.Tokenizer?.TokenText(id) ?? id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var changes = new JsonArray(union.OrderByDescending(id => Math.Abs(p1[id] - p0[id])).Select(id => (JsonNode)new JsonObject
        {
            ["id"] = id, ["token"] = Label(id), ["before"] = p0[id], ["after"] = p1[id], ["change"] = p1[id] - p0[id],
        }).ToArray());
        var predictions = new JsonArray();
        foreach (int p in masked.Distinct().OrderBy(p => p))
        {
            var entry = new JsonObject { ["position"] = p, ["token"] = before.Tokens[p] };
            if (p > 0)
            {
                var logits = after.Logits.AsSpan((p - 1) * V, V);
                var probs = DecoderInspector.Probabilities(logits);
                entry["predicted"] = NextJson(DecoderInspector.TopTokens(logits, 5, model.Tokenizer));
                entry["actual_probability"] = probs[ids[p]];
                entry["actual_rank"] = probs.Count(x => x > probs[ids[p]]) + 1;
            }
            predictions.Add(entry);
        }
        return new JsonObject
        {
            ["model"] = model.Name, ["tokens"] = new JsonArray(before.Tokens.Select(t => (JsonNode)t).ToArray()),
            ["zeroed"] = new JsonArray(zeroed.Select(z => (JsonNode)new JsonArray(z.Layer, z.Head)).ToArray()),
            ["masked"] = new JsonArray(masked.Select(m => (JsonNode)m).ToArray()),
            ["before"] = new JsonObject { ["loss"] = Finite(before.Loss), ["next"] = NextJson(before.Next) },
            ["after"] = new JsonObject { ["loss"] = Finite(after.Loss), ["next"] = NextJson(after.Next) },
            ["kl"] = kl, ["changes"] = changes, ["predictions"] = predictions,
        };
    }

    private static JsonNode? Finite(float? x) => x is float f && float.IsFinite(f) ? JsonValue.Create(f) : null;

    // ---- plumbing ------------------------------------------------------------------------------------------------

    private Task Handle(HttpContext context, Func<JsonNode> work) => Handle(context, () => Task.FromResult(work()));

    /// <summary>Runs an endpoint and writes its JSON, or its error (<see cref="ToError"/>, <see cref="Fail"/>).</summary>
    internal async Task Handle(HttpContext context, Func<Task<JsonNode>> work)
    {
        JsonNode result;
        try { result = await work(); }
        catch (Exception e) when (ToError(e) is var (status, message))
        {
            await Fail(context, e, status, message);
            return;
        }
        context.Response.ContentType = "application/json; charset=utf-8";
        var buffer = new ArrayBufferWriter<byte>(1 << 16);
        using (var writer = new Utf8JsonWriter(buffer)) result.WriteTo(writer);
        await context.Response.Body.WriteAsync(buffer.WrittenMemory);
    }

    /// <summary>
    /// The status and one-line message for an exception. Bad input is a 4xx: <see cref="ExplorerException"/> (the
    /// checks at the edge), a malformed request, and <see cref="ArgumentException"/> (the library's validation of its
    /// arguments). Anything else is a bug, not the user's error — an <see cref="InvalidOperationException"/> included —
    /// and a 500 with one line (out of memory: 507). Null for a cancelled request: nobody is waiting for an answer.
    /// </summary>
    internal static (int Status, string Message)? ToError(Exception e) => e switch
    {
        ExplorerException x => (x.Status, x.Message),
        BadHttpRequestException b => (b.StatusCode, b.Message.Split('\n')[0]),
        ArgumentException a => (400, a.Message.Split('\n')[0]),
        OutOfMemoryException => (507, "out of memory; try a shorter input"),
        OperationCanceledException => null,
        _ => (500, $"internal error ({e.GetType().Name}): {e.Message.Split('\n')[0]}"),
    };

    /// <summary>Answers an error (<see cref="ToError"/>'s status and line); a server-side failure (5xx) is also logged
    /// with its exception, which never reaches the page.</summary>
    internal async Task Fail(HttpContext context, Exception e, int status, string message)
    {
        if (status >= 500) _logger.LogError(e, "{Method} {Path} answered {Status}: {Message}", context.Request.Method, context.Request.Path.Value, status, message);
        await WriteError(context, status, message);
    }

    public static async Task WriteError(HttpContext context, int status, string message)
    {
        if (context.Response.HasStarted) return;
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(new JsonObject { ["error"] = message.Replace('\n', ' ') }.ToJsonString());
    }
}
