using AttentionLab.Kernels;
using AttentionLab.Ops;
using AttentionLab.Training;

namespace AttentionLab.Models;

/// <summary>
/// A character-level GRU language model (Cho et al. 2014), <c>torch.nn.GRU</c>'s equations, with hand-written forward
/// and backward passes, trained by the same <see cref="Trainer"/> and AdamW as GPT-2:
/// <code>
/// x_t = wte[token_t]                                                     (B, E)
/// r_t = σ(x_t·W_ir + b_ir + h_{t−1}·W_hr + b_hr)                         reset gate (B, H)
/// z_t = σ(x_t·W_iz + b_iz + h_{t−1}·W_hz + b_hz)                         update gate
/// n_t = tanh(x_t·W_in + b_in + r_t ⊙ (h_{t−1}·W_hn + b_hn))              candidate
/// h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}                                  h_0 = 0 for every window
/// logits_t = h_t·W_out + b_out                                           (B, V)
/// </code>
/// Unlike attention, position t reaches position s only through the t − s multiplications between them (seed 000,
/// question 4), and the steps cannot run in parallel. Matrices are stored (in, out) as GPT-2's Conv1D; the gate
/// blocks are in PyTorch's order [r | z | n]. Internally time-major: row t·B + b. Not thread-safe.
/// </summary>
public sealed class GruLanguageModel : ILanguageModel
{
    private readonly ComputeDevice _device = ComputeDevice.Cpu;
    // activations of the last forward, time-major (sized for its B, T)
    private int _batch, _length;
    private int[] _tokens = [], _targets = [];     // (T·B)
    private float[] _embedded = [];                // (T·B, E)
    private float[] _inputGates = [];              // (T·B, 3H): x·W_ih + b_ih
    private float[] _hiddenGates = [];             // (T·B, 3H): h_{t−1}·W_hh + b_hh
    private float[] _reset = [], _update = [], _candidate = []; // (T·B, H) each
    private float[] _hidden = [];                  // (T + 1, B, H): h_0 … h_T
    private float[] _logits = [], _logSumExp = [], _losses = [];
    private bool _hasTargets, _logitsConsumed;
    // backward scratch
    private float[] _dHidden = [], _dInputGates = [], _dEmbedded = [];
    private float[] _dh = [], _dhNext = [], _dHiddenGates = [];

    /// <param name="vocabSize">V</param>
    /// <param name="embedding">E, the width of the character embedding</param>
    /// <param name="hidden">H, the width of the hidden state</param>
    /// <param name="context">the longest window the trainer feeds (a GRU itself has no limit)</param>
    public GruLanguageModel(int vocabSize, int embedding, int hidden, int context)
    {
        if (vocabSize < 1 || embedding < 1 || hidden < 1 || context < 1)
            throw new ArgumentException($"GRU sizes must be positive: vocab {vocabSize}, embedding {embedding}, hidden {hidden}, context {context}");
        VocabSize = vocabSize; Embedding = embedding; Hidden = hidden; Context = context;
        int offset = 0;
        (int, int) Add(int length) { var r = (offset, length); offset += length; return r; }
        TokenEmbedding = Add(vocabSize * embedding);
        InputWeight = Add(embedding * 3 * hidden);
        InputBias = Add(3 * hidden);
        HiddenWeight = Add(hidden * 3 * hidden);
        HiddenBias = Add(3 * hidden);
        OutputWeight = Add(hidden * vocabSize);
        OutputBias = Add(vocabSize);
        Parameters = new float[offset];
        Gradients = new float[offset];
        DecayedRanges = [TokenEmbedding, InputWeight, HiddenWeight, OutputWeight];
    }

    public int VocabSize { get; }
    public int Context { get; }
    /// <summary>E.</summary>
    public int Embedding { get; }
    /// <summary>H.</summary>
    public int Hidden { get; }
    public float[] Parameters { get; }
    public float[] Gradients { get; }
    public IReadOnlyList<(int Offset, int Length)> DecayedRanges { get; }

    /// <summary>wte (V, E).</summary>
    public (int Offset, int Length) TokenEmbedding { get; }
    /// <summary>W_ih (E, 3H), columns [r | z | n] (PyTorch's weight_ih_l0 transposed).</summary>
    public (int Offset, int Length) InputWeight { get; }
    /// <summary>b_ih (3H).</summary>
    public (int Offset, int Length) InputBias { get; }
    /// <summary>W_hh (H, 3H), columns [r | z | n] (PyTorch's weight_hh_l0 transposed).</summary>
    public (int Offset, int Length) HiddenWeight { get; }
    /// <summary>b_hh (3H).</summary>
    public (int Offset, int Length) HiddenBias { get; }
    /// <summary>W_out (H, V) (PyTorch's Linear weight transposed).</summary>
    public (int Offset, int Length) OutputWeight { get; }
    /// <summary>b_out (V).</summary>
    public (int Offset, int Length) OutputBias { get; }

    /// <summary>Trainable parameters: V·E + 3H·(E + H + 2) + H·V + V.</summary>
    public long ParameterCount => Parameters.Length;

