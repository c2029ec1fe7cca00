using AttentionLab.Hooks;
using AttentionLab.Models;
using AttentionLab.Ops;

namespace AttentionLab.Layers;

/// <summary>
/// Tokens in, the residual stream out, positions as the config chooses them (<see cref="PositionEncoding"/>):
/// <code>
/// x[b, t] = wte[token[b, t]] + pos[start + t]      (B, T, C)   hook_embed + hook_pos_embed
/// </code>
/// pos is the learned table wpe, the fixed sinusoids, or nothing. start is the first new position (0, or the KV
/// cache's length).
/// </summary>
internal sealed class EmbeddingLayer(ParameterView tokenTable, ParameterView? positionTable, PositionEncoding positions, float[]? sinusoids, int channels)
{
    public ParameterView TokenTable { get; } = tokenTable;
    /// <summary>wpe; null with rotary positions (they act inside attention, nothing is added here).</summary>
    public ParameterView? PositionTable { get; } = positionTable;
    public PositionEncoding Positions { get; } = positions;

    /// <param name="output">(B, T, C), overwritten</param>
    public void Forward(LayerRun run, ReadOnlySpan<int> tokens, int start, Slot output, HookRun? hooks)
    {
        using var _ = run.Phase(DecoderPhase.Embedding);
        var a = run.Activations;
        int batch = a.Batch, length = a.Length, c = channels;
        var encoded = run[output];
        if (run.Weights16?.Find(TokenTable) is { } table16)                              // a narrow table: widen each row
            for (int i = 0; i < tokens.Length; i++) table16.Row(tokens[i], encoded.Slice(i * c, c));
        else Embedding.Forward(run[TokenTable], tokens, c, encoded);
        hooks?.Call(HookPoint.Embed, 0, run.Memory(output), batch, length, c);
        ReadOnlySpan<float> table = Positions switch
        {
            PositionEncoding.Learned => run[PositionTable!].Slice(start * c, length * c),
            PositionEncoding.Sinusoidal => sinusoids.AsSpan(start * c, length * c),
            _ => default,
        };
        if (table.IsEmpty) return;
        if (hooks is not null && hooks.Wants(HookPoint.PosEmbed))
        {
            var added = new float[batch * length * c];                                     // (B, T, C), the table per sequence
            for (int b = 0; b < batch; b++) table.CopyTo(added.AsSpan(b * length * c, length * c));
            hooks.Call(HookPoint.PosEmbed, 0, added, batch, length, c);
            System.Numerics.Tensors.TensorPrimitives.Add(encoded, added, encoded);
            return;
        }
        for (int b = 0; b < batch; b++)
        {
            var row = encoded.Slice(b * length * c, length * c);
            System.Numerics.Tensors.TensorPrimitives.Add(row, table, row);
        }
    }

    /// <summary>dwte[token] += dx (scatter-add), dwpe[t] += Σ_b dx[b, t] (fixed or no positions: nothing to learn).</summary>
    /// <param name="dOutput">(B, T, C)</param>
    public void Backward(LayerRun run, ReadOnlySpan<int> tokens, Slot dOutput)
    {
        using var _ = run.Phase(DecoderPhase.BackwardOther);
        var a = run.Activations;
        int batch = a.Batch, length = a.Length, c = channels;
        var dx = run[dOutput];
        Embedding.Backward(dx, tokens, c, run.Gradient(TokenTable));
        if (Positions != PositionEncoding.Learned) return;
        var dwpe = run.Gradient(PositionTable!).Slice(0, length * c);
        for (int b = 0; b < batch; b++)
            System.Numerics.Tensors.TensorPrimitives.Add(dwpe, dx.Slice(b * length * c, length * c), dwpe);
    }
}
