using System.Text.Json.Nodes;
using AttentionLab.Attention;
using AttentionLab.Inspection;

namespace AttentionLab.Explorer;

public sealed partial class ExplorerApi
{
    /// <summary>
    /// POST /api/playground: composes the masks of "causal", "window" (keys back), "ahead", "global", "prefix" and
    /// "pad" (positions) over the input (<see cref="MaskComposition"/>), runs the model with that mask through
    /// "attention" (a kernel) and through the exact naive kernel, and answers the mask, the cells each strategy
    /// computes, the head's map under both kernels and their difference. "sweep": [kernel, ...] adds the largest
    /// difference for each (e.g. performer:8, performer:16, … as the feature count grows).
    /// </summary>
    public JsonNode Playground(RequestReader r)
    {
        const int MaxTokens = 256;
        var model = catalog.Get(r.String("model"));
        var c = model.Config;
        var ids = r.Input(model);
        int T = ids.Length;
        if (T > MaxTokens) throw new ExplorerException(413, $"the playground takes at most {MaxTokens} tokens (got {T})");
        int layer = r.Int("layer", 0, c.Layers - 1) ?? 0, head = r.Int("head", 0, c.Heads - 1) ?? 0;
        var composition = new MaskComposition(T, r.Bool("causal") ?? c.IsCausal, r.Int("window", 1, c.ContextLength),
            r.Int("ahead", 0, c.ContextLength) ?? 0, r.Int("global", 0, T) ?? 0, r.Int("prefix", 0, T) ?? 0,
            r.Ints("pad", 0, T - 1, T) ?? [], r.Int("tile", 1, 256) ?? 4);
        composition.Validate();
        var kernel = r.Kernel() ?? AttentionKernels.Reference;
        var sweep = ReadSweep(r);
        var visible = composition.Visible();
        var options = composition.Options();

        float[] MapWith(IAttentionKernel k) => model.With(view =>
        {
            view.Attention = k;
            view.AttentionOptions = options;
            var report = Gpt2Inspector.Inspect(view, model.Tokenizer, ids, new InspectionOptions { Layer = layer, Head = head, IncludeLogits = false });
            return report.Map(layer, head).ToArray();
        });
        var exact = MapWith(AttentionKernels.Reference);
        var approx = kernel == AttentionKernels.Reference ? exact : MapWith(kernel);
        var error = new float[T * T];
        for (int i = 0; i < error.Length; i++) error[i] = Math.Abs(approx[i] - exact[i]);
        var sweepResults = new JsonArray();
        foreach (var k in sweep)
        {
            var m = MapWith(k);
            double max = 0;
            for (int i = 0; i < m.Length; i++) max = Math.Max(max, Math.Abs(m[i] - exact[i]));
            sweepResults.Add(new JsonObject { ["attention"] = k.Name, ["max_error"] = max });
        }
        var rows = MaskComposition.RowRanges(visible, T);
        var tiles = MaskComposition.Tiles(visible, T, composition.TileSize);
        return new JsonObject
        {
            ["model"] = model.Name, ["layer"] = layer, ["head"] = head, ["length"] = T, ["attention"] = kernel.Name, ["exact"] = kernel.IsExact,
            ["tokens"] = new JsonArray(ids.Select(i => (JsonNode)(model.Tokenizer?.TokenText(i) ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray()),
            ["visible"] = Bits(visible), ["rows"] = Bits(rows), ["tiles"] = Bits(tiles),
            ["counts"] = new JsonObject
            {
                ["cells"] = T * T, ["visible"] = visible.Count(b => b), ["naive"] = T * T, ["rows"] = rows.Count(b => b), ["tiles"] = tiles.Count(b => b),
            },
            ["weights"] = Floats(approx), ["exact_weights"] = Floats(exact), ["error"] = Floats(error),
            ["max_error"] = error.Max(), ["sweep"] = sweepResults,
            ["kernels"] = new JsonArray(AttentionKernels.Names.Select(n => (JsonNode)n).ToArray()),
        };
    }

    private static IAttentionKernel[] ReadSweep(RequestReader r)
    {
        var text = r.String("sweep");
        if (string.IsNullOrWhiteSpace(text)) return [];
        var names = text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length > 8) throw new ExplorerException(400, "\"sweep\" takes at most 8 kernels");
        return names.Select(n =>
        {
            try { return AttentionKernels.Parse(n); }
            catch (ArgumentException e) { throw new ExplorerException(400, e.Message.Split('\n')[0]); }
        }).ToArray();
    }

    private static string Bits(bool[] b) => string.Create(b.Length, b, (span, bits) => { for (int i = 0; i < bits.Length; i++) span[i] = bits[i] ? '1' : '0'; });

    private static JsonArray Floats(float[] x) => new(x.Select(v => (JsonNode?)(float.IsFinite(v) ? JsonValue.Create(v) : null)).ToArray());
}
