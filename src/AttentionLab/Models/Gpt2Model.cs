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
public sealed class Gpt2Model
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
        ParallelRows.For(Math.Max(1, g.Length >> 16), g.Length, (s, n) =>
        {
            int from = s << 16, to = Math.Min(g.Length, (s + n) << 16);
            Array.Clear(g, from, to - from);
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
        ParallelRows.For(n, (long)n * v, (start, count) =>
        {
            CrossEntropy.Forward(data.AsSpan(logitsSlot.Offset + start * v, count * v), targetsArray.AsSpan(start, count), v,
                data.AsSpan(lossesSlot.Offset + start, count), data.AsSpan(lseSlot.Offset + start, count));
        });
        double total = 0;
        foreach (float x in a[a.Losses]) total += x;
        if (timer is not null) timer.Lap(Gpt2Phase.Loss, t0);
        return (float)(total / n);
    }

    /// <summary>
    /// Back-propagates the mean loss of the last <see cref="Forward"/> (which must have had targets) and ADDS the
    /// gradients to <see cref="Gradients"/> (PyTorch semantics: call <see cref="ZeroGrad"/> first unless accumulating).
    /// The logits buffer is reused for dLogits, so <see cref="Logits"/> is unavailable afterwards.
    /// </summary>
    public void Backward()
    {
        if (_acts is null || !_hasTargets) throw new InvalidOperationException("Backward needs a Forward with targets first");
        if (_logitsConsumed) throw new InvalidOperationException("Backward was already called for this Forward");
        var a = _acts;
        var cfg = Config;
        var p = Parameters; var g = Gradients;
        int batch = a.Batch, length = a.Length, n = batch * length;
        int c = cfg.Channels, v = cfg.VocabSize, h = cfg.Heads, d = cfg.HeadDim;
        var timer = Timer;
        long t0 = timer is null ? 0 : Stopwatch.GetTimestamp();

        // dlogits = (softmax − onehot)/N, in place over the logits
        var data = a.Data;
        var logitsSlot = a.Logits; var lseSlot = a.LogSumExp; var targetsArray = a.Targets;
        float dLoss = 1f / n;
        ParallelRows.For(n, (long)n * v, (start, count) =>
        {
            var rows = data.AsSpan(logitsSlot.Offset + start * v, count * v);
            CrossEntropy.Backward(rows, data.AsSpan(lseSlot.Offset + start, count), targetsArray.AsSpan(start, count), v, dLoss, rows);
        });
        _logitsConsumed = true;
        var dLogits = a[a.Logits];
        // dln_f = dlogits · wte; dwte += dlogitsᵀ · ln_f
        Gemm.Multiply(dLogits, p[Layout.TokenEmbedding], a[a.DNorm], n, c, v);
        Gemm.Multiply(dLogits, a[a.FinalNorm], g[Layout.TokenEmbedding], v, c, n, transposeA: true, accumulate: true);
        if (timer is not null) t0 = timer.Lap(Gpt2Phase.BackwardLossAndLmHead, t0);

        var dResidual = a[a.DResidual];
        dResidual.Clear();
        var lastResidual = cfg.Layers > 0 ? a.Blocks[^1].Residual3 : a.Encoded;
        NormBackward(a, a.DNorm, lastResidual, Layout.FinalNormWeight, Layout.FinalNormBias, a.FinalNormMean, a.FinalNormRstd, n, a.DResidual);
        if (timer is not null) t0 = timer.Lap(Gpt2Phase.BackwardLayerNorm, t0);

        var shape = new AttentionShape(batch, h, length, length, d);
        var options = CausalOptions;
        for (int l = cfg.Layers - 1; l >= 0; l--)
        {
            var w = Layout.Blocks[l];
            var s = a.Blocks[l];
            var residualIn = l == 0 ? a.Encoded : a.Blocks[l - 1].Residual3;
            // dResidual holds dLoss/dResidual3 (the block's output); every branch adds its input gradient to it.

            // MLP: residual3 = residual2 + gelu(ln_2 · W_fc + b_fc) · W_fcproj + b_fcproj
            var dFc = a[a.DFc];
            Bias.Backward(dResidual, g[w.MlpProjectionBias]);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.BackwardOther, t0);
            Gemm.Multiply(dResidual, p[w.MlpProjectionWeight], dFc, n, 4 * c, c, transposeB: true);
            Gemm.Multiply(a[s.FcGelu], dResidual, g[w.MlpProjectionWeight], 4 * c, c, n, transposeA: true, accumulate: true);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.BackwardMatmul, t0);
            GeluBackward(a, s.Fc, a.DFc, n, 4 * c);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.BackwardGelu, t0);
            Bias.Backward(dFc, g[w.MlpBias]);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.BackwardOther, t0);
            var dNorm = a[a.DNorm];
            Gemm.Multiply(dFc, p[w.MlpWeight], dNorm, n, c, 4 * c, transposeB: true);
            Gemm.Multiply(a[s.Norm2], dFc, g[w.MlpWeight], c, 4 * c, n, transposeA: true, accumulate: true);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.BackwardMatmul, t0);
            NormBackward(a, a.DNorm, s.Residual2, w.Norm2Weight, w.Norm2Bias, s.Norm2Mean, s.Norm2Rstd, n, a.DResidual);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.BackwardLayerNorm, t0);

            // attention: residual2 = residual + merge(attention(split(ln_1 · W_attn + b_attn))) · W_proj + b_proj
            Bias.Backward(dResidual, g[w.AttentionProjectionBias]);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.BackwardOther, t0);
            Gemm.Multiply(dResidual, p[w.AttentionProjectionWeight], a[a.DMerged], n, c, c, transposeB: true);
            Gemm.Multiply(a[s.AttentionMerged], dResidual, g[w.AttentionProjectionWeight], c, c, n, transposeA: true, accumulate: true);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.BackwardMatmul, t0);
            SplitHeads(a[a.DMerged], batch, length, h, d, a[a.DAttention]);
            Attention.Backward(a[s.Q], a[s.K], a[s.V], a[s.AttentionWeights], a[a.DAttention], shape, options,
                a[a.DQ], a[a.DK], a[a.DV]);
            MergeHeads(a[a.DQ], a[a.DK], a[a.DV], batch, length, h, d, a[a.DQkv]);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.BackwardAttention, t0);
            Bias.Backward(a[a.DQkv], g[w.AttentionBias]);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.BackwardOther, t0);
            Gemm.Multiply(a[a.DQkv], p[w.AttentionWeight], dNorm, n, c, 3 * c, transposeB: true);
            Gemm.Multiply(a[s.Norm1], a[a.DQkv], g[w.AttentionWeight], c, 3 * c, n, transposeA: true, accumulate: true);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.BackwardMatmul, t0);
            NormBackward(a, a.DNorm, residualIn, w.Norm1Weight, w.Norm1Bias, s.Norm1Mean, s.Norm1Rstd, n, a.DResidual);
            if (timer is not null) t0 = timer.Lap(Gpt2Phase.BackwardLayerNorm, t0);
        }

        // embeddings: dwte[token] += dx (scatter-add), dwpe[t] += Σ_b dx[b, t]
        Embedding.Backward(dResidual, a.Tokens, c, g[Layout.TokenEmbedding]);
        var dwpe = g[Layout.PositionEmbedding].Slice(0, length * c);
        for (int b = 0; b < batch; b++)
            System.Numerics.Tensors.TensorPrimitives.Add(dwpe, dResidual.Slice(b * length * c, length * c), dwpe);
        if (timer is not null) timer.Lap(Gpt2Phase.BackwardOther, t0);
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

    /// <summary>LayerNorm forward, rows split over the cores.</summary>
    private void NormForward(Gpt2Activations a, Slot input, Span<float> weight, Span<float> bias, Slot output, Slot mean, Slot rstd, int n)
    {
        int c = Config.Channels;
        float eps = Config.LayerNormEpsilon;
        var data = a.Data;
        var p = Parameters.Data;
        // weight and bias are views of the parameter arena: pass offsets so the lambda can slice it
        int wOffset = OffsetIn(p, weight), bOffset = OffsetIn(p, bias);
        ParallelRows.For(n, (long)n * c, (start, count) =>
            LayerNorm.Forward(data.AsSpan(input.Offset + start * c, count * c), p.AsSpan(wOffset, c), p.AsSpan(bOffset, c), count, c, eps,
                data.AsSpan(output.Offset + start * c, count * c), data.AsSpan(mean.Offset + start, count), data.AsSpan(rstd.Offset + start, count)));
    }

    /// <summary>
    /// LayerNorm backward, rows split over the cores: dInput rows are disjoint, but every row adds to dWeight and
    /// dBias, so each extra core sums into its own partial (one C-vector pair) and the partials are added after.
    /// </summary>
    private void NormBackward(Gpt2Activations a, Slot dOutput, Slot input, ParameterView weight, ParameterView bias,
        Slot mean, Slot rstd, int n, Slot dInput)
    {
        int c = Config.Channels;
        var data = a.Data;
        var p = Parameters.Data;
        var g = Gradients.Data;
        int workers = Math.Min(a.Workers, n);
        if (workers <= 1 || (long)n * c < ParallelRows.MinimumWork)
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

    /// <summary>Where a span over <paramref name="arena"/> starts in it.</summary>
    private static int OffsetIn(float[] arena, ReadOnlySpan<float> view) =>
        (int)(System.Runtime.CompilerServices.Unsafe.ByteOffset(ref arena[0], ref System.Runtime.InteropServices.MemoryMarshal.GetReference(view)) / sizeof(float));

    private static void GeluForward(Gpt2Activations a, Slot input, Slot output, int rows, int width)
    {
        var data = a.Data;
        ParallelRows.For(rows, (long)rows * width * 4, (start, count) =>
            Gelu.Forward(data.AsSpan(input.Offset + start * width, count * width), data.AsSpan(output.Offset + start * width, count * width)));
    }

    /// <summary>dFc ← gelu′(fc) · dFc, in place.</summary>
    private static void GeluBackward(Gpt2Activations a, Slot input, Slot dFc, int rows, int width)
    {
        var data = a.Data;
        ParallelRows.For(rows, (long)rows * width * 4, (start, count) =>
        {
            var d = data.AsSpan(dFc.Offset + start * width, count * width);
            Gelu.Backward(data.AsSpan(input.Offset + start * width, count * width), d, d);
        });
    }

    /// <summary>(B, T, 3C) → q, k, v (B, H, T, D): column block 0/1/2 of qkv, head h at columns h·D..(h+1)·D.</summary>
    private static void SplitHeads(ReadOnlySpan<float> qkv, int batch, int length, int heads, int d, Span<float> q, Span<float> k, Span<float> v)
    {
        int c = heads * d;
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < length; t++)
            {
                var row = qkv.Slice((b * length + t) * 3 * c, 3 * c);
                for (int hh = 0; hh < heads; hh++)
                {
                    int dst = ((b * heads + hh) * length + t) * d;
                    row.Slice(hh * d, d).CopyTo(q.Slice(dst, d));
                    row.Slice(c + hh * d, d).CopyTo(k.Slice(dst, d));
                    row.Slice(2 * c + hh * d, d).CopyTo(v.Slice(dst, d));
                }
            }
    }

    /// <summary>(B, T, C) → (B, H, T, D).</summary>
    private static void SplitHeads(ReadOnlySpan<float> x, int batch, int length, int heads, int d, Span<float> output)
    {
        int c = heads * d;
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < length; t++)
                for (int hh = 0; hh < heads; hh++)
                    x.Slice((b * length + t) * c + hh * d, d).CopyTo(output.Slice(((b * heads + hh) * length + t) * d, d));
    }

    /// <summary>(B, H, T, D) → (B, T, C).</summary>
    private static void MergeHeads(ReadOnlySpan<float> x, int batch, int length, int heads, int d, Span<float> output)
    {
        int c = heads * d;
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < length; t++)
                for (int hh = 0; hh < heads; hh++)
                    x.Slice(((b * heads + hh) * length + t) * d, d).CopyTo(output.Slice((b * length + t) * c + hh * d, d));
    }

    /// <summary>dq, dk, dv (B, H, T, D) → dqkv (B, T, 3C), the inverse of the three-way split.</summary>
    private static void MergeHeads(ReadOnlySpan<float> dq, ReadOnlySpan<float> dk, ReadOnlySpan<float> dv, int batch, int length, int heads, int d, Span<float> dqkv)
    {
        int c = heads * d;
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < length; t++)
            {
                var row = dqkv.Slice((b * length + t) * 3 * c, 3 * c);
                for (int hh = 0; hh < heads; hh++)
                {
                    int src = ((b * heads + hh) * length + t) * d;
                    dq.Slice(src, d).CopyTo(row.Slice(hh * d, d));
                    dk.Slice(src, d).CopyTo(row.Slice(c + hh * d, d));
                    dv.Slice(src, d).CopyTo(row.Slice(2 * c + hh * d, d));
                }
            }
    }

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
