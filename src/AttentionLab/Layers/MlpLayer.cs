using AttentionLab.Hooks;
using AttentionLab.Models;
using AttentionLab.Ops;

namespace AttentionLab.Layers;

/// <summary>
/// The position-wise feed-forward network (Vaswani et al. 2017, §3.3), GPT-2's MLP:
/// <code>
/// h = x·W_fc + b_fc                      (N, 4C)   hook_pre
/// g = activation(h)                      (N, 4C)   hook_post; GELU (tanh) — the config's <see cref="MlpActivation"/>
/// y = residual + g·W_proj + b_proj       (N, C)    the branch (hook_mlp_out) added to the residual
/// </code>
/// With SwiGLU (Llama's gate/up/down) the first product makes [gate | up] side by side, (N, 2M) (hook_pre holds
/// both), and g = silu(gate)·up is (N, M).
/// </summary>
internal sealed class MlpLayer(LinearLayer fc, LinearLayer projection, MlpActivation activation)
{
    public LinearLayer Fc { get; } = fc;
    public LinearLayer Projection { get; } = projection;
    public MlpActivation Activation { get; } = activation;

    /// <summary>Block <paramref name="l"/>'s MLP branch: output = residual + branch(input) (pre-norm: input s.Norm2,
    /// residual s.Residual2, output s.Residual3).</summary>
    /// <param name="input">(N, C) what the first product reads</param>
    /// <param name="residual">(N, C) the stream the branch is added to</param>
    /// <param name="output">(N, C), overwritten</param>
    public void Forward(LayerRun run, int l, DecoderBlockActivations s, Slot input, Slot residual, Slot output, HookRun? hooks)
    {
        var a = run.Activations;
        int n = run.Rows, hidden = Fc.Out;
        Fc.Forward(run, run[input], run[s.Fc]);                                         // (N, 4C); SwiGLU (N, 2M)
        hooks?.Call(HookPoint.MlpPre, l, run.Memory(s.Fc), a.Batch, a.Length, hidden);
        if (Activation == MlpActivation.SwiGlu)
        {
            int m = Projection.In;
            using (run.Phase(DecoderPhase.Gelu))
            {
                var data = run.Data;
                Slot gateUp = s.Fc, hidden2 = s.FcGelu;
                ParallelRows.For(n, (long)n * m * 4, run.ParallelMinimumWork, (start, count) =>
                    SwiGlu.Forward(data.AsSpan(gateUp.Offset + start * 2 * m, count * 2 * m), count, m, data.AsSpan(hidden2.Offset + start * m, count * m)));
            }
            hooks?.Call(HookPoint.MlpPost, l, run.Memory(s.FcGelu), a.Batch, a.Length, m);
            Projection.ForwardBranch(run, run[s.FcGelu], residual, output, hooks, HookPoint.MlpOut, l);
            return;
        }
        using (run.Phase(DecoderPhase.Gelu))
        {
            var data = run.Data;
            Slot fcOut = s.Fc, geluOut = s.FcGelu;
            ParallelRows.For(n, (long)n * hidden * 4, run.ParallelMinimumWork, (start, count) =>
                Gelu.Forward(data.AsSpan(fcOut.Offset + start * hidden, count * hidden), data.AsSpan(geluOut.Offset + start * hidden, count * hidden)));
        }
        hooks?.Call(HookPoint.MlpPost, l, run.Memory(s.FcGelu), a.Batch, a.Length, hidden);
        Projection.ForwardBranch(run, run[s.FcGelu], residual, output, hooks, HookPoint.MlpOut, l);
    }

    /// <summary>Reads dLoss/d(output) from <paramref name="dOutput"/>; writes the branch's input gradient into
    /// <paramref name="dInput"/> (overwritten; pre-norm: dResidual → dNorm, for ln_2's backward).</summary>
    /// <param name="input">(N, C) the forward's input</param>
    public void Backward(LayerRun run, DecoderBlockActivations s, Slot dOutput, Slot input, Slot dInput, bool accumulate)
    {
        var a = run.Activations;
        int n = run.Rows, hidden = Fc.Out;
        if (Activation == MlpActivation.SwiGlu)
        {
            int m = Projection.In;
            Projection.Backward(run, dOutput, s.FcGelu, a.DHidden, accumulate);       // dg (N, M)
            using (run.Phase(DecoderPhase.BackwardGelu))
            {
                var data = run.Data;
                Slot gateUp = s.Fc, dHidden = a.DHidden, dFc = a.DFc;
                ParallelRows.For(n, (long)n * m * 4, run.ParallelMinimumWork, (start, count) =>
                    SwiGlu.Backward(data.AsSpan(gateUp.Offset + start * 2 * m, count * 2 * m), data.AsSpan(dHidden.Offset + start * m, count * m),
                        count, m, data.AsSpan(dFc.Offset + start * 2 * m, count * 2 * m)));      // d[gate | up] (N, 2M)
            }
            Fc.Backward(run, a.DFc, input, dInput, accumulate);
            return;
        }
        Projection.Backward(run, dOutput, s.FcGelu, a.DFc, accumulate);               // dg (N, 4C)
        using (run.Phase(DecoderPhase.BackwardGelu))
        {
            var data = run.Data;
            Slot fcOut = s.Fc, dFc = a.DFc;
            ParallelRows.For(n, (long)n * hidden * 4, run.ParallelMinimumWork, (start, count) =>
            {
                var d = data.AsSpan(dFc.Offset + start * hidden, count * hidden);
                Gelu.Backward(data.AsSpan(fcOut.Offset + start * hidden, count * hidden), d, d);   // dh = gelu′(h)·dg, in place
            });
        }
        Fc.Backward(run, a.DFc, input, dInput, accumulate);                              // dx (N, C)
    }
}
