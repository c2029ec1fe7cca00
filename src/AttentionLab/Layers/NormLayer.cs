using AttentionLab.Models;
using AttentionLab.Ops;

namespace AttentionLab.Layers;

/// <summary>
/// The normalization before each branch and before the head, as the config chooses it (<see cref="NormKind"/>):
/// LayerNorm (Ba et al. 2016) <c>y = (x − mean)/√(var + ε)·γ + β</c> or RMSNorm (Zhang &amp; Sennrich 2019)
/// <c>y = x/√(mean(x²) + ε)·γ</c> over the C channels of each of N rows, rows split over the cores. Forward and
/// backward side by side; the formulas are <see cref="LayerNorm"/>'s and <see cref="RmsNorm"/>'s.
/// </summary>
internal sealed class NormLayer(NormKind kind, ParameterView weight, ParameterView? bias, int channels, float epsilon)
{
    public NormKind Kind { get; } = kind;
    public ParameterView Weight { get; } = weight;
    /// <summary>LayerNorm's β; null for RMSNorm.</summary>
    public ParameterView? Bias { get; } = bias;

    /// <param name="input">(N, C)</param>
    /// <param name="output">(N, C)</param>
    /// <param name="mean">(N) saved for backward</param>
    /// <param name="rstd">(N) 1/√(var + ε), saved for backward</param>
    public void Forward(LayerRun run, Slot input, Slot output, Slot mean, Slot rstd)
    {
        using var _ = run.Phase(DecoderPhase.LayerNorm);
        int n = run.Rows, c = channels;
        float eps = epsilon;
        var data = run.Data;
        var p = run.Parameters;
        int wOffset = Weight.Offset;
        if (Kind == NormKind.RmsNorm)
        {
            ParallelRows.For(n, (long)n * c, run.ParallelMinimumWork, (start, count) =>
                RmsNorm.Forward(data.AsSpan(input.Offset + start * c, count * c), p.AsSpan(wOffset, c), count, c, eps,
                    data.AsSpan(output.Offset + start * c, count * c), data.AsSpan(rstd.Offset + start, count)));
            return;
        }
        int bOffset = Bias!.Offset;
        ParallelRows.For(n, (long)n * c, run.ParallelMinimumWork, (start, count) =>
            LayerNorm.Forward(data.AsSpan(input.Offset + start * c, count * c), p.AsSpan(wOffset, c), p.AsSpan(bOffset, c), count, c, eps,
                data.AsSpan(output.Offset + start * c, count * c), data.AsSpan(mean.Offset + start, count), data.AsSpan(rstd.Offset + start, count)));
    }

    /// <summary>The norm of rows outside a forward pass (the logit lens reads any residual through the model's own
    /// final norm): the same arithmetic as <see cref="Forward"/>, on one core.</summary>
    /// <param name="parameters">the parameter arena</param>
    /// <param name="input">(N, C)</param>
    /// <param name="output">(N, C)</param>
    public void Apply(float[] parameters, ReadOnlySpan<float> input, int rows, Span<float> output)
    {
        int c = channels;
        var rstd = new float[rows];
        if (Kind == NormKind.RmsNorm)
        {
            RmsNorm.Forward(input, parameters.AsSpan(Weight.Offset, c), rows, c, epsilon, output, rstd);
            return;
        }
        var mean = new float[rows];
        LayerNorm.Forward(input, parameters.AsSpan(Weight.Offset, c), parameters.AsSpan(Bias!.Offset, c), rows, c, epsilon, output, mean, rstd);
    }

