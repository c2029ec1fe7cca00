using AttentionLab.Hooks;
using AttentionLab.Models;

namespace AttentionLab.Interpretability;

/// <summary>A patching sweep's map: rows are layers, columns positions (or heads for <see cref="PatchSite.HeadZ"/>).</summary>
/// <param name="Metric">(rows · columns) the metric of each patched pass</param>
/// <param name="Recovered">(rows · columns) (metric − corrupted)/(clean − corrupted): 1 = the clean behaviour is back, 0 = none of it</param>
public sealed record PatchingResult(PatchSite Site, int Rows, int Columns, float CleanMetric, float CorruptedMetric, float[] Metric, float[] Recovered)
{
    public float this[int row, int column] => Recovered[row * Columns + column];
}

/// <summary>
/// Activation patching (causal tracing; Meng et al. 2022, Wang et al. 2022's IOI): run a clean and a corrupted prompt
/// of the same length, copy one activation from the clean run into the corrupted one, and see how much of the clean
/// metric comes back: <c>recovered = (m_patched − m_corrupted)/(m_clean − m_corrupted)</c>.
/// <para>
/// Both runs are cached once (every block's hook_resid_pre, hook_attn_out, hook_mlp_out, attn.hook_z). A patch in
/// block l changes nothing before it, so each patched pass starts at block l from the corrupted run's cached stream
/// (<see cref="DecoderModel.ForwardFrom"/>): a layer × head sweep of an L-layer model costs about (L + 1)/2 full passes
/// per layer, not L. Every patched pass equals a full forward with the same replacement written as a hook (tested).
/// </para>
/// </summary>
public sealed class ActivationPatching
{
    private readonly DecoderModel _model;
    private readonly int[] _corrupted;
    private readonly float[][] _cleanResid, _corruptedResid;                              // [l] (T, C)
    private readonly ActivationCache _clean;

    private ActivationPatching(DecoderModel model, int[] corrupted, PatchMetric metric, float[][] cleanResid, float[][] corruptedResid,
        ActivationCache clean, float cleanMetric, float corruptedMetric)
    {
        _model = model;
        _corrupted = corrupted;
        Metric = metric;
        _cleanResid = cleanResid;
        _corruptedResid = corruptedResid;
        _clean = clean;
        CleanMetric = cleanMetric;
        CorruptedMetric = corruptedMetric;
    }

    public PatchMetric Metric { get; }
    /// <summary>The metric of the clean prompt.</summary>
    public float CleanMetric { get; }
    /// <summary>The metric of the corrupted prompt, nothing patched.</summary>
    public float CorruptedMetric { get; }
    public int Length => _corrupted.Length;

