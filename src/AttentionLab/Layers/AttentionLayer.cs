using AttentionLab.Attention;
using AttentionLab.Hooks;
using AttentionLab.Models;

namespace AttentionLab.Layers;

/// <summary>What one forward pass's attention runs with: the kernel, its scale and masks, the KV cache (generation)
/// and the call's hooks. Arguments of the call, never state on the model.</summary>
internal readonly record struct AttentionCall(IAttentionKernel Kernel, AttentionOptions Options, KvCache? Cache, int CachedStart, HookRun? Hooks);

/// <summary>Qwen3's per-head RMSNorm of q and k (a (D) gain each, shared by all heads) and its epsilon.</summary>
internal sealed record HeadNorms(ParameterView Query, ParameterView Key, float Epsilon);

/// <summary>
/// Multi-head self-attention, one block's:
/// <code>
/// qkv = x·W_attn + b_attn                 (N, (H + 2·Hkv)·D)  one fused projection (GPT-2's c_attn; Llama's q|k|v_proj)
/// q, k, v = split(qkv)                    (B, H, T, D), (B, Hkv, T, D) ×2
/// q, k = rms_norm(q), rms_norm(k)         per head, over D (Qwen3 only)
/// q, k = rotate(q, p), rotate(k, p)       rotary positions (Llama family only)
/// k, v = repeat_kv(k), repeat_kv(v)       (B, H, T, D) when Hkv &lt; H (grouped-query attention)
/// o = kernel(q, k, v)                     (B, H, T, D)        softmax(q·kᵀ·scale + mask)·v, any IAttentionKernel
/// z = merge(o)                            (B, T, H·D)         the heads side by side (hook_z)
/// y = residual + z·W_proj + b_proj        (B, T, C)           the output projection, added to the residual
/// </code>
/// With a KV cache the new positions' keys and values (Hkv heads, rotated) are appended and each new query attends to
/// every cached key of its group's head (causal, aligned bottom-right). Hooks may read q, k, v (as projected: before
/// the q/k norm and the rotation, k and v with Hkv heads), the scores, the pattern, z and the branch output, and edit
/// any of them. GPT-2's path (Hkv = H, no rotation, no norm) does none of the extra steps.
/// </summary>
internal sealed class AttentionLayer(LinearLayer qkv, LinearLayer projection, int heads, int headDim,
    int keyValueHeads = 0, Ops.RotaryEmbedding? rotary = null, HeadNorms? headNorms = null)
{
    public LinearLayer Qkv { get; } = qkv;
    public LinearLayer Projection { get; } = projection;
    public int Heads { get; } = heads;
    public int HeadDim { get; } = headDim;
    /// <summary>Hkv: key/value heads (= H unless grouped-query).</summary>
    public int KeyValueHeads { get; } = keyValueHeads > 0 ? keyValueHeads : heads;
    public Ops.RotaryEmbedding? Rotary { get; } = rotary;
    public HeadNorms? HeadNorms { get; } = headNorms;
    private int Channels => Heads * HeadDim;
    private int KeyValueChannels => KeyValueHeads * HeadDim;
    private bool Grouped => KeyValueHeads < Heads;

    /// <summary>Block <paramref name="l"/>'s attention branch: output = residual + branch(input), or the branch alone
    /// when there is no residual (the seed materials' one-layer GPT). The block's q, k, v and the kernel's state live
    /// in <paramref name="s"/>.</summary>
    /// <param name="input">(N, C) what the projections read (ln_1's output in a block)</param>
    /// <param name="residual">(N, C) the residual stream the branch is added to; null: none</param>
    /// <param name="output">(N, C), overwritten</param>
    public void Forward(LayerRun run, int l, DecoderBlockActivations s, Slot input, Slot? residual, Slot output, in AttentionCall call)
    {
        var a = run.Activations;
        int batch = a.Batch, length = a.Length, c = Channels, kv = KeyValueChannels, width = c + 2 * kv, h = Heads, hkv = KeyValueHeads, d = HeadDim;
        var hooks = call.Hooks;
        Qkv.Forward(run, run[input], run[s.Qkv]);                                       // (N, (H + 2·Hkv)·D)
        if (hooks is not null)
        {
            hooks.CallColumns(HookPoint.Q, l, run[s.Qkv], width, 0, batch, length, h, d);
            hooks.CallColumns(HookPoint.K, l, run[s.Qkv], width, c, batch, length, hkv, d);
            hooks.CallColumns(HookPoint.V, l, run[s.Qkv], width, c + kv, batch, length, hkv, d);
        }
        using (run.Phase(DecoderPhase.Attention))
        {
            if (HeadNorms is null && Rotary is null && !Grouped)
            {
                // GPT-2: the heads straight out of the fused projection
                AttentionHeads.SplitColumns(run[s.Qkv], width, 0, batch, length, h, d, run[s.Q]);       // (B, H, T, D)
                AttentionHeads.SplitColumns(run[s.Qkv], width, c, batch, length, h, d, run[s.K]);
                AttentionHeads.SplitColumns(run[s.Qkv], width, 2 * c, batch, length, h, d, run[s.V]);
            }
            else PrepareHeads(run, s, call.CachedStart);
            if (call.Cache is not null) CachedAttention(run, l, s, call);
            else
            {
                if (Grouped)
                {
                    KeyValueGroups.Expand(run[s.KeyHeads], batch, hkv, h, length, d, run[s.K]);          // repeat_kv: (B, H, T, D)
                    KeyValueGroups.Expand(run[s.ValueHeads], batch, hkv, h, length, d, run[s.V]);
                }
                if (hooks is not null && (hooks.Wants(HookPoint.AttnScores, l) || hooks.Wants(HookPoint.Pattern, l)))
                    HookedAttention(run, l, run[s.Q], run[s.K], run[s.V], new AttentionShape(batch, h, length, length, d), call,
                        run[s.AttentionOutput], run.Memory(s.AttentionSaved));
                else
                    call.Kernel.Forward(run[s.Q], run[s.K], run[s.V], new AttentionShape(batch, h, length, length, d), call.Options,
                        run[s.AttentionOutput], run[s.AttentionSaved]);
            }
            AttentionHeads.Merge(run[s.AttentionOutput], batch, length, h, d, run[s.AttentionMerged]);  // (B, T, H·D)
        }
        hooks?.Call(HookPoint.Z, l, run.Memory(s.AttentionMerged), batch, length, h, d);
        if (hooks is not null && hooks.Wants(HookPoint.Result, l)) CallResult(run, l, run[s.AttentionMerged], hooks);
        Projection.ForwardBranch(run, run[s.AttentionMerged], residual, output, hooks, HookPoint.AttnOut, l);
    }

    /// <summary>The Llama family's heads: split q (H heads) and k, v (Hkv heads, into their own slots when grouped),
    /// Qwen3's per-head norms, then the rotation of q and k at positions start … start + T − 1.</summary>
    private void PrepareHeads(LayerRun run, DecoderBlockActivations s, int start)
    {
        var a = run.Activations;
        int batch = a.Batch, length = a.Length, c = Channels, kv = KeyValueChannels, width = c + 2 * kv, h = Heads, hkv = KeyValueHeads, d = HeadDim;
        Slot q = s.Q, k = s.Keys, v = s.Values;
        AttentionHeads.SplitColumns(run[s.Qkv], width, c + kv, batch, length, hkv, d, run[v]);              // (B, Hkv, T, D)
        if (HeadNorms is { } norms)
        {
            AttentionHeads.SplitColumns(run[s.Qkv], width, 0, batch, length, h, d, run[s.QueryPreNorm]);
            AttentionHeads.SplitColumns(run[s.Qkv], width, c, batch, length, hkv, d, run[s.KeyPreNorm]);
            Ops.RmsNorm.Forward(run[s.QueryPreNorm], run[norms.Query], batch * h * length, d, norms.Epsilon, run[q], run[s.QueryNormRstd]);
            Ops.RmsNorm.Forward(run[s.KeyPreNorm], run[norms.Key], batch * hkv * length, d, norms.Epsilon, run[k], run[s.KeyNormRstd]);
        }
        else
        {
            AttentionHeads.SplitColumns(run[s.Qkv], width, 0, batch, length, h, d, run[q]);                 // (B, H, T, D)
            AttentionHeads.SplitColumns(run[s.Qkv], width, c, batch, length, hkv, d, run[k]);               // (B, Hkv, T, D)
        }
        if (Rotary is { } rope)
        {
            rope.Apply(run[q], batch * h, length, start);
            rope.Apply(run[k], batch * hkv, length, start);
        }
    }

    /// <summary>
    /// <c>hook_result</c> (B, T, H, C): head h's share of the branch, z[:, h]·W_proj[h·D:(h+1)·D, :] — the rows of the
    /// (in, out) projection that read head h's columns, so Σ_h result_h + b_proj is the branch. Read-only: it is
    /// computed beside the branch, which takes the fused product as always.
    /// </summary>
    /// <param name="merged">(N, H·D) z, the heads side by side</param>
    private void CallResult(LayerRun run, int l, ReadOnlySpan<float> merged, HookRun hooks)
    {
        if (hooks.Edits(HookPoint.Result, l))
            throw new InvalidOperationException($"blocks.{l}.attn.hook_result can be read, not edited: edit blocks.{l}.attn.hook_z to change a head");
        int n = run.Rows, h = Heads, d = HeadDim, inner = Channels, c = Projection.Out;
        var result = new float[n * h * c];                                                // (N, H, C)
        var head = new float[n * d];                                                      // (N, D)
        var part = new float[n * c];                                                      // (N, C)
        var weight = run[Projection.Weight];                                              // (H·D, C), (in, out)
        for (int hh = 0; hh < h; hh++)
        {
            for (int r = 0; r < n; r++) merged.Slice(r * inner + hh * d, d).CopyTo(head.AsSpan(r * d, d));
            run.Device.MatMul(head, weight.Slice(hh * d * c, d * c), part, n, c, d);      // (N, D)·(D, C)
            for (int r = 0; r < n; r++) part.AsSpan(r * c, c).CopyTo(result.AsSpan((r * h + hh) * c, c));
        }
        hooks.Call(HookPoint.Result, l, result, run.Activations.Batch, run.Activations.Length, h, c);
    }

    /// <summary>
    /// The backward pass of <see cref="Forward"/>: <paramref name="dOutput"/> holds dLoss/d(output); writes dLoss/d(input)
    /// into <paramref name="dInput"/> (overwritten; ln_1's backward reads it) and adds the parameter gradients. The
    /// residual's gradient is dOutput itself, which the caller keeps.
    /// </summary>
    /// <param name="input">(N, C) the forward's input</param>
    public void Backward(LayerRun run, DecoderBlockActivations s, Slot input, Slot dOutput, Slot dInput, IAttentionKernel kernel, AttentionOptions options, bool accumulate)
    {
        var a = run.Activations;
        int batch = a.Batch, length = a.Length, c = Channels, kv = KeyValueChannels, width = c + 2 * kv, h = Heads, hkv = KeyValueHeads, d = HeadDim;
        Projection.Backward(run, dOutput, s.AttentionMerged, a.DMerged, accumulate);
        using (run.Phase(DecoderPhase.BackwardAttention))
        {
            AttentionHeads.Split(run[a.DMerged], batch, length, h, d, run[a.DAttention]);              // (B, H, T, D)
            kernel.Backward(run[s.Q], run[s.K], run[s.V], run[s.AttentionOutput], run[s.AttentionSaved], run[a.DAttention],
                new AttentionShape(batch, h, length, length, d), options, run[a.DQ], run[a.DK], run[a.DV]);
            Slot dk = a.DK, dv = a.DV;
            if (Grouped)
            {
                // the backward of repeat_kv: each key/value head gets the sum over its group
                KeyValueGroups.Reduce(run[a.DK], batch, hkv, h, length, d, run[a.DKeyHeads]);            // (B, Hkv, T, D)
                KeyValueGroups.Reduce(run[a.DV], batch, hkv, h, length, d, run[a.DValueHeads]);
                (dk, dv) = (a.DKeyHeads, a.DValueHeads);
            }
            if (Rotary is { } rope)
            {
                rope.Apply(run[a.DQ], batch * h, length, 0, inverse: true);                           // rotation by −pθ
                rope.Apply(run[dk], batch * hkv, length, 0, inverse: true);
            }
            if (HeadNorms is { } norms)
            {
                var g = run.Gradients!;
                Ops.RmsNorm.Backward(run[a.DQ], run[s.QueryPreNorm], run[norms.Query], run[s.QueryNormRstd], batch * h * length, d,
                    run[a.DQ], g.AsSpan(norms.Query.Offset, d), overwrite: true);
                Ops.RmsNorm.Backward(run[dk], run[s.KeyPreNorm], run[norms.Key], run[s.KeyNormRstd], batch * hkv * length, d,
                    run[dk], g.AsSpan(norms.Key.Offset, d), overwrite: true);
            }
            AttentionHeads.MergeColumns(run[a.DQ], batch, length, h, d, run[a.DQkv], width, 0);         // (N, (H + 2·Hkv)·D)
            AttentionHeads.MergeColumns(run[dk], batch, length, hkv, d, run[a.DQkv], width, c);
            AttentionHeads.MergeColumns(run[dv], batch, length, hkv, d, run[a.DQkv], width, c + kv);
        }
        Qkv.Backward(run, a.DQkv, input, dInput, accumulate);
    }

    /// <summary>
    /// Attention with the scores or the pattern hooked. Readers only: the kernel runs as always, and the pattern they
    /// see is the kernel's own weights — from the same forward call for a kernel that saves them (naive, fast), else
    /// materialized by <see cref="IAttentionKernel.Weights"/> from this call's q, k, v (flash: exact softmax recomputed
    /// from q and k; window: its banded softmax; performer: its approximation). With an editor the layer runs the
    /// written-out reference instead — scores → softmax → pattern·v — so what a hook writes is what mixes the values.
    /// </summary>
    /// <param name="scoresPoint">the scores' hook point (self: AttnScores, cross: CrossAttnScores)</param>
    /// <param name="patternPoint">the pattern's hook point (self: Pattern, cross: CrossPattern)</param>
    internal static void HookedAttention(LayerRun run, int l, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        AttentionShape shape, in AttentionCall call, Span<float> output, Memory<float> saved,
        HookPoint scoresPoint = HookPoint.AttnScores, HookPoint patternPoint = HookPoint.Pattern)
    {
        var hooks = call.Hooks!;
        int size = shape.WeightElements;
        int[] dims = [shape.Batch, shape.Heads, shape.QueryLength, shape.KeyLength];
        if (hooks.Edits(scoresPoint, l) || hooks.Edits(patternPoint, l))
        {
            var pattern = run.Scratch(0, size);
            AttentionPattern.Scores(q, k, shape, call.Options, pattern.Span);
            hooks.Call(scoresPoint, l, pattern, dims);
            AttentionPattern.Softmax(pattern.Span, shape.KeyLength);
            hooks.Call(patternPoint, l, pattern, dims);
            AttentionPattern.Mix(pattern.Span, v, shape, output);
            return;
        }
        var kernel = call.Kernel;
        Memory<float> weights;
        if (kernel.SavesWeights && saved.Length == size)
        {
            kernel.Forward(q, k, v, shape, call.Options, output, saved.Span);             // training: the saved state is the weights
            weights = saved;
        }
        else if (kernel.SavesWeights && saved.IsEmpty)
        {
            weights = run.Scratch(0, size);
            kernel.Forward(q, k, v, shape, call.Options, output, weights.Span);
        }
        else
        {
            kernel.Forward(q, k, v, shape, call.Options, output, saved.Span);
            weights = hooks.Wants(patternPoint, l) ? run.Scratch(0, size) : default;
            if (!weights.IsEmpty) kernel.Weights(q, k, v, shape, call.Options, weights.Span);
        }
        if (hooks.Wants(scoresPoint, l))
        {
            var scores = run.Scratch(1, size);
            AttentionPattern.Scores(q, k, shape, call.Options, scores.Span);
            hooks.Call(scoresPoint, l, scores, dims);
        }
        if (hooks.Wants(patternPoint, l)) hooks.Call(patternPoint, l, weights, dims);
    }

    /// <summary>
    /// Attention of the n new positions against the cache: appends their keys and values (Hkv heads) to layer l's
    /// cache, then runs the kernel per query head h with q (1, 1, n, D) against its group's k, v (1, 1, Tk, D), head
    /// h / G, Tk = cached + new: no copy of the shared heads. With the scores or the pattern hooked, the heads' cached
    /// keys and values are gathered into (1, H, Tk, D) and run as one call.
    /// </summary>
    /// <summary>Multiply-adds (H·n·Tk·D) from which a cached step runs its heads in parallel: GPT-2 124M at 256 cached
    /// positions is 196,608 and spent ~1.5 of its ~11 ms BF16 token in attention on one core.</summary>
    private const long ParallelHeadsWork = 1 << 16;

    private void CachedAttention(LayerRun run, int l, DecoderBlockActivations s, in AttentionCall call)
    {
        var cache = call.Cache!;
        int n = run.Activations.Length, h = Heads, hkv = KeyValueHeads, group = h / hkv, d = HeadDim, start = call.CachedStart, tk = start + n;
        var q = run[s.Q]; var k = run[s.Keys]; var v = run[s.Values]; var o = run[s.AttentionOutput];
        for (int g = 0; g < hkv; g++)
        {
            k.Slice(g * n * d, n * d).CopyTo(cache.Keys(l, g, start, n));
            v.Slice(g * n * d, n * d).CopyTo(cache.Values(l, g, start, n));
        }
        if (call.Hooks is { } hooks && (hooks.Wants(HookPoint.AttnScores, l) || hooks.Wants(HookPoint.Pattern, l)))
        {
            var keys = new float[h * tk * d];
            var values = new float[h * tk * d];
            for (int hh = 0; hh < h; hh++)
            {
                cache.Keys(l, hh / group, 0, tk).CopyTo(keys.AsSpan(hh * tk * d, tk * d));
                cache.Values(l, hh / group, 0, tk).CopyTo(values.AsSpan(hh * tk * d, tk * d));
            }
            HookedAttention(run, l, q, keys, values, new AttentionShape(1, h, n, tk, d), call, o, default);
            return;
        }
        var shape = new AttentionShape(1, 1, n, tk, d);
        if (call.Kernel.CallsMayOverlap && h > 1 && (long)h * n * tk * d >= ParallelHeadsWork)
        {
            // A decode step's heads are independent small calls (one query row each): spread them over the cores.
            var kernel = call.Kernel;
            var options = call.Options;
            float[] data = run.Data, keys = cache.KeysByLayer[l], values = cache.ValuesByLayer[l];
            int qAt = s.Q.Offset, oAt = s.AttentionOutput.Offset, allocated = cache.Allocated;
            Parallel.For(0, h, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, hh =>
            {
                int kvAt = hh / group * allocated * d;                                       // the group's (Tk, D) keys and values
                kernel.Forward(data.AsSpan(qAt + hh * n * d, n * d), keys.AsSpan(kvAt, tk * d), values.AsSpan(kvAt, tk * d),
                    shape, options, data.AsSpan(oAt + hh * n * d, n * d), default);
            });
            return;
        }
        for (int hh = 0; hh < h; hh++)
            call.Kernel.Forward(q.Slice(hh * n * d, n * d), cache.Keys(l, hh / group, 0, tk), cache.Values(l, hh / group, 0, tk),
                shape, call.Options, o.Slice(hh * n * d, n * d), default);
    }
}
