namespace AttentionLab.Models;

/// <summary>
/// A (start, count) slot of floats in an activation arena: long for the GPU's arena (GPT-2 124M at 8 × 1024 needs
/// billions of floats), with the int view the CPU's spans take (a CPU arena never exceeds
/// <see cref="Array.MaxLength"/>: <see cref="DecoderActivations"/> checks it before it allocates).
/// </summary>
public readonly record struct Slot(long Start, long Count)
{
    /// <summary>The start as an index into a CPU arena.</summary>
    public int Offset => (int)Start;

    /// <summary>The count as a span length in a CPU arena.</summary>
    public int Length => (int)Count;
}

/// <summary>The forward activations one block keeps for its backward pass. N = B·T.</summary>
public sealed record DecoderBlockActivations(
    Slot Norm1,              // (N, C) ln_1 output
    Slot Norm1Mean,          // (N)
    Slot Norm1Rstd,          // (N)
    Slot Qkv,                // (N, 3C) c_attn output
    Slot Q, Slot K, Slot V,  // (B, H, T, D) each, heads split out of Qkv
    Slot AttentionOutput,    // (B, H, T, D)
    Slot AttentionSaved,     // what the attention kernel keeps for backward (its SavedLength; empty for inference)
    Slot AttentionMerged,    // (N, C) heads merged back
    Slot Residual2,          // (N, C) residual + attention branch
    Slot Norm2,              // (N, C)
    Slot Norm2Mean,          // (N)
    Slot Norm2Rstd,          // (N)
    Slot Fc,                 // (N, 4C) c_fc output, GELU input; SwiGLU: (N, 2M) [gate | up]
    Slot FcGelu,             // (N, 4C); SwiGLU: (N, M) silu(gate)·up
    Slot Residual3,          // (N, C) block output
    Slot KeyHeads,           // (B, Hkv, T, D) grouped-query keys before repeat_kv (empty when Hkv = H: K itself)
    Slot ValueHeads,         // (B, Hkv, T, D) the same for values
    Slot QueryPreNorm,       // (B, H, T, D) q before Qwen3's q norm (empty without it)
    Slot KeyPreNorm,         // (B, Hkv, T, D) k before the k norm
    Slot QueryNormRstd,      // (B, H, T) the q norm's 1/RMS per head row
    Slot KeyNormRstd)        // (B, Hkv, T)
{
    /// <summary>Where the Hkv key heads live: their own slot with grouped-query attention, else K.</summary>
    public Slot Keys => KeyHeads.Length > 0 ? KeyHeads : K;
    /// <summary>Where the Hkv value heads live.</summary>
    public Slot Values => ValueHeads.Length > 0 ? ValueHeads : V;
}

/// <summary>
/// The cross-attention sub-layer's activations of one decoder block of an encoder-decoder (<see cref="Seq2SeqModel"/>).
/// N = B·Tt decoder rows, M = B·Ts memory rows. The block's self-attention writes <see cref="AfterSelf"/>; the
/// cross-attention adds its branch into the block's Residual2, which ln_2 (state-dict ln_3) and the MLP then read.
/// </summary>
public sealed record CrossBlockActivations(
    Slot AfterSelf,          // (N, C) residual + self-attention branch
    Slot Norm,               // (N, C) the norm before cross-attention
    Slot NormMean,           // (N)
    Slot NormRstd,           // (N)
    Slot Q,                  // (N, C) = (B, Tt, H, D) query projection
    Slot Kv,                 // (M, 2C) fused key | value projection of the memory
    Slot QHeads,             // (B, H, Tt, D)
    Slot KHeads, Slot VHeads,// (B, H, Ts, D) each
    Slot AttentionOutput,    // (B, H, Tt, D)
    Slot AttentionSaved,     // the kernel's saved state for (Tq, Tk) = (Tt, Ts); empty for inference
    Slot AttentionMerged);   // (N, C)