    /// <summary>The parameter count of a GRU of these sizes, without building it.</summary>
    public static long CountParameters(int vocabSize, int embedding, int hidden) =>
        (long)vocabSize * embedding + 3L * hidden * (embedding + hidden + 2) + (long)hidden * vocabSize + vocabSize;

    private Span<float> P((int Offset, int Length) r) => Parameters.AsSpan(r.Offset, r.Length);
    private Span<float> G((int Offset, int Length) r) => Gradients.AsSpan(r.Offset, r.Length);

    /// <summary>PyTorch's defaults: embedding N(0, 1); every GRU and output weight and bias U(−1/√H, 1/√H).</summary>
    public void InitializeWeights(int seed)
    {
        var random = new Random(seed);
        var wte = P(TokenEmbedding);
        for (int i = 0; i < wte.Length; i += 2)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble(), r = Math.Sqrt(-2.0 * Math.Log(u1));
            wte[i] = (float)(r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < wte.Length) wte[i + 1] = (float)(r * Math.Sin(2 * Math.PI * u2));
        }
        float bound = 1f / MathF.Sqrt(Hidden);
        var rest = Parameters.AsSpan(InputWeight.Offset);
        for (int i = 0; i < rest.Length; i++) rest[i] = (float)((random.NextDouble() * 2 - 1) * bound);
    }

    /// <summary>(V) logits of window <paramref name="b"/> at position <paramref name="t"/> of the last forward.</summary>
    public ReadOnlySpan<float> LogitsAt(int b, int t)
    {
        if (_logitsConsumed) throw new InvalidOperationException("the logits were overwritten by Backward; run Forward again");
        if ((uint)b >= (uint)_batch || (uint)t >= (uint)_length) throw new ArgumentOutOfRangeException(nameof(t), $"({b}, {t}) is outside the last forward's ({_batch}, {_length})");
        return _logits.AsSpan((t * _batch + b) * VocabSize, VocabSize);
    }

    /// <inheritdoc/>
    public float Forward(ReadOnlySpan<int> tokens, int batch, int length, ReadOnlySpan<int> targets)
    {
        if (batch < 1 || length < 1) throw new ArgumentOutOfRangeException(nameof(batch), $"batch and length must be positive, got {batch} and {length}");
        int n = batch * length, e = Embedding, h = Hidden, v = VocabSize;
        if (tokens.Length != n) throw new ArgumentException($"tokens has {tokens.Length} elements, (B, T) = ({batch}, {length}) needs {n}");
        if (!targets.IsEmpty && targets.Length != n) throw new ArgumentException($"targets has {targets.Length} elements, needs {n}");
        foreach (int id in tokens) if ((uint)id >= (uint)v) throw new ArgumentOutOfRangeException(nameof(tokens), $"token {id} is outside [0, {v})");
        foreach (int id in targets) if ((uint)id >= (uint)v) throw new ArgumentOutOfRangeException(nameof(targets), $"token {id} is outside [0, {v})");
        Allocate(batch, length);
        for (int b = 0; b < batch; b++)                                 // (B, T) → time-major (T, B)
            for (int t = 0; t < length; t++)
            {
                _tokens[t * batch + b] = tokens[b * length + t];
                _targets[t * batch + b] = targets.IsEmpty ? 0 : targets[b * length + t];
            }
        _hasTargets = !targets.IsEmpty;
        _logitsConsumed = false;

        Ops.Embedding.Forward(P(TokenEmbedding), _tokens, e, _embedded);                      // (T·B, E)
        // the input half of every gate for every step at once: one GEMM, x·W_ih + b_ih
        Bias.Fill(P(InputBias), _inputGates);
        _device.MatMul(_embedded, P(InputWeight), _inputGates, n, 3 * h, e, accumulate: true);  // (T·B, 3H)

        Array.Clear(_hidden, 0, batch * h);                                                    // h_0 = 0
        for (int t = 0; t < length; t++)
        {
            var hPrev = _hidden.AsSpan(t * batch * h, batch * h);                              // (B, H)
            var hg = _hiddenGates.AsSpan(t * batch * 3 * h, batch * 3 * h);                    // (B, 3H)
            Bias.Fill(P(HiddenBias), hg);
            _device.MatMul(hPrev, P(HiddenWeight), hg, batch, 3 * h, h, accumulate: true);
            var xg = _inputGates.AsSpan(t * batch * 3 * h, batch * 3 * h);
            var hNext = _hidden.AsSpan((t + 1) * batch * h, batch * h);
            for (int b = 0; b < batch; b++)
                for (int j = 0; j < h; j++)
                {
                    int g = b * 3 * h + j, k = (t * batch + b) * h + j;
                    float r = Sigmoid(xg[g] + hg[g]);
                    float z = Sigmoid(xg[g + h] + hg[g + h]);
                    float c = MathF.Tanh(xg[g + 2 * h] + r * hg[g + 2 * h]);
                    _reset[k] = r; _update[k] = z; _candidate[k] = c;
                    hNext[b * h + j] = (1 - z) * c + z * hPrev[b * h + j];
                }
        }

        // logits = h_{1..T}·W_out + b_out
        var states = _hidden.AsSpan(batch * h, n * h);                                         // (T·B, H)
        Bias.Fill(P(OutputBias), _logits);
        _device.MatMul(states, P(OutputWeight), _logits, n, v, h, accumulate: true);          // (T·B, V)
        if (!_hasTargets) return float.NaN;
        return CrossEntropy.Forward(_logits, _targets, v, _losses, _logSumExp);
    }

    /// <inheritdoc/>
    public void Backward()
    {
        if (!_hasTargets || _logitsConsumed) throw new InvalidOperationException("Backward needs a Forward with targets first (once per Forward)");
        int batch = _batch, length = _length, n = batch * length, e = Embedding, h = Hidden, v = VocabSize;
        CrossEntropy.Backward(_logits, _logSumExp, _targets, v, 1f / n, _logits);             // dlogits (T·B, V), in place
        _logitsConsumed = true;
        var states = _hidden.AsSpan(batch * h, n * h);
        _device.MatMul(states, _logits, G(OutputWeight), h, v, n, transposeA: true, accumulate: true); // dW_out += hᵀ·dlogits
        Bias.Backward(_logits, G(OutputBias));
        _device.MatMul(_logits, P(OutputWeight), _dHidden, n, h, v, transposeB: true);      // dh_t from the head (T·B, H)

        // back through time: dh carries dLoss/dh_t from later steps
        var dh = _dh.AsSpan(0, batch * h); var dhNext = _dhNext.AsSpan(0, batch * h);
        dh.Clear();
        var dhg = _dHiddenGates.AsSpan(0, batch * 3 * h);
        for (int t = length - 1; t >= 0; t--)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(dh, _dHidden.AsSpan(t * batch * h, batch * h), dh);
            var hPrev = _hidden.AsSpan(t * batch * h, batch * h);
            var hg = _hiddenGates.AsSpan(t * batch * 3 * h, batch * 3 * h);
            var dxg = _dInputGates.AsSpan(t * batch * 3 * h, batch * 3 * h);
            for (int b = 0; b < batch; b++)
                for (int j = 0; j < h; j++)
                {
                    int g = b * 3 * h + j, k = (t * batch + b) * h + j, i = b * h + j;
                    float r = _reset[k], z = _update[k], c = _candidate[k], d = dh[i];
                    float dc = d * (1 - z);                          // h = (1 − z)·n + z·h_prev
                    float dz = d * (hPrev[i] - c);
                    float dcPre = dc * (1 - c * c);                  // n = tanh(a), dn/da = 1 − n²
                    float dr = dcPre * hg[g + 2 * h];                // a = x_n + r·hg_n
                    float drPre = dr * r * (1 - r);                  // σ' = σ(1 − σ)
                    float dzPre = dz * z * (1 - z);
                    dxg[g] = drPre; dxg[g + h] = dzPre; dxg[g + 2 * h] = dcPre;
                    dhg[g] = drPre; dhg[g + h] = dzPre; dhg[g + 2 * h] = dcPre * r;
                    dhNext[i] = d * z;                               // the direct path h_prev → h
                }
            _device.MatMul(hPrev, dhg, G(HiddenWeight), h, 3 * h, batch, transposeA: true, accumulate: true);  // dW_hh += h_prevᵀ·dhg
            Bias.Backward(dhg, G(HiddenBias));
            _device.MatMul(dhg, P(HiddenWeight), dhNext, batch, h, 3 * h, transposeB: true, accumulate: true); // dh_prev += dhg·W_hhᵀ
            var swap = dh; dh = dhNext; dhNext = swap;
        }

        _device.MatMul(_embedded, _dInputGates, G(InputWeight), e, 3 * h, n, transposeA: true, accumulate: true); // dW_ih += xᵀ·dxg
        Bias.Backward(_dInputGates, G(InputBias));
        _device.MatMul(_dInputGates, P(InputWeight), _dEmbedded, n, e, 3 * h, transposeB: true);                // dx (T·B, E)
        Ops.Embedding.Backward(_dEmbedded, _tokens, e, G(TokenEmbedding));
    }

    public void ZeroGrad() => Array.Clear(Gradients);

    private static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    private void Allocate(int batch, int length)
    {
        if (batch == _batch && length == _length) return;
        int n = batch * length, e = Embedding, h = Hidden, v = VocabSize;
        _batch = batch; _length = length;
        _tokens = new int[n]; _targets = new int[n];
        _embedded = new float[n * e]; _inputGates = new float[n * 3 * h]; _hiddenGates = new float[n * 3 * h];
        _reset = new float[n * h]; _update = new float[n * h]; _candidate = new float[n * h];
        _hidden = new float[(length + 1) * batch * h];
        _logits = new float[n * v]; _logSumExp = new float[n]; _losses = new float[n];
        _dHidden = new float[n * h]; _dInputGates = new float[n * 3 * h]; _dEmbedded = new float[n * e];
        _dh = new float[batch * h]; _dhNext = new float[batch * h]; _dHiddenGates = new float[batch * 3 * h];
    }
}
