using AttentionLab.Attention;
using AttentionLab.Hooks;
using AttentionLab.Models;

namespace AttentionLab.Layers;

/// <summary>
/// Multi-head cross-attention (Vaswani et al. 2017, §3.2.3, "encoder-decoder attention"): the decoder's queries
/// read the encoder's memory.
/// <code>
/// q = x·W_q + b_q                         (N, C)      N = B·Tt decoder rows
/// [k | v] = memory·W_kv + b_kv            (M, 2C)     M = B·Ts memory rows, one fused projection
/// q, k, v = split heads                   (B, H, Tt, D), (B, H, Ts, D) ×2
/// o = kernel(q, k, v)                     (B, H, Tt, D)  softmax(q·kᵀ·scale + source padding mask)·v, Tq ≠ Tk
/// z = merge(o)                            (B, Tt, C)     cross_attn.hook_z
/// y = residual + z·W_proj + b_proj        (B, Tt, C)
/// </code>
/// Backward gives dLoss/dx and adds dLoss/dMemory into the arena's DMemory (every decoder block adds its share).
/// Nothing is causal here: every target position may read every real source position.
/// </summary>
internal sealed class CrossAttentionLayer(LinearLayer query, ParameterView keyValueWeight, ParameterView keyValueBias, LinearLayer projection, int heads, int headDim)
{
    public LinearLayer Query { get; } = query;
    /// <summary>(C, 2C): the key projection's columns, then the value projection's.</summary>
    public ParameterView KeyValueWeight { get; } = keyValueWeight;
    /// <summary>(2C)</summary>
    public ParameterView KeyValueBias { get; } = keyValueBias;
    public LinearLayer Projection { get; } = projection;
    public int Heads { get; } = heads;
    public int HeadDim { get; } = headDim;
    private int Channels => Heads * HeadDim;

    /// <summary>Block <paramref name="l"/>'s cross-attention branch over the arena's memory: output = residual + branch(input).</summary>
    /// <param name="input">(N, C) what the queries are projected from (the cross norm's output)</param>
    /// <param name="residual">(N, C) the stream the branch is added to</param>
    /// <param name="output">(N, C), overwritten</param>
    /// <param name="call">kernel, the source padding mask (B, Ts) and the hooks; no cache</param>
    public void Forward(LayerRun run, int l, CrossBlockActivations s, Slot input, Slot residual, Slot output, in AttentionCall call)
    {
        var a = run.Activations;
        int batch = a.Batch, tq = a.Length, ts = a.MemoryLength, m = batch * ts, c = Channels, h = Heads, d = HeadDim;
        var hooks = call.Hooks;
        Query.Forward(run, run[input], run[s.Q]);                                          // (N, C) = (B, Tt, H, D)
        hooks?.Call(HookPoint.CrossQ, l, run.Memory(s.Q), batch, tq, h, d);
        using (run.Phase(DecoderPhase.Matmul))
        {
            Ops.Bias.Fill(run[KeyValueBias], run[s.Kv]);
            run.Device.MatMul(run[a.Memory], run[KeyValueWeight], run[s.Kv], m, 2 * c, c, accumulate: true);   // (M, 2C)
        }
        if (hooks is not null)
        {
            hooks.CallColumns(HookPoint.CrossK, l, run[s.Kv], 2 * c, 0, batch, ts, h, d);
            hooks.CallColumns(HookPoint.CrossV, l, run[s.Kv], 2 * c, c, batch, ts, h, d);
        }
        var shape = new AttentionShape(batch, h, tq, ts, d);
        using (run.Phase(DecoderPhase.Attention))
        {
            AttentionHeads.Split(run[s.Q], batch, tq, h, d, run[s.QHeads]);                           // (B, H, Tt, D)
            AttentionHeads.SplitColumns(run[s.Kv], 2 * c, 0, batch, ts, h, d, run[s.KHeads]);         // (B, H, Ts, D)
            AttentionHeads.SplitColumns(run[s.Kv], 2 * c, c, batch, ts, h, d, run[s.VHeads]);
            if (hooks is not null && (hooks.Wants(HookPoint.CrossAttnScores, l) || hooks.Wants(HookPoint.CrossPattern, l)))
                AttentionLayer.HookedAttention(run, l, run[s.QHeads], run[s.KHeads], run[s.VHeads], shape, call,
                    run[s.AttentionOutput], run.Memory(s.AttentionSaved), HookPoint.CrossAttnScores, HookPoint.CrossPattern);
            else
                call.Kernel.Forward(run[s.QHeads], run[s.KHeads], run[s.VHeads], shape, call.Options, run[s.AttentionOutput], run[s.AttentionSaved]);
            AttentionHeads.Merge(run[s.AttentionOutput], batch, tq, h, d, run[s.AttentionMerged]);   // (B, Tt, C)
        }
        hooks?.Call(HookPoint.CrossZ, l, run.Memory(s.AttentionMerged), batch, tq, h, d);
        Projection.ForwardBranch(run, run[s.AttentionMerged], residual, output, hooks, HookPoint.CrossAttnOut, l);
    }