    /// <summary>Runs and caches the clean and the corrupted prompt (equal lengths).</summary>
    public static ActivationPatching Prepare(DecoderModel model, int[] clean, int[] corrupted, PatchMetric metric)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(clean);
        ArgumentNullException.ThrowIfNull(corrupted);
        ArgumentNullException.ThrowIfNull(metric);
        ModelRuns.CheckTokens(model, clean, "the clean prompt");
        ModelRuns.CheckTokens(model, corrupted, "the corrupted prompt");
        if (clean.Length != corrupted.Length)
            throw new ArgumentException($"the clean and corrupted prompts must have the same number of tokens, got {clean.Length} and {corrupted.Length}");
        metric.Check(model.Config);
        static bool Site(string n) => n.EndsWith(".hook_attn_out", StringComparison.Ordinal) || n.EndsWith(".hook_mlp_out", StringComparison.Ordinal)
            || n.EndsWith(".attn.hook_z", StringComparison.Ordinal);
        var (_, cleanResid, cache) = ModelRuns.Cached(model, clean, Site);
        float cleanMetric = metric.Of(ModelRuns.LastLogits(model, clean.Length));
        var (_, corruptedResid, _) = ModelRuns.Cached(model, corrupted);
        float corruptedMetric = metric.Of(ModelRuns.LastLogits(model, corrupted.Length));
        return new ActivationPatching(model, (int[])corrupted.Clone(), metric, cleanResid, corruptedResid, cache, cleanMetric, corruptedMetric);
    }

    /// <summary>(m − corrupted)/(clean − corrupted); NaN when the two prompts give the same metric.</summary>
    public float Recovered(float metric)
    {
        float span = CleanMetric - CorruptedMetric;
        return span == 0 ? float.NaN : (metric - CorruptedMetric) / span;
    }

    /// <summary>The metric with the clean <c>blocks.{layer}.hook_resid_pre</c> at <paramref name="positions"/> in the
    /// corrupted run (every position: the whole stream, which at layer 0 is the clean run itself).</summary>
    public float PatchResidual(int layer, ReadOnlySpan<int> positions)
    {
        CheckLayer(layer);
        int c = _model.Config.Channels;
        var stream = (float[])_corruptedResid[layer].Clone();                            // (T, C)
        foreach (int p in positions)
        {
            if ((uint)p >= (uint)Length) throw new ArgumentOutOfRangeException(nameof(positions), $"position {p} is outside [0, {Length})");
            _cleanResid[layer].AsSpan(p * c, c).CopyTo(stream.AsSpan(p * c, c));
        }
        return Pass(layer, stream, null);
    }

    /// <summary>The metric with one cell patched: <paramref name="index"/> is a position (resid_pre, attn_out,
    /// mlp_out) or a head (z).</summary>
    public float Patch(PatchSite site, int layer, int index)
    {
        CheckLayer(layer);
        if (site == PatchSite.ResidPre) return PatchResidual(layer, [index]);
        return Pass(layer, _corruptedResid[layer], Hooks(site, layer, index));
    }

    /// <summary>The hook that writes the clean value of one cell into a pass: what a full forward with the same
    /// replacement runs (the tests compare the two).</summary>
    public HookSet Hooks(PatchSite site, int layer, int index)
    {
        CheckLayer(layer);
        int c = _model.Config.Channels, h = _model.Config.Heads, d = _model.Config.HeadDim;
        int columns = site == PatchSite.HeadZ ? h : Length;
        if ((uint)index >= (uint)columns) throw new ArgumentOutOfRangeException(nameof(index), $"{(site == PatchSite.HeadZ ? "head" : "position")} {index} is outside [0, {columns})");
        var point = site switch
        {
            PatchSite.ResidPre => HookPoint.ResidPre,
            PatchSite.AttnOut => HookPoint.AttnOut,
            PatchSite.MlpOut => HookPoint.MlpOut,
            _ => HookPoint.Z,
        };
        string name = HookNames.Name(point, layer);
        var clean = site == PatchSite.ResidPre ? _cleanResid[layer] : _clean[name].Data;
        return new HookSet().Edit(name, (_, memory) =>
        {
            var values = memory.Span;
            if (site == PatchSite.HeadZ)
                for (int r = 0; r < Length; r++) clean.AsSpan(r * h * d + index * d, d).CopyTo(values.Slice(r * h * d + index * d, d));   // (T, H, D)
            else clean.AsSpan(index * c, c).CopyTo(values.Slice(index * c, c));                                                   // (T, C)
        });
    }

    /// <summary>The metric of a full forward of the corrupted prompt with <paramref name="hooks"/> (no shortcut).</summary>
    public float Direct(HookSet hooks)
    {
        _model.RunWithHooks(_corrupted, hooks);
        return Metric.Of(ModelRuns.LastLogits(_model, Length));
    }

    /// <summary>Every cell of one site: layers × positions, or layers × heads for <see cref="PatchSite.HeadZ"/>.</summary>
    public PatchingResult Sweep(PatchSite site, IProgress<SweepProgress>? progress = null, CancellationToken cancellation = default)
    {
        int rows = _model.Config.Layers, columns = site == PatchSite.HeadZ ? _model.Config.Heads : Length;
        var metric = new float[rows * columns];
        var recovered = new float[rows * columns];
        int done = 0, total = rows * columns;
        progress?.Report(new SweepProgress(0, total));
        for (int l = 0; l < rows; l++)
            for (int i = 0; i < columns; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                metric[l * columns + i] = Patch(site, l, i);
                recovered[l * columns + i] = Recovered(metric[l * columns + i]);
                progress?.Report(new SweepProgress(++done, total));
            }
        return new PatchingResult(site, rows, columns, CleanMetric, CorruptedMetric, metric, recovered);
    }

    private float Pass(int layer, ReadOnlySpan<float> stream, HookSet? hooks)
    {
        _model.ForwardFrom(layer, stream, _corrupted, 1, Length, default, hooks is null ? null : new ForwardOptions { Hooks = hooks });
        return Metric.Of(ModelRuns.LastLogits(_model, Length));
    }

    private void CheckLayer(int layer)
    {
        if ((uint)layer >= (uint)_model.Config.Layers)
            throw new ArgumentOutOfRangeException(nameof(layer), $"layer must be in [0, {_model.Config.Layers - 1}], got {layer}");
    }
}
