using System.Diagnostics;
using AttentionLab.Attention;
using AttentionLab.Kernels;
using AttentionLab.Ops;

namespace AttentionLab.Models;

/// <summary>
/// GPT-2 (Radford et al. 2019) with hand-written forward and backward passes, as llm.c's train_gpt2.c:
/// <code>
/// x = wte[tokens] + wpe[0..T)                           (B, T, C)
/// for each block:
///     x = x + c_proj(attention(c_attn(ln_1(x))))        causal, H heads of D = C/H
///     x = x + mlp.c_proj(gelu(mlp.c_fc(ln_2(x))))       4C hidden
/// logits = ln_f(x) · wteᵀ                               (B, T, V), the head tied to the embedding
/// loss = cross_entropy(logits, targets)                 mean over B·T
/// </code>
/// Parameters and gradients are two arenas with Hugging Face names (<see cref="Gpt2Parameters"/>); activations are
/// one arena per (B, T), allocated on the first forward of that size and reused after. Attention goes through an
/// <see cref="IAttentionKernel"/>. Not thread-safe: one forward/backward at a time.
/// </summary>
public sealed partial class Gpt2Model
{
    private Gpt2Activations? _acts;
    private bool _hasTargets;
    private bool _logitsConsumed;

    /// <param name="config">sizes</param>
    /// <param name="attention">the attention kernel for every block (e.g. <c>AttentionKernels.Get("reference")</c>);
    /// null means <see cref="AttentionKernels.Default"/></param>
    public Gpt2Model(Gpt2Config config, IAttentionKernel? attention = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        Attention = attention ?? AttentionKernels.Default;
        Layout = new Gpt2Layout(config);
        Parameters = new Gpt2Parameters(Layout);
        Gradients = new Gpt2Parameters(Layout);
        SetNormsToIdentity();
    }

    public Gpt2Config Config { get; }

    /// <summary>Where each named parameter lives; shared by <see cref="Parameters"/> and <see cref="Gradients"/>.</summary>
    public Gpt2Layout Layout { get; }

    /// <summary>The weights (Hugging Face names and layout: Conv1D matrices are (in, out)).</summary>
    public Gpt2Parameters Parameters { get; }

    /// <summary>dLoss/dParameters, same layout; <see cref="Backward"/> adds to them, <see cref="ZeroGrad"/> clears them.</summary>
    public Gpt2Parameters Gradients { get; }

    /// <summary>The attention kernel every block calls. Settable to compare kernels on one model.</summary>
    public IAttentionKernel Attention { get; set; }

    /// <summary>Row-wise ops with less work than this (elements) stay on one core. Tests set 0 on their own model to
    /// run every split path at tiny sizes; results agree to rounding either way.</summary>
    internal long ParallelMinimumWork { get; set; } = ParallelRows.DefaultMinimumWork;

    /// <summary>Optional per-phase timer (profiling); null means no clock is read.</summary>
    public Gpt2PhaseTimes? Timer { get; set; }

    public long ParameterCount => Layout.Count;

    /// <summary>Batch size of the last forward.</summary>
    public int Batch => _acts?.Batch ?? 0;

    /// <summary>Sequence length of the last forward.</summary>
    public int Length => _acts?.Length ?? 0;

    /// <summary>
    /// GPT-2/nanoGPT initialization from a seed: every matrix and both embeddings N(0, 0.02); the two residual
    /// projections per block (attn.c_proj, mlp.c_proj) N(0, 0.02/√(2L)) so the residual stream's variance does not
    /// grow with depth; biases 0; LayerNorm weights 1.
    /// </summary>
    public void InitializeWeights(int seed)
    {
        var p = Parameters;
        p.Clear();
        var random = new Random(seed);
        float residualStd = 0.02f / MathF.Sqrt(2 * Config.Layers);
        FillNormal(random, p[Layout.TokenEmbedding], 0.02f);
        FillNormal(random, p[Layout.PositionEmbedding], 0.02f);
        foreach (var b in Layout.Blocks)
        {
            FillNormal(random, p[b.AttentionWeight], 0.02f);
            FillNormal(random, p[b.AttentionProjectionWeight], residualStd);
            FillNormal(random, p[b.MlpWeight], 0.02f);
            FillNormal(random, p[b.MlpProjectionWeight], residualStd);
        }
        SetNormsToIdentity();
    }

    /// <summary>Sets every gradient to zero (call before each <see cref="Backward"/> unless accumulating).</summary>
    public void ZeroGrad()
    {
        long start = Stopwatch.GetTimestamp();
        var g = Gradients.Data;
        const int block = 1 << 16;
        int blocks = (int)(((long)g.Length + block - 1) / block); // the last block may be partial
        ParallelRows.For(Math.Max(1, blocks), g.Length, ParallelMinimumWork, (s, n) =>
        {
            long from = (long)s * block, to = Math.Min(g.Length, (long)(s + n) * block);
            Array.Clear(g, (int)from, (int)(to - from));
        });
        Timer?.Add(Gpt2Phase.ZeroGrad, Stopwatch.GetTimestamp() - start);
    }

