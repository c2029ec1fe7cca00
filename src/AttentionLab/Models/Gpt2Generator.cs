using System.Numerics;
using System.Runtime.InteropServices;

namespace AttentionLab.Models;

/// <summary>
/// Text generation for GPT-2 with a KV cache (inference only). It reads the model's weights by their
/// Hugging Face names (Conv1D layout: a linear layer's weight is (in, out), y = x·W + b) and runs the
/// forward pass one token at a time:
/// <code>
///   x = wte[token] + wpe[position]                               (C)
///   per layer: x += c_proj(attention(c_attn(ln_1(x)), cache))    q, k, v each (H, D); k, v appended to the cache
///              x += mlp.c_proj(gelu(mlp.c_fc(ln_2(x))))          (4C) inside
///   logits = wte · ln_f(x)                                       (V); lm_head is tied to wte
/// </code>
/// Exactness: every linear layer, dot product and softmax here computes each output element with the
/// same operations in the same order whether it processes one row (a cached step) or a whole window
/// (a recompute), and fused multiply-adds round the same in vector lanes and scalar tails, so the
/// cached decoder and <c>useKvCache: false</c> produce bit-identical logits, hence identical tokens.
/// </summary>
public sealed class Gpt2Generator
{
    /// <summary>The sizes the decoder needs.</summary>
    /// <param name="Layers">Transformer blocks (n_layer).</param>
    /// <param name="Heads">Attention heads per block (n_head); C must divide by it.</param>
    /// <param name="Channels">C, the residual width (n_embd).</param>
    /// <param name="Context">Tmax, the number of positions (n_positions).</param>
    /// <param name="VocabSize">V, rows of wte.</param>
    /// <param name="LayerNormEpsilon">Added to the variance (layer_norm_epsilon).</param>
    public sealed record Dimensions(int Layers, int Heads, int Channels, int Context, int VocabSize, float LayerNormEpsilon = 1e-5f)
    {
        public int HeadSize => Channels / Heads;
    }

    private sealed record Block(
        ReadOnlyMemory<float> Ln1Weight, ReadOnlyMemory<float> Ln1Bias,
        ReadOnlyMemory<float> AttnWeight, ReadOnlyMemory<float> AttnBias,       // (C, 3C), (3C)
        ReadOnlyMemory<float> AttnProjWeight, ReadOnlyMemory<float> AttnProjBias, // (C, C), (C)
        ReadOnlyMemory<float> Ln2Weight, ReadOnlyMemory<float> Ln2Bias,
        ReadOnlyMemory<float> FcWeight, ReadOnlyMemory<float> FcBias,           // (C, 4C), (4C)
        ReadOnlyMemory<float> FcProjWeight, ReadOnlyMemory<float> FcProjBias);  // (4C, C), (C)

    private readonly Block[] _blocks;
    private readonly ReadOnlyMemory<float> _wte, _wpe, _lnfWeight, _lnfBias;

    public Dimensions Size { get; }

    /// <param name="size">The model's sizes.</param>
    /// <param name="parameter">Looks a parameter up by its Hugging Face name
    /// (<c>transformer.h.0.attn.c_attn.weight</c>, …); the memory is read, never written, and not copied.</param>
    public Gpt2Generator(Dimensions size, Func<string, ReadOnlyMemory<float>> parameter)
    {
        ArgumentNullException.ThrowIfNull(size);
        ArgumentNullException.ThrowIfNull(parameter);
        if (size.Layers < 1 || size.Heads < 1 || size.Channels < 1 || size.Context < 1 || size.VocabSize < 1 || size.Channels % size.Heads != 0)
            throw new ArgumentException($"invalid GPT-2 sizes {size}");
        Size = size;
        int C = size.Channels;
        ReadOnlyMemory<float> Get(string name, long length)
        {
            var m = parameter(name);
            if (m.Length != length) throw new ArgumentException($"parameter {name} has {m.Length} values, expected {length}");
            return m;
        }
        _wte = Get("transformer.wte.weight", (long)size.VocabSize * C);
        _wpe = Get("transformer.wpe.weight", (long)size.Context * C);
        _lnfWeight = Get("transformer.ln_f.weight", C);
        _lnfBias = Get("transformer.ln_f.bias", C);
        _blocks = new Block[size.Layers];
        for (int l = 0; l < size.Layers; l++)
        {
            string p = $"transformer.h.{l}.";
            _blocks[l] = new Block(
                Get(p + "ln_1.weight", C), Get(p + "ln_1.bias", C),
                Get(p + "attn.c_attn.weight", 3L * C * C), Get(p + "attn.c_attn.bias", 3 * C),
                Get(p + "attn.c_proj.weight", (long)C * C), Get(p + "attn.c_proj.bias", C),
                Get(p + "ln_2.weight", C), Get(p + "ln_2.bias", C),
                Get(p + "mlp.c_fc.weight", 4L * C * C), Get(p + "mlp.c_fc.bias", 4 * C),
                Get(p + "mlp.c_proj.weight", 4L * C * C), Get(p + "mlp.c_proj.bias", C));
        }
    }

