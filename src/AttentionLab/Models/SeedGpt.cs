using AttentionLab.Attention;
using AttentionLab.Ops;
using AttentionLab.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AttentionLab.Models;

/// <summary>
/// The GPTModel of the seed materials — the smallest thing that is still a GPT:
/// <code>
/// x = token_embedding(ids) + position_embedding(arange(T))   (B, T, C)
/// x = attention(x)                                            (B, T, C)   one causal MultiHeadAttention
/// logits = output_head(x)                                     (B, T, V)   Linear(C, V, bias=False)
/// loss = cross_entropy(logits, targets)                       mean over all B·T positions
/// </code>
/// No layer norm, no MLP, no residual: those come with GPT-2. Parameter names follow the PyTorch state_dict
/// (<c>token_embedding.weight</c>, <c>attention.query.weight</c>, …, <c>output_head.weight</c>).
/// Gradients accumulate like PyTorch's <c>.grad</c>; clear them with <see cref="ZeroGrad"/>.
/// </summary>
public sealed class SeedGpt
{
    public SeedGptConfig Config { get; }

    /// <summary>(V, C)</summary>
    public Tensor TokenEmbedding { get; }
    /// <summary>(T_max, C)</summary>
    public Tensor PositionEmbedding { get; }
    public Tensor TokenEmbeddingGrad { get; }
    public Tensor PositionEmbeddingGrad { get; }

    /// <summary>Causal self-attention, C channels, H heads.</summary>
    public MultiHeadAttention Attention { get; }

    /// <summary>Linear(C, V, bias = False)</summary>
    public Linear OutputHead { get; }

    // cached by Forward / Loss for Backward
    private int[]? _ids;
    private int _batch, _length;
    private Tensor? _embedded, _attended, _dLogits;

    /// <summary>(B, T, C) x = token_embedding(ids) + position_embedding(arange(T)) of the last <see cref="Forward"/>, for inspection.</summary>
    public Tensor? LastEmbedded => _embedded;

    /// <summary>(B, T, C) the attention's output (after W_O) of the last <see cref="Forward"/>, for inspection.</summary>
    public Tensor? LastAttended => _attended;