/// <summary>
/// Where every activation of one (B, T) lives in one arena of floats, as llm.c's <c>acts_memory</c>: the slots of
/// each block, the final norm, the logits and losses, and for training the kernel's saved attention state and the
/// backward scratch (one set shared by all blocks: the backward pass visits them one at a time). One layout for the
/// CPU model (<see cref="DecoderActivations"/>, which holds the floats) and the GPU's, which keeps them on the device.
/// </summary>
public class ActivationLayout
{
    /// <param name="savedPerBlock">floats the attention kernel saves per block for backward (0 for inference)</param>
    /// <param name="training">false: no backward scratch</param>
    /// <param name="memoryLength">Ts: &gt; 0 gives every block a cross-attention part over a (B, Ts, C) memory (the
    /// decoder of an encoder-decoder); its slots come after all of GPT-2's, whose arena is unchanged</param>
    /// <param name="crossSavedPerBlock">floats the kernel saves per block for the cross-attention's backward</param>
    public ActivationLayout(DecoderConfig config, int batch, int length, long savedPerBlock, bool training,
        int memoryLength = 0, long crossSavedPerBlock = 0)
    {
        ArgumentNullException.ThrowIfNull(config);
        Batch = batch; Length = length; SavedPerBlock = savedPerBlock; IsTraining = training;
        int n = batch * length, c = config.Channels;
        long a = (long)n * config.AttentionChannels, qkv = (long)n * config.QkvChannels, hidden = (long)n * config.IntermediateSize;
        long kv = (long)n * config.KeyValueHeads * config.HeadDim;
        bool swiGlu = config.Activation == MlpActivation.SwiGlu, grouped = config.KeyValueHeads < config.Heads, qkNorm = config.QkNorm;
        long fc = swiGlu ? 2 * hidden : hidden;
        long offset = 0;
        Slot Take(long count)
        {
            var s = new Slot(offset, count);
            offset += count;
            return s;
        }
        Encoded = Take((long)n * c);
        var blocks = new DecoderBlockActivations[config.Layers];
        for (int l = 0; l < blocks.Length; l++)
            blocks[l] = new DecoderBlockActivations(
                Take((long)n * c), Take(n), Take(n), Take(qkv), Take(a), Take(a), Take(a),
                Take(a), Take(savedPerBlock), Take(a), Take((long)n * c),
                Take((long)n * c), Take(n), Take(n), Take(fc), Take(hidden), Take((long)n * c),
                Take(grouped ? kv : 0), Take(grouped ? kv : 0), Take(qkNorm ? a : 0), Take(qkNorm ? kv : 0),
                Take(qkNorm ? (long)n * config.Heads : 0), Take(qkNorm ? (long)n * config.KeyValueHeads : 0));
        Blocks = blocks;
        FinalNorm = Take((long)n * c); FinalNormMean = Take(n); FinalNormRstd = Take(n);
        Logits = Take((long)n * config.VocabSize);
        Losses = Take(n); LogSumExp = Take(n);
        Workers = Math.Max(1, Environment.ProcessorCount);
        if (training)
        {
            DResidual = Take((long)n * c); DNorm = Take((long)n * c); DQkv = Take(qkv);
            DQ = Take(a); DK = Take(a); DV = Take(a);
            DAttention = Take(a); DMerged = Take(a); DFc = Take(fc);
            NormPartials = Take(2L * c * Workers);
            DKeyHeads = Take(grouped ? kv : 0); DValueHeads = Take(grouped ? kv : 0); DHidden = Take(swiGlu ? hidden : 0);
        }
        MemoryLength = memoryLength;
        if (memoryLength > 0)
        {
            long m = (long)batch * memoryLength;
            Memory = Take(m * c);
            var cross = new CrossBlockActivations[config.Layers];
            for (int l = 0; l < cross.Length; l++)
                cross[l] = new CrossBlockActivations(Take((long)n * c), Take((long)n * c), Take(n), Take(n), Take((long)n * c),
                    Take(2 * m * c), Take((long)n * c), Take(m * c), Take(m * c), Take((long)n * c), Take(crossSavedPerBlock), Take((long)n * c));
            CrossBlocks = cross;
            if (training)
            {
                DMemory = Take(m * c); DCrossKv = Take(2 * m * c); DCrossK = Take(m * c); DCrossV = Take(m * c);
            }
        }
        Count = offset;
    }

    public int Batch { get; }
    public int Length { get; }
    public long SavedPerBlock { get; }
    public bool IsTraining { get; }

    /// <summary>Floats in the arena.</summary>
    public long Count { get; }

    public Slot Encoded { get; }
    public IReadOnlyList<DecoderBlockActivations> Blocks { get; }
    public Slot FinalNorm { get; }
    public Slot FinalNormMean { get; }
    public Slot FinalNormRstd { get; }
    public Slot Logits { get; }
    public Slot Losses { get; }
    public Slot LogSumExp { get; }

    public Slot DResidual { get; }
    public Slot DNorm { get; }
    public Slot DQkv { get; }
    public Slot DQ { get; }
    public Slot DK { get; }
    public Slot DV { get; }
    public Slot DAttention { get; }
    public Slot DMerged { get; }
    public Slot DFc { get; }
    /// <summary>(B, Hkv, T, D) each: the group sums of dk and dv (grouped-query attention only).</summary>
    public Slot DKeyHeads { get; }
    public Slot DValueHeads { get; }
    /// <summary>(N, M) dLoss/d(silu(gate)·up) (SwiGLU only; GELU's dFc is computed in place).</summary>
    public Slot DHidden { get; }

    /// <summary>Ts of the memory the cross-attention reads; 0 without cross-attention.</summary>
    public int MemoryLength { get; }
    /// <summary>(B, Ts, C) the encoder's output, copied in before the decoder runs.</summary>
    public Slot Memory { get; }
    /// <summary>Each block's cross-attention part; null without cross-attention.</summary>
    public IReadOnlyList<CrossBlockActivations>? CrossBlocks { get; }
    /// <summary>(B, Ts, C) dLoss/dMemory summed over the decoder blocks.</summary>
    public Slot DMemory { get; }
    /// <summary>(B·Ts, 2C) backward scratch of the fused key/value projection.</summary>
    public Slot DCrossKv { get; }
    /// <summary>(B, H, Ts, D) each: the kernel's dk, dv of the cross-attention.</summary>
    public Slot DCrossK { get; }
    public Slot DCrossV { get; }

    /// <summary>Cores the row-parallel ops split over.</summary>
    public int Workers { get; }

    /// <summary>(workers, 2, C): per-core partial dWeight and dBias of a LayerNorm backward, summed after the join.</summary>
    public Slot NormPartials { get; }
}