    /// <summary>An empty cache sized for this model.</summary>
    public KvCache CreateCache() => new(Size.Layers, Size.Heads, Size.HeadSize, Size.Context);

    /// <summary>
    /// Generates up to <paramref name="maxNewTokens"/> tokens after <paramref name="prompt"/>, yielding each
    /// as soon as it is chosen. The model sees the most recent <see cref="Dimensions.Context"/> tokens: a
    /// longer prompt is cropped to its end, and once the sequence outgrows the context the window slides.
    /// Sliding shifts every token to a new absolute position (and its position embedding), so the cache is
    /// then recomputed for the new window; within the window each step processes only the new token.
    /// </summary>
    public IEnumerable<int> Generate(IReadOnlyList<int> prompt, int maxNewTokens, SamplingOptions sampling, bool useKvCache = true)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(sampling);
        if (prompt.Count == 0) throw new ArgumentException("the prompt needs at least one token");
        if (maxNewTokens < 0) throw new ArgumentOutOfRangeException(nameof(maxNewTokens), "must be non-negative");
        foreach (int id in prompt) CheckId(id);
        return Iterate(prompt.ToList(), maxNewTokens, new TokenSampler(sampling), useKvCache);
    }

    private IEnumerable<int> Iterate(List<int> tokens, int maxNewTokens, TokenSampler sampler, bool useKvCache)
    {
        var cache = CreateCache();
        var logits = new float[Size.VocabSize];
        int cachedWindowStart = -1;
        for (int step = 0; step < maxNewTokens; step++)
        {
            int windowStart = Math.Max(0, tokens.Count - Size.Context);
            bool incremental = useKvCache && windowStart == cachedWindowStart && cache.Length == tokens.Count - windowStart - 1;
            if (incremental)
                Process(CollectionsMarshal.AsSpan(tokens)[^1..], cache, logits, null, null);          // one new token
            else
            {
                cache.Clear();                                                                        // (re)fill the whole window
                Process(CollectionsMarshal.AsSpan(tokens)[windowStart..], cache, logits, null, null);
                cachedWindowStart = windowStart;
            }
            int next = sampler.Next(logits);
            tokens.Add(next);
            yield return next;
        }
    }

    /// <summary>
    /// One full forward pass over <paramref name="tokens"/> (at most Context of them) from position 0.
    /// </summary>
    /// <param name="tokens">(T) ids.</param>
    /// <param name="allLogits">(T, V) logits of every position, or null for none.</param>
    /// <param name="attention">(L, H, T, T) attention probabilities, or null; row i is query i, column j key j.</param>
    /// <returns>(V) logits of the last position: the prediction of the next token.</returns>
    public float[] Forward(ReadOnlySpan<int> tokens, float[]? allLogits = null, float[]? attention = null)
    {
        int T = tokens.Length, V = Size.VocabSize;
        if (T == 0 || T > Size.Context) throw new ArgumentException($"need 1 to {Size.Context} tokens, got {T}");
        foreach (int id in tokens) CheckId(id);
        if (allLogits is not null && allLogits.Length != T * V) throw new ArgumentException($"allLogits needs T·V = {T * V} floats");
        if (attention is not null && attention.Length != Size.Layers * Size.Heads * T * T) throw new ArgumentException("attention needs L·H·T·T floats");
        var logits = new float[V];
        Process(tokens, CreateCache(), logits, allLogits, attention);
        return logits;
    }

    private void CheckId(int id)
    {
        if ((uint)id >= (uint)Size.VocabSize) throw new ArgumentException($"token id {id} is outside the vocabulary [0, {Size.VocabSize})");
    }

    /// <summary>
    /// Runs the n new tokens at positions cache.Length … cache.Length + n − 1, appending their keys and
    /// values to the cache, and writes the last position's logits (and optionally every row's).
    /// </summary>
    private void Process(ReadOnlySpan<int> tokens, KvCache cache, Span<float> lastLogits, float[]? allLogits, float[]? attention)
    {
        int n = tokens.Length, start = cache.Length, C = Size.Channels, H = Size.Heads, D = Size.HeadSize;
        if (start + n > Size.Context) throw new InvalidOperationException("the cache is full; the window must be recomputed");
        var x = new float[n * C];        // (n, C) the residual stream
        var h = new float[n * C];        // (n, C) layer-norm output
        var qkv = new float[n * 3 * C];  // (n, 3C)
        var y = new float[n * C];        // (n, C) attention output, heads side by side
        var fc = new float[n * 4 * C];   // (n, 4C)
        var scores = new float[Size.Context];
        var wte = _wte.Span; var wpe = _wpe.Span;
        for (int r = 0; r < n; r++)
        {
            var row = x.AsSpan(r * C, C);
            wte.Slice(tokens[r] * C, C).CopyTo(row);
            var pos = wpe.Slice((start + r) * C, C);
            for (int c = 0; c < C; c++) row[c] += pos[c];
        }
        float scale = 1f / MathF.Sqrt(D);
        for (int l = 0; l < _blocks.Length; l++)
        {
            var b = _blocks[l];
            LayerNorm(x, b.Ln1Weight.Span, b.Ln1Bias.Span, h, n, C);
            Linear(h, b.AttnWeight, b.AttnBias, qkv, n, C, 3 * C);              // (n, 3C): q | k | v
            for (int r = 0; r < n; r++)
                for (int hd = 0; hd < H; hd++)
                {
                    qkv.AsSpan(r * 3 * C + C + hd * D, D).CopyTo(cache.Key(l, hd, start + r));
                    qkv.AsSpan(r * 3 * C + 2 * C + hd * D, D).CopyTo(cache.Value(l, hd, start + r));
                }
            for (int r = 0; r < n; r++)
            {
                int p = start + r;                                                // attends to keys 0..p (causal)
                for (int hd = 0; hd < H; hd++)
                {
                    var q = qkv.AsSpan(r * 3 * C + hd * D, D);
                    float max = float.NegativeInfinity;
                    for (int j = 0; j <= p; j++) { scores[j] = Dot(q, cache.Key(l, hd, j)) * scale; max = MathF.Max(max, scores[j]); }
                    float sum = 0;
                    for (int j = 0; j <= p; j++) { scores[j] = MathF.Exp(scores[j] - max); sum += scores[j]; } // − max: no overflow
                    float inverse = 1f / sum;
                    var o = y.AsSpan(r * C + hd * D, D);
                    o.Clear();
                    for (int j = 0; j <= p; j++)
                    {
                        scores[j] *= inverse;
                        AddScaled(cache.Value(l, hd, j), scores[j], o);
                    }
                    if (attention is not null)
                        scores.AsSpan(0, p + 1).CopyTo(attention.AsSpan(((l * H + hd) * n + r) * n, p + 1));
                }
            }
            Linear(y, b.AttnProjWeight, b.AttnProjBias, h, n, C, C);
            Add(h, x);
            LayerNorm(x, b.Ln2Weight.Span, b.Ln2Bias.Span, h, n, C);
            Linear(h, b.FcWeight, b.FcBias, fc, n, C, 4 * C);
            Gelu(fc);
            Linear(fc, b.FcProjWeight, b.FcProjBias, h, n, 4 * C, C);
            Add(h, x);
        }
        cache.Length = start + n;
        LayerNorm(x, _lnfWeight.Span, _lnfBias.Span, h, n, C);
        int first = allLogits is null ? n - 1 : 0;
        for (int r = first; r < n; r++)
        {
            var target = allLogits is null ? lastLogits : allLogits.AsSpan(r * Size.VocabSize, Size.VocabSize);
            LanguageModelHead(h.AsSpan(r * C, C), target);
            if (allLogits is not null && r == n - 1) target.CopyTo(lastLogits);
        }
    }

    /// <summary>logits[v] = wte[v] · x, parallel over vocabulary chunks (each dot product is sequential).</summary>
    private void LanguageModelHead(ReadOnlySpan<float> x, Span<float> logits)
    {
        int C = Size.Channels, V = Size.VocabSize;
        var xa = x.ToArray();
        var result = new float[V];
        var wte = _wte;
        int chunk = 2048;
        Parallel.For(0, (V + chunk - 1) / chunk, k =>
        {
            var w = wte.Span;
            int end = Math.Min(V, (k + 1) * chunk);
            for (int v = k * chunk; v < end; v++) result[v] = Dot(xa, w.Slice(v * C, C));
        });
        result.CopyTo(logits);
    }

    /// <summary>y (n, out) = x (n, in) · W (in, out) + b. Each y element accumulates i = 0..in−1 in order with
    /// fused multiply-adds, whatever n and whatever the column blocking, so results do not depend on n.</summary>
    private static void Linear(float[] x, ReadOnlyMemory<float> weight, ReadOnlyMemory<float> bias, float[] y, int n, int inFeatures, int outFeatures)
    {
        // column blocks: about four per core (balance), at least 64 wide (SIMD), a multiple of 16
        int Block = Math.Max(64, (outFeatures / (4 * Environment.ProcessorCount) + 15) / 16 * 16);
        int blocks = (outFeatures + Block - 1) / Block;
        void Run(int k)
        {
            var w = weight.Span; var bb = bias.Span;
            int j0 = k * Block, width = Math.Min(Block, outFeatures - j0);
            for (int r = 0; r < n; r++) bb.Slice(j0, width).CopyTo(y.AsSpan(r * outFeatures + j0, width));
            for (int i = 0; i < inFeatures; i++)
            {
                var wRow = w.Slice(i * outFeatures + j0, width);
                for (int r = 0; r < n; r++) AddScaled(wRow, x[r * inFeatures + i], y.AsSpan(r * outFeatures + j0, width));
            }
        }
        if ((long)n * inFeatures * outFeatures < 1 << 16) for (int k = 0; k < blocks; k++) Run(k);
        else Parallel.For(0, blocks, Run);
    }

    /// <summary>y += a · x element-wise, fused (one rounding per element, identical in vector lanes and the tail).</summary>
    private static void AddScaled(ReadOnlySpan<float> x, float a, Span<float> y)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var va = new Vector<float>(a);
            var xv = MemoryMarshal.Cast<float, Vector<float>>(x);
            var yv = MemoryMarshal.Cast<float, Vector<float>>(y);
            for (int k = 0; k < xv.Length; k++) yv[k] = Vector.FusedMultiplyAdd(xv[k], va, yv[k]);
            i = xv.Length * Vector<float>.Count;
        }
        for (; i < x.Length; i++) y[i] = MathF.FusedMultiplyAdd(x[i], a, y[i]);
    }

    /// <summary>Σ a[i]·b[i] with a fixed summation order that depends only on the length.</summary>
    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int i = 0;
        float sum = 0;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<float>.Count)
        {
            var av = MemoryMarshal.Cast<float, Vector<float>>(a);
            var bv = MemoryMarshal.Cast<float, Vector<float>>(b[..a.Length]);
            var acc = Vector<float>.Zero;
            for (int k = 0; k < av.Length; k++) acc = Vector.FusedMultiplyAdd(av[k], bv[k], acc);
            sum = Vector.Sum(acc);
            i = av.Length * Vector<float>.Count;
        }
        for (; i < a.Length; i++) sum = MathF.FusedMultiplyAdd(a[i], b[i], sum);
        return sum;
    }

    /// <summary>Per row: (x − mean) / sqrt(var + ε) · weight + bias, biased variance (as torch.nn.LayerNorm).</summary>
    private void LayerNorm(float[] x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, float[] output, int n, int C)
    {
        for (int r = 0; r < n; r++)
        {
            var row = x.AsSpan(r * C, C);
            var o = output.AsSpan(r * C, C);
            float mean = 0;
            for (int c = 0; c < C; c++) mean += row[c];
            mean /= C;
            float variance = 0;
            for (int c = 0; c < C; c++) { float d = row[c] - mean; variance += d * d; }
            variance /= C;
            float rstd = 1f / MathF.Sqrt(variance + Size.LayerNormEpsilon);
            for (int c = 0; c < C; c++) o[c] = (row[c] - mean) * rstd * weight[c] + bias[c];
        }
    }

    /// <summary>GPT-2's tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    private static void Gelu(Span<float> x)
    {
        const float s = 0.7978845608028654f; // √(2/π)
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            x[i] = 0.5f * v * (1f + MathF.Tanh(s * (v + 0.044715f * v * v * v)));
        }
    }

    private static void Add(ReadOnlySpan<float> from, Span<float> to)
    {
        for (int i = 0; i < to.Length; i++) to[i] += from[i];
    }
}