    /// <summary>
    /// Runs the model on <paramref name="tokens"/> (B, T). With targets (B, T) also computes the per-position losses
    /// and returns their mean; without, returns NaN. Afterwards <see cref="Logits"/>, <see cref="Losses"/> and
    /// <see cref="AttentionWeights"/> hold this forward's values.
    /// </summary>
    /// <param name="tokens">(B, T) token ids in [0, V)</param>
    /// <param name="batch">B</param>
    /// <param name="length">T, at most the context length</param>
    /// <param name="targets">(B, T) next-token ids, or empty</param>
    public float Forward(ReadOnlySpan<int> tokens, int batch, int length, ReadOnlySpan<int> targets = default)
    {
        var cfg = Config;
        if (batch <= 0 || length <= 0) throw new ArgumentOutOfRangeException(nameof(batch), $"batch and length must be positive, got {batch} and {length}");
        if (length > cfg.ContextLength) throw new ArgumentOutOfRangeException(nameof(length), $"length {length} exceeds the context length {cfg.ContextLength}");
        int n = batch * length;
        if (tokens.Length != n) throw new ArgumentException($"tokens has {tokens.Length} elements, (B, T) = ({batch}, {length}) needs {n}");
        if (!targets.IsEmpty && targets.Length != n) throw new ArgumentException($"targets has {targets.Length} elements, needs {n}");
        foreach (int t in tokens) if ((uint)t >= (uint)cfg.VocabSize) throw new ArgumentOutOfRangeException(nameof(tokens), $"token {t} is outside [0, {cfg.VocabSize})");
        foreach (int t in targets) if ((uint)t >= (uint)cfg.VocabSize) throw new ArgumentOutOfRangeException(nameof(targets), $"target {t} is outside [0, {cfg.VocabSize})");

        if (_acts is null || _acts.Batch != batch || _acts.Length != length)
            _acts = new Gpt2Activations(cfg, batch, length, _acts?.Data);
        var a = _acts;
        tokens.CopyTo(a.Tokens);
        _hasTargets = !targets.IsEmpty;
        if (_hasTargets) targets.CopyTo(a.Targets);
        _logitsConsumed = false;

        var p = Parameters;
        int c = cfg.Channels, v = cfg.VocabSize, h = cfg.Heads, d = cfg.HeadDim;
        var timer = Timer;
        long t0 = timer is null ? 0 : Stopwatch.GetTimestamp();

        // token + position embedding
        var encoded = a[a.Encoded];
        Embedding.Forward(p[Layout.TokenEmbedding], a.Tokens, c, encoded);
        var wpe = p[Layout.PositionEmbedding].Slice(0, length * c);
        for (int b = 0; b < batch; b++)
        {
            var row = encoded.Slice(b * length * c, length * c);
            System.Numerics.Tensors.TensorPrimitives.Add(row, wpe, row);
        }
        if (timer is not null) t0 = timer.Lap(Gpt2Phase.Embedding, t0);

        var shape = new AttentionShape(batch, h, length, length, d);
        var options = CausalOptions;
        Slot residual = a.Encoded;
        for (int l = 0; l < cfg.Layers; l++)
        {
            var w = Layout.Blocks[l];
            var s = a.Blocks[l];
            NormForward(a, residual, p[w.Norm1Weight], p[w.Norm1Bias], s.Norm1, s.Norm1Mean, s.Norm1Rstd, n);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.LayerNorm, t0);

            // qkv = ln_1 · W_attn + b_attn: the bias pre-fills the output and the GEMM accumulates onto it
            Bias.Fill(p[w.AttentionBias], a[s.Qkv]);
            Gemm.Multiply(a[s.Norm1], p[w.AttentionWeight], a[s.Qkv], n, 3 * c, c, accumulate: true);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.Matmul, t0);

