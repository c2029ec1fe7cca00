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

    /// <summary>Block <paramref name="l"/>'s MLP branch: reads s.Norm2, writes s.Residual3 = s.Residual2 + branch.</summary>
    public void Forward(LayerRun run, int l, Gpt2BlockActivations s, HookRun? hooks)
    {
        var a = run.Activations;
        int n = run.Rows, hidden = Fc.Out;
        Fc.Forward(run, run[s.Norm2], run[s.Fc]);                                         // (N, 4C); SwiGLU (N, 2M)
        hooks?.Call(HookPoint.MlpPre, l, run.Memory(s.Fc), a.Batch, a.Length, hidden);
        if (Activation == MlpActivation.SwiGlu)
        {
            int m = Projection.In;
            using (run.Phase(Gpt2Phase.Gelu))
            {
                var data = run.Data;
                Slot input = s.Fc, output = s.FcGelu;
                ParallelRows.For(n, (long)n * m * 4, run.ParallelMinimumWork, (start, count) =>
                    SwiGlu.Forward(data.AsSpan(input.Offset + start * 2 * m, count * 2 * m), count, m, data.AsSpan(output.Offset + start * m, count * m)));
            }
            hooks?.Call(HookPoint.MlpPost, l, run.Memory(s.FcGelu), a.Batch, a.Length, m);
            Projection.ForwardBranch(run, run[s.FcGelu], s.Residual2, s.Residual3, hooks, HookPoint.MlpOut, l);
            return;
        }
        using (run.Phase(Gpt2Phase.Gelu))
        {
            var data = run.Data;
            Slot input = s.Fc, output = s.FcGelu;
            ParallelRows.For(n, (long)n * hidden * 4, run.ParallelMinimumWork, (start, count) =>
                Gelu.Forward(data.AsSpan(input.Offset + start * hidden, count * hidden), data.AsSpan(output.Offset + start * hidden, count * hidden)));
        }
        hooks?.Call(HookPoint.MlpPost, l, run.Memory(s.FcGelu), a.Batch, a.Length, hidden);
        Projection.ForwardBranch(run, run[s.FcGelu], s.Residual2, s.Residual3, hooks, HookPoint.MlpOut, l);
    }

    /// <summary>dResidual holds dLoss/d(output); writes the branch's input gradient into dNorm (for ln_2's backward).</summary>
    public void Backward(LayerRun run, Gpt2BlockActivations s, bool accumulate)
    {
        var a = run.Activations;
        int n = run.Rows, hidden = Fc.Out;
        if (Activation == MlpActivation.SwiGlu)
        {
            int m = Projection.In;
            Projection.Backward(run, a.DResidual, s.FcGelu, a.DHidden, accumulate);       // dg (N, M)
            using (run.Phase(Gpt2Phase.BackwardGelu))
            {
                var data = run.Data;
                Slot input = s.Fc, dHidden = a.DHidden, dFc = a.DFc;
                ParallelRows.For(n, (long)n * m * 4, run.ParallelMinimumWork, (start, count) =>
                    SwiGlu.Backward(data.AsSpan(input.Offset + start * 2 * m, count * 2 * m), data.AsSpan(dHidden.Offset + start * m, count * m),
                        count, m, data.AsSpan(dFc.Offset + start * 2 * m, count * 2 * m)));      // d[gate | up] (N, 2M)
            }
            Fc.Backward(run, a.DFc, s.Norm2, a.DNorm, accumulate);
            return;
        }
        Projection.Backward(run, a.DResidual, s.FcGelu, a.DFc, accumulate);               // dg (N, 4C)
        using (run.Phase(Gpt2Phase.BackwardGelu))
        {
            var data = run.Data;
            Slot input = s.Fc, dFc = a.DFc;
            ParallelRows.For(n, (long)n * hidden * 4, run.ParallelMinimumWork, (start, count) =>
            {
                var d = data.AsSpan(dFc.Offset + start * hidden, count * hidden);
                Gelu.Backward(data.AsSpan(input.Offset + start * hidden, count * hidden), d, d);   // dh = gelu′(h)·dg, in place
            });
        }
        Fc.Backward(run, a.DFc, s.Norm2, a.DNorm, accumulate);                              // dx (N, C)
    }
}
