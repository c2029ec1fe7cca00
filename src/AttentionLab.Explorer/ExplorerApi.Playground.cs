using System.Text.Json.Nodes;
using AttentionLab.Attention;
using AttentionLab.Inspection;

namespace AttentionLab.Explorer;

public sealed partial class ExplorerApi
{
    /// <summary>
    /// POST /api/playground: composes the masks of "causal", "window" (keys back), "ahead", "global", "prefix" and
    /// "pad" (positions) over the input (<see cref="MaskComposition"/>), takes the real q, k, v of one head
    /// (<see cref="HeadProbe.QueryKeyValue"/>), runs "attention" (a kernel) and the exact naive kernel on them under
    /// that mask, and answers the mask, the cells each strategy computes, both maps, their difference and its
    /// <see cref="ApproximationError"/>. "sweep": "kernel;kernel;…" adds the error of each (e.g. performer:8;performer:16;…
    /// as the feature count grows).
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

        // the head's real q, k, v from one forward pass; every kernel then runs on exactly these (1, 1, T, D)
        var (q, k, v) = model.With(view => HeadProbe.QueryKeyValue(view, ids, layer, head));
        var shape = new AttentionShape(1, 1, T, T, c.HeadDim);
        float[] MapWith(IAttentionKernel kern)
        {
            var w = new float[T * T];
            kern.Weights(q, k, v, shape, options, w);
            return w;
        }
        var exact = MapWith(AttentionKernels.Reference);
        var approx = kernel == AttentionKernels.Reference ? exact : MapWith(kernel);
        int visibleCells = visible.Count(b => b);
        // the mean is over the visible cells (masked ones are 0 in both maps)
        ApproximationError Error(float[] map) => ApproximationError.Compare(map, exact, AttentionKernels.Reference.Name, meanOver: visibleCells);
        var total = Error(approx);
        var error = new float[T * T];                                         // the difference map the page draws
        for (int i = 0; i < error.Length; i++) error[i] = Math.Abs(approx[i] - exact[i]);
        var sweepResults = new JsonArray();
        foreach (var kk in sweep)
        {
            var e = Error(MapWith(kk));
            sweepResults.Add(new JsonObject { ["attention"] = kk.Name, ["max_error"] = e.MaxAbs, ["mean_error"] = e.MeanAbs });
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
                ["cells"] = T * T, ["visible"] = visibleCells, ["naive"] = T * T, ["rows"] = rows.Count(b => b), ["tiles"] = tiles.Count(b => b),
            },
            ["weights"] = Floats(approx), ["exact_weights"] = Floats(exact), ["error"] = Floats(error),
            ["max_error"] = total.MaxAbs, ["mean_error"] = total.MeanAbs, ["sweep"] = sweepResults,
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
