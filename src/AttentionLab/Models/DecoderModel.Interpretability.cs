namespace AttentionLab.Models;

/// <summary>
/// What the interpretability methods (namespace AttentionLab.Interpretability) need beyond hooks: a pass that starts
/// at a block (activation patching and ablation re-run only the blocks after the change) and the model's own final
/// norm and unembedding applied to any residual vectors (the logit lens, direct logit attribution). Each is the
/// forward's own layer, so a model with another norm or head gets its own arithmetic here.
/// </summary>
public sealed partial class DecoderModel
{
    /// <summary>
    /// Runs blocks <paramref name="layer"/> … L−1 and the head on <paramref name="residual"/> as the stream entering
    /// block <paramref name="layer"/>: the same result, bit for bit, as a <see cref="Forward"/> whose
    /// <c>blocks.{layer}.hook_resid_pre</c> an editor replaced with <paramref name="residual"/> (the embedding and the
    /// earlier blocks are skipped, so their hooks are not called). Inference only: there is no backward pass.
    /// </summary>
    /// <param name="layer">the first block to run, in [0, L]; L runs only the head</param>
    /// <param name="residual">(B, T, C) blocks.{layer}.hook_resid_pre</param>
    /// <param name="tokens">(B, T) the ids the stream came from (kept with the pass, as Forward does)</param>
    /// <param name="targets">(B, T) next-token ids (−1: not scored), or empty</param>
    public float ForwardFrom(int layer, ReadOnlySpan<float> residual, ReadOnlySpan<int> tokens, int batch, int length,
        ReadOnlySpan<int> targets = default, ForwardOptions? options = null)
    {
        var cfg = Config;
        if ((uint)layer > (uint)cfg.Layers) throw new ArgumentOutOfRangeException(nameof(layer), $"layer must be in [0, {cfg.Layers}], got {layer}");
        if (batch <= 0 || length <= 0) throw new ArgumentOutOfRangeException(nameof(batch), $"batch and length must be positive, got {batch} and {length}");
        if (length > cfg.ContextLength) throw new ArgumentOutOfRangeException(nameof(length), $"length {length} exceeds the context length {cfg.ContextLength}");
        int n = batch * length;
        if (tokens.Length != n) throw new ArgumentException($"tokens has {tokens.Length} elements, (B, T) = ({batch}, {length}) needs {n}");
        if (residual.Length != n * cfg.Channels) throw new ArgumentException($"residual has {residual.Length} elements, (B, T, C) needs {n * cfg.Channels}");
        if (!targets.IsEmpty && targets.Length != n) throw new ArgumentException($"targets has {targets.Length} elements, needs {n}");
        CheckIds(tokens, nameof(tokens));
        CheckIds(targets, nameof(targets), unscored: -1);
        return Run(tokens, batch, length, targets, cache: null, options, layer, residual);
    }

    /// <summary>Rows of a residual stream through the final norm and the unembedding, as the forward's last step maps
    /// them: <c>logits = W_U·norm(x) (+ b)</c>. The logit lens reads every layer's stream this way; for the last
    /// block's output it gives the model's logits.</summary>
    /// <param name="residual">(N, C)</param>
    /// <param name="logits">(N, V), overwritten</param>
    public void Unembed(ReadOnlySpan<float> residual, int rows, Span<float> logits)
    {
        int c = Config.Channels, v = Config.VocabSize;
        if (rows < 0 || residual.Length < rows * c) throw new ArgumentException($"residual needs {rows} × {c} floats, has {residual.Length}");
        if (logits.Length < (long)rows * v) throw new ArgumentException($"logits needs {rows} × {v} floats, has {logits.Length}");
        _head.Unembed(Parameters.Data, Device, residual[..(rows * c)], rows, logits);
    }

    /// <summary>
    /// The final norm with each row's scale frozen (<c>ln_final.hook_scale</c> of a forward pass): a linear map, so
    /// the residual stream's parts (embeddings, each head's <c>hook_result</c>, each MLP's output, the biases) map to
    /// parts that sum to <c>ln_final.hook_normalized</c> − <see cref="FinalNormBias"/>. Direct logit attribution's
    /// convention (TransformerLens's <c>apply_ln_to_stack</c>). Without a final norm the map is the identity.
    /// </summary>
    /// <param name="component">(N, C)</param>
    /// <param name="scale">(N) the scale per row</param>
    /// <param name="output">(N, C)</param>
    public void FinalNormFrozen(ReadOnlySpan<float> component, ReadOnlySpan<float> scale, int rows, Span<float> output)
    {
        int c = Config.Channels;
        if (component.Length < rows * c || output.Length < rows * c || scale.Length < rows)
            throw new ArgumentException($"need {rows} rows of {c} channels and {rows} scales");
        if (_head.FinalNorm is { } norm) norm.ApplyFrozen(Parameters.Data, component, scale, rows, output);
        else component[..(rows * c)].CopyTo(output);
    }

    /// <summary>(C) what the final norm adds after its scale (LayerNorm's β); empty for RMSNorm or without a final norm.</summary>
    public ReadOnlySpan<float> FinalNormBias => _head.FinalNorm?.Bias is { } bias ? Parameters.Data.AsSpan(bias.Offset, Config.Channels) : default;

    /// <summary>(C) token <paramref name="token"/>'s row of the unembedding W_U: its logit is this row · the normalized stream (+ <see cref="OutputBiasOf"/>).</summary>
    public ReadOnlySpan<float> UnembeddingRow(int token)
    {
        CheckIds([token], nameof(token));
        int c = Config.Channels;
        return Parameters.Data.AsSpan(_head.Unembedding.Offset + token * c, c);
    }

    /// <summary>The output head's bias for <paramref name="token"/> (0 without one).</summary>
    public float OutputBiasOf(int token)
    {
        CheckIds([token], nameof(token));
        return _head.Bias is { } b ? Parameters.Data[b.Offset + token] : 0f;
    }
}