    /// <summary>
    /// The norm with each row's scale frozen: the linear map <c>x ↦ (x − mean(x))/scale·γ</c> (LayerNorm: centering is
    /// linear; the bias β is left out, see <see cref="Bias"/>), or <c>x ↦ x/scale·γ</c> (RMSNorm, no centering). Summed over the parts of a residual stream, with the
    /// scale the forward pass divided by (<c>ln_final.hook_scale</c>), it gives the norm's output minus β — how direct
    /// logit attribution splits the logits into per-component terms.
    /// </summary>
    /// <param name="input">(N, C) one component of the residual stream</param>
    /// <param name="scale">(N) the divisor per row of the whole stream: √(var + ε) (LayerNorm), √(mean(x²) + ε) (RMSNorm)</param>
    /// <param name="output">(N, C)</param>
    public void ApplyFrozen(float[] parameters, ReadOnlySpan<float> input, ReadOnlySpan<float> scale, int rows, Span<float> output)
    {
        int c = channels;
        var gain = parameters.AsSpan(Weight.Offset, c);
        for (int r = 0; r < rows; r++)
        {
            var x = input.Slice(r * c, c);
            var y = output.Slice(r * c, c);
            float mean = Kind == NormKind.RmsNorm ? 0f : System.Numerics.Tensors.TensorPrimitives.Sum(x) / c;
            float inverse = 1f / scale[r];
            for (int i = 0; i < c; i++) y[i] = (x[i] - mean) * inverse * gain[i];
        }
    }

    /// <summary>
    /// Adds dLoss/dInput to <paramref name="dInput"/> and dWeight, dBias to the gradient arena. dInput rows are
    /// disjoint, but every row adds to dWeight and dBias, so each extra core sums into its own partial (one C-vector
    /// pair) and the partials are added after the join.
    /// </summary>
    /// <param name="dOutput">(N, C)</param>
    /// <param name="input">(N, C) the forward input</param>
    /// <param name="dInput">(N, C), accumulated</param>
    public void Backward(LayerRun run, Slot dOutput, Slot input, Slot mean, Slot rstd, Slot dInput)
    {
        using var _ = run.Phase(DecoderPhase.BackwardLayerNorm);
        var a = run.Activations;
        int n = run.Rows, c = channels;
        var data = a.Data;
        var p = run.Parameters;
        var g = run.Gradients!;
        var weight = Weight;
        if (Kind == NormKind.RmsNorm)
        {
            // one pass; the (C) weight gradient is one partial per call, so the rows stay on one core
            RmsNorm.Backward(a[dOutput], a[input], p.AsSpan(weight.Offset, c), a[rstd], n, c, a[dInput], g.AsSpan(weight.Offset, c));
            return;
        }
        var bias = Bias!;
        int workers = Math.Min(a.Workers, n);
        if (workers <= 1 || (long)n * c < run.ParallelMinimumWork)
        {
            LayerNorm.Backward(a[dOutput], a[input], p.AsSpan(weight.Offset, c), a[mean], a[rstd], n, c, a[dInput],
                g.AsSpan(weight.Offset, c), g.AsSpan(bias.Offset, c));
            return;
        }
        var partials = a[a.NormPartials];
        partials.Slice(0, 2 * c * workers).Clear();
        int partialsOffset = a.NormPartials.Offset;
        Parallel.For(0, workers, w =>
        {
            int start = (int)((long)n * w / workers), count = (int)((long)n * (w + 1) / workers) - start;
            var dw = data.AsSpan(partialsOffset + 2 * c * w, c);
            var db = data.AsSpan(partialsOffset + 2 * c * w + c, c);
            LayerNorm.Backward(data.AsSpan(dOutput.Offset + start * c, count * c), data.AsSpan(input.Offset + start * c, count * c),
                p.AsSpan(weight.Offset, c), data.AsSpan(mean.Offset + start, count), data.AsSpan(rstd.Offset + start, count), count, c,
                data.AsSpan(dInput.Offset + start * c, count * c), dw, db);
        });
        var gw = g.AsSpan(weight.Offset, c);
        var gb = g.AsSpan(bias.Offset, c);
        for (int w = 0; w < workers; w++)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(gw, partials.Slice(2 * c * w, c), gw);
            System.Numerics.Tensors.TensorPrimitives.Add(gb, partials.Slice(2 * c * w + c, c), gb);
        }
    }
}
