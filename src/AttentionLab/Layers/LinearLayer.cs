using AttentionLab.Hooks;
using AttentionLab.Models;
using AttentionLab.Ops;

namespace AttentionLab.Layers;

/// <summary>
/// <c>y = x·W + b</c> with W stored (in, out) — Hugging Face's Conv1D layout, so the forward product is a plain
/// (non-transposed) GEMM and loading a GPT-2 is a copy. The bias is optional (a config choice). Forward and
/// backward side by side.
/// </summary>
internal sealed class LinearLayer(ParameterView weight, ParameterView? bias, int inFeatures, int outFeatures)
{
    public ParameterView Weight { get; } = weight;
    public ParameterView? Bias { get; } = bias;
    public int In { get; } = inFeatures;
    public int Out { get; } = outFeatures;

    /// <summary>output = x·W + b: the bias pre-fills the output and the GEMM accumulates onto it.</summary>
    /// <param name="input">(N, in)</param>
    /// <param name="output">(N, out), overwritten</param>
    public void Forward(LayerRun run, Span<float> input, Span<float> output)
    {
        using var _ = run.Phase(DecoderPhase.Matmul);
        if (Bias is { } b) Ops.Bias.Fill(run[b], output);
        else output.Clear();
        run.MultiplyByWeight(input, Weight, output, run.Rows, Out, In, accumulate: true);
    }

    /// <summary>output = residual + b + x·W: the residual connection folded into the product's accumulator.</summary>
    /// <param name="input">(N, in)</param>
    /// <param name="residual">(N, out)</param>
    /// <param name="output">(N, out), overwritten (may not alias <paramref name="input"/>)</param>
    public void ForwardAdd(LayerRun run, Span<float> input, ReadOnlySpan<float> residual, Span<float> output)
    {
        using (run.Phase(DecoderPhase.Residual))
        {
            if (Bias is { } b) Ops.Bias.AddTo(residual, run[b], output);
            else residual.CopyTo(output);
        }
        using var _ = run.Phase(DecoderPhase.Matmul);
        run.MultiplyByWeight(input, Weight, output, run.Rows, Out, In, accumulate: true);
    }

    /// <summary>
    /// A block's branch output: output = residual + x·W + b (the branch alone without a residual), with the branch
    /// handed to the hooks of <paramref name="point"/> (B, T, out) when any. Readers get the branch computed on its
    /// own while the residual stream still takes the fused path, so reading changes no bit of the pass; an editor's
    /// branch is what is added.
    /// </summary>
    /// <param name="residual">(N, out), or null for no residual</param>
    public void ForwardBranch(LayerRun run, Span<float> input, Slot? residual, Slot output, HookRun? hooks, HookPoint point, int layer)
    {
        if (hooks is not null && hooks.Wants(point, layer))
        {
            var branch = new float[run.Rows * Out];                                       // (N, out)
            Forward(run, input, branch);
            hooks.Call(point, layer, branch, run.Activations.Batch, run.Activations.Length, Out);
            if (hooks.Edits(point, layer))
            {
                if (residual is { } r) System.Numerics.Tensors.TensorPrimitives.Add(run[r], branch, run[output]);
                else branch.CopyTo(run[output]);
                return;
            }
        }
        if (residual is { } res) ForwardAdd(run, input, run[res], run[output]);
        else Forward(run, input, run[output]);
    }

    /// <summary>
    /// dX = dY·Wᵀ on one half of the cores while dW (+)= Xᵀ·dY and db += Σ dY run on the other: the two products
    /// have the same flops and touch different outputs (measured on 2 cores, notes in docs/gpt2.md).
    /// </summary>
    /// <param name="dOutput">(N, out)</param>
    /// <param name="input">(N, in) the forward input x</param>
    /// <param name="dInput">(N, in), overwritten</param>
    /// <param name="accumulate">true: dW += this batch's; false: dW = this batch's (db is always added)</param>
    public void Backward(LayerRun run, Slot dOutput, Slot input, Slot dInput, bool accumulate)
    {
        using var _ = run.Phase(DecoderPhase.BackwardMatmul);
        var data = run.Data; var p = run.Parameters; var g = run.Gradients!;
        int n = run.Rows, inF = In, outF = Out;
        var weight = Weight; var bias = Bias;
        var device = run.Device;
        LayerRun.SideBySide(
            threads => device.MatMul(data.AsSpan(dOutput.Offset, n * outF), p.AsSpan(weight.Offset, weight.Length),
                data.AsSpan(dInput.Offset, n * inF), n, inF, outF, transposeB: true, maxThreads: threads),
            threads =>
            {
                device.MatMul(data.AsSpan(input.Offset, n * inF), data.AsSpan(dOutput.Offset, n * outF),
                    g.AsSpan(weight.Offset, weight.Length), inF, outF, n, transposeA: true, accumulate: accumulate, maxThreads: threads);
                if (bias is { } b) Ops.Bias.Backward(data.AsSpan(dOutput.Offset, n * outF), g.AsSpan(b.Offset, b.Length));
            });
    }
}