            SplitHeads(a[s.Qkv], batch, length, h, d, a[s.Q], a[s.K], a[s.V]);
            Attention.Forward(a[s.Q], a[s.K], a[s.V], shape, options, a[s.AttentionOutput], a[s.AttentionWeights]);
            MergeHeads(a[s.AttentionOutput], batch, length, h, d, a[s.AttentionMerged]);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.Attention, t0);

            // residual2 = residual + b_proj + merged · W_proj
            Bias.AddTo(a[residual], p[w.AttentionProjectionBias], a[s.Residual2]);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.Residual, t0);
            Gemm.Multiply(a[s.AttentionMerged], p[w.AttentionProjectionWeight], a[s.Residual2], n, c, c, accumulate: true);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.Matmul, t0);

            NormForward(a, s.Residual2, p[w.Norm2Weight], p[w.Norm2Bias], s.Norm2, s.Norm2Mean, s.Norm2Rstd, n);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.LayerNorm, t0);

            Bias.Fill(p[w.MlpBias], a[s.Fc]);
            Gemm.Multiply(a[s.Norm2], p[w.MlpWeight], a[s.Fc], n, 4 * c, c, accumulate: true);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.Matmul, t0);

            GeluForward(a, s.Fc, s.FcGelu, n, 4 * c);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.Gelu, t0);

            Bias.AddTo(a[s.Residual2], p[w.MlpProjectionBias], a[s.Residual3]);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.Residual, t0);
            Gemm.Multiply(a[s.FcGelu], p[w.MlpProjectionWeight], a[s.Residual3], n, c, 4 * c, accumulate: true);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.Matmul, t0);
            residual = s.Residual3;
        }

        NormForward(a, residual, p[Layout.FinalNormWeight], p[Layout.FinalNormBias], a.FinalNorm, a.FinalNormMean, a.FinalNormRstd, n);
        if (timer is not null) t0 = timer.Lap(Gpt2Phase.LayerNorm, t0);

        // logits = ln_f · wteᵀ (the output head is the token embedding, transposed)
        Gemm.Multiply(a[a.FinalNorm], p[Layout.TokenEmbedding], a[a.Logits], n, v, c, transposeB: true);
        if (timer is not null) t0 = timer.Lap(Gpt2Phase.LmHead, t0);
        if (!_hasTargets) return float.NaN;

        var data = a.Data;
        var logitsSlot = a.Logits; var lossesSlot = a.Losses; var lseSlot = a.LogSumExp;
        var targetsArray = a.Targets;
        ParallelRows.For(n, (long)n * v, ParallelMinimumWork, (start, count) =>
        {
            CrossEntropy.Forward(data.AsSpan(logitsSlot.Offset + start * v, count * v), targetsArray.AsSpan(start, count), v,
                data.AsSpan(lossesSlot.Offset + start, count), data.AsSpan(lseSlot.Offset + start, count));
        });
        double total = 0;
        foreach (float x in a[a.Losses]) total += x;
        if (timer is not null) timer.Lap(Gpt2Phase.Loss, t0);
        return (float)(total / n);
    }

    /// <summary>(B, T, V) logits of the last forward; unavailable after <see cref="Backward"/> (reused for dLogits).</summary>
    public ReadOnlySpan<float> Logits
    {
        get
        {
            var a = RequireForward();
            if (_logitsConsumed) throw new InvalidOperationException("the logits were overwritten by Backward; run Forward again");
            return a[a.Logits];
        }
    }

    /// <summary>(B, T) per-position cross-entropy of the last forward with targets.</summary>
    public ReadOnlySpan<float> Losses
    {
        get
        {
            var a = RequireForward();
            if (!_hasTargets) throw new InvalidOperationException("the last Forward had no targets");
            return a[a.Losses];
        }
    }

    /// <summary>(B, H, T, T) attention probabilities of block <paramref name="layer"/> from the last forward.</summary>
    public ReadOnlySpan<float> AttentionWeights(int layer)
    {
        var a = RequireForward();
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layer, Config.Layers);
        return a[a.Blocks[layer].AttentionWeights];
    }

    /// <summary>(B, T, C) output of block <paramref name="layer"/> (the residual stream after it) from the last forward.</summary>
    public ReadOnlySpan<float> BlockOutput(int layer)
    {
        var a = RequireForward();
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layer, Config.Layers);
        return a[a.Blocks[layer].Residual3];
    }

    private Gpt2Activations RequireForward() =>
        _acts ?? throw new InvalidOperationException("run Forward first");

    private static readonly AttentionOptions CausalOptions = new() { IsCausal = true };

    private void SetNormsToIdentity()
    {
        var p = Parameters;
        foreach (var b in Layout.Blocks)
        {
            p[b.Norm1Weight].Fill(1f);
            p[b.Norm2Weight].Fill(1f);
        }
        p[Layout.FinalNormWeight].Fill(1f);
    }

    /// <summary>Box–Muller normal samples, deterministic for a seed.</summary>
    private static void FillNormal(Random random, Span<float> values, float std)
    {
        for (int i = 0; i < values.Length; i += 2)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            double r = Math.Sqrt(-2.0 * Math.Log(u1)) * std;
            values[i] = (float)(r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < values.Length) values[i + 1] = (float)(r * Math.Sin(2 * Math.PI * u2));
        }
    }
}