    /// <param name="kernel">attention kernel; null = <see cref="AttentionKernels.Default"/></param>
    /// <param name="seed">initialisation seed: embeddings N(0, 1) and Linear U(±1/√in), the distributions PyTorch uses</param>
    public SeedGpt(SeedGptConfig config, IAttentionKernel? kernel = null, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.VocabSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.MaxLength);
        Config = config;
        var random = new Random(seed);
        int V = config.VocabSize, C = config.DModel, T = config.MaxLength;
        TokenEmbedding = new Tensor(V, C);
        PositionEmbedding = new Tensor(T, C);
        TokenEmbeddingGrad = new Tensor(V, C);
        PositionEmbeddingGrad = new Tensor(T, C);
        // the two big tables (V × C each) by ParameterInit's block-parallel streams: seconds → a fraction of one
        ParameterInit.Normal(TokenEmbedding.Data, (ulong)random.NextInt64());
        ParameterInit.Normal(PositionEmbedding.Data, (ulong)random.NextInt64());
        Attention = new MultiHeadAttention(C, config.Heads, AttentionOptions.Causal, kernel, random);
        OutputHead = new Linear(C, V, bias: false, seed: (ulong)random.NextInt64());
    }

    /// <summary>The number of parameters of this model (see <see cref="SeedGptConfig.ParameterCount"/>).</summary>
    public long ParameterCount => NamedParameters().Sum(p => (long)p.Value.Length);

    /// <summary>The parameter count of a config without building the model (102,728,704 for the defaults).</summary>
    public static long CountParameters(SeedGptConfig config) => config.ParameterCount;

    /// <summary>Every parameter with its gradient, in state_dict order and names.</summary>
    public IEnumerable<(string Name, Tensor Value, Tensor Grad)> NamedParameters()
    {
        yield return ("token_embedding.weight", TokenEmbedding, TokenEmbeddingGrad);
        yield return ("position_embedding.weight", PositionEmbedding, PositionEmbeddingGrad);
        foreach (var p in Attention.NamedParameters("attention.")) yield return p;
        foreach (var p in OutputHead.NamedParameters("output_head.")) yield return p;
    }

    public Tensor Parameter(string name) => Find(name).Value;
    public Tensor Gradient(string name) => Find(name).Grad;

    public void ZeroGrad()
    {
        foreach (var p in NamedParameters()) p.Grad.Span.Clear();
    }

    /// <param name="inputIds">(B, T) token ids, row-major</param>
    /// <returns>logits (B, T, V)</returns>
    public Tensor Forward(int[] inputIds, int batch, int length)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        int V = Config.VocabSize, C = Config.DModel;
        if (batch <= 0 || length <= 0 || inputIds.Length != batch * length)
            throw new ArgumentException($"inputIds has {inputIds.Length} ids; (B, T) = ({batch}, {length}) needs {batch * length}");
        if (length > Config.MaxLength)
            throw new ArgumentException($"sequence length {length} exceeds max_length {Config.MaxLength}");
        foreach (var id in inputIds)
            if ((uint)id >= (uint)V) throw new ArgumentException($"token id {id} is outside the vocabulary (0..{V - 1})");

        var x = new Tensor(batch, length, C);                                       // (B, T, C)
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < length; t++)
            {
                // x[b, t] = token_embedding[id] + position_embedding[t]
                TensorPrimitives.Add(TokenEmbedding.Data.AsSpan(inputIds[b * length + t] * C, C),
                    PositionEmbedding.Data.AsSpan(t * C, C), x.Data.AsSpan((b * length + t) * C, C));
            }
        var attended = Attention.Forward(x);                                       // (B, T, C)
        var logits = new Tensor(batch, length, V);                                 // (B, T, V)
        OutputHead.Forward(attended.Data, logits.Data, batch * length);
        (_ids, _batch, _length, _embedded, _attended, _dLogits) = (inputIds, batch, length, x, attended, null);
        return logits;
    }

    /// <summary>
    /// Mean cross-entropy over all B·T positions, <c>mean(logsumexp(logits) − logits[target])</c>
    /// (<see cref="CrossEntropy"/>); also keeps dL/dlogits = (softmax(logits) − onehot(target)) / (B·T) for
    /// <see cref="Backward"/>.
    /// </summary>
    /// <param name="logits">(B, T, V) from <see cref="Forward"/></param>
    /// <param name="targetIds">(B, T)</param>
    public float Loss(Tensor logits, int[] targetIds)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targetIds);
        int V = Config.VocabSize, N = _batch * _length;
        if (logits.Length != N * V || targetIds.Length != N)
            throw new ArgumentException($"Loss needs the logits (B, T, V) of the last Forward and targets (B, T) = ({_batch}, {_length})");
        foreach (var target in targetIds)
            if ((uint)target >= (uint)V) throw new ArgumentException($"target id {target} is outside the vocabulary (0..{V - 1})");
        var logSumExp = new float[N];
        float loss = CrossEntropy.Forward(logits.Data, targetIds, V, new float[N], logSumExp);
        var dLogits = new Tensor(_batch, _length, V);
        CrossEntropy.Backward(logits.Data, logSumExp, targetIds, V, 1f / N, dLogits.Data); // d(mean)/d(loss_i) = 1/N
        _dLogits = dLogits;
        return loss;
    }

    /// <summary>Adds the gradient of the last <see cref="Loss"/> to every parameter's gradient.</summary>
    public void Backward()
    {
        if (_dLogits is null || _ids is null) throw new InvalidOperationException("Backward needs Forward and Loss first");
        int C = Config.DModel, N = _batch * _length;
        var dAttended = new Tensor(_batch, _length, C);
        OutputHead.Backward(_attended!.Data, _dLogits.Data, dAttended.Data, N);
        var dx = Attention.Backward(dAttended);                                    // (B, T, C)
        for (int b = 0; b < _batch; b++)
            for (int t = 0; t < _length; t++)
            {
                // both embeddings receive the gradient of their sum; a token used twice collects it twice
                var g = dx.Data.AsSpan((b * _length + t) * C, C);
                var tok = TokenEmbeddingGrad.Data.AsSpan(_ids[b * _length + t] * C, C);
                var pos = PositionEmbeddingGrad.Data.AsSpan(t * C, C);
                TensorPrimitives.Add(tok, g, tok);
                TensorPrimitives.Add(pos, g, pos);
            }
    }

    private (string Name, Tensor Value, Tensor Grad) Find(string name)
    {
        foreach (var p in NamedParameters())
            if (p.Name == name) return p;
        throw new ArgumentException($"no parameter '{name}'; known: {string.Join(", ", NamedParameters().Select(p => p.Name))}");
    }
}