    /// <summary>
    /// The backward pass: <paramref name="dOutput"/> holds dLoss/d(output); writes dLoss/d(input) into
    /// <paramref name="dInput"/> (overwritten), adds dLoss/dMemory into a.DMemory and the parameter gradients.
    /// </summary>
    public void Backward(LayerRun run, CrossBlockActivations s, Slot input, Slot dOutput, Slot dInput, IAttentionKernel kernel, AttentionOptions options)
    {
        var a = run.Activations;
        int batch = a.Batch, tq = a.Length, ts = a.MemoryLength, n = batch * tq, m = batch * ts, c = Channels, h = Heads, d = HeadDim;
        var dQuery = new Slot(a.DQkv.Offset, n * c);                                       // (N, C), the first third of dQkv
        Projection.Backward(run, dOutput, s.AttentionMerged, a.DMerged, accumulate: true); // dz (N, C)
        using (run.Phase(DecoderPhase.BackwardAttention))
        {
            AttentionHeads.Split(run[a.DMerged], batch, tq, h, d, run[a.DAttention]);                  // (B, H, Tt, D)
            kernel.Backward(run[s.QHeads], run[s.KHeads], run[s.VHeads], run[s.AttentionOutput], run[s.AttentionSaved], run[a.DAttention],
                new AttentionShape(batch, h, tq, ts, d), options, run[a.DQ], run[a.DCrossK], run[a.DCrossV]);
            AttentionHeads.Merge(run[a.DQ], batch, tq, h, d, run[dQuery]);                             // (N, C)
            AttentionHeads.MergeColumns(run[a.DCrossK], batch, ts, h, d, run[a.DCrossKv], 2 * c, 0);   // (M, 2C)
            AttentionHeads.MergeColumns(run[a.DCrossV], batch, ts, h, d, run[a.DCrossKv], 2 * c, c);
        }
        Query.Backward(run, dQuery, input, dInput, accumulate: true);
        using (run.Phase(DecoderPhase.BackwardMatmul))
        {
            var g = run.Gradients!;
            run.Device.MatMul(run[a.DCrossKv], run[KeyValueWeight], run[a.DMemory], m, c, 2 * c, transposeB: true, accumulate: true);   // dMemory += dKv·W_kvᵀ
            run.Device.MatMul(run[a.Memory], run[a.DCrossKv], g.AsSpan(KeyValueWeight.Offset, KeyValueWeight.Length), c, 2 * c, m,
                transposeA: true, accumulate: true);                                                                                    // dW_kv += memoryᵀ·dKv
            Ops.Bias.Backward(run[a.DCrossKv], g.AsSpan(KeyValueBias.Offset, KeyValueBias.Length));
        }
    }
}
