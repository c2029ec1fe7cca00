using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using AttentionLab.Ops;
using AttentionLab.Tensors;

namespace AttentionLab.Models;

/// <summary>
/// Token embedding plus learned absolute position embedding, as GPT-2 and BERT do:
/// <code>
/// x[b, t] = wte[ids[b, t]] + wpe[t]        (B, T, C)
/// </code>
/// Both tables are initialised N(0, 0.02²) (GPT-2's and BERT's initializer range).
/// </summary>
public sealed class TokenEmbedding
{
    public int VocabSize { get; }
    public int MaxLength { get; }
    public int Channels { get; }
    /// <summary>(V, C)</summary>
    public Tensor Tokens { get; }
    /// <summary>(Tmax, C)</summary>
    public Tensor Positions { get; }
    public Tensor TokensGrad { get; }
    public Tensor PositionsGrad { get; }

    private int[] _ids = [];
    private int _batch, _length;
    private Tensor? _y;

    public TokenEmbedding(int vocabSize, int maxLength, int channels, Random random)
    {
        VocabSize = vocabSize; MaxLength = maxLength; Channels = channels;
        Tokens = Init.Normal(new Tensor(vocabSize, channels), 0.02, random);
        Positions = Init.Normal(new Tensor(maxLength, channels), 0.02, random);
        TokensGrad = new Tensor(vocabSize, channels);
        PositionsGrad = new Tensor(maxLength, channels);
    }

    /// <summary>"token.weight" and "position.weight" (nn.Embedding's names) under <paramref name="prefix"/>.</summary>
    public IEnumerable<(string Name, Tensor Value, Tensor Grad)> NamedParameters(string prefix)
    {
        yield return (prefix + "token.weight", Tokens, TokensGrad);
        yield return (prefix + "position.weight", Positions, PositionsGrad);
    }

    /// <param name="ids">(B, T), each in [0, V)</param>
    /// <returns>(B, T, C); the layer's own buffer, valid until its next forward call</returns>
    public Tensor Forward(ReadOnlySpan<int> ids, int batch, int length)
    {
        if (length > MaxLength) throw new ArgumentException($"sequence of {length} tokens is longer than the model's {MaxLength} positions");
        if (ids.Length != batch * length) throw new ArgumentException($"ids has {ids.Length} elements; (B, T) = ({batch}, {length}) needs {batch * length}");
        _y = Reuse.Get(_y, batch, length, Channels);
        Embedding.Forward(Tokens.Data, ids, Channels, _y.Data);                   // wte[ids]  (B·T, C)
        int tc = length * Channels;
        for (int b = 0; b < batch; b++)                                           // + wpe[0..T)
        {
            var row = _y.Data.AsSpan(b * tc, tc);
            TensorPrimitives.Add(row, Positions.Data.AsSpan(0, tc), row);
        }
        if (_ids.Length != ids.Length) _ids = new int[ids.Length];
        ids.CopyTo(_ids);
        (_batch, _length) = (batch, length);
        return _y;
    }

    /// <summary>Adds dL/d(wte) and dL/d(wpe).</summary>
    /// <param name="dy">(B, T, C)</param>
    public void Backward(Tensor dy)
    {
        Embedding.Backward(dy.Data, _ids, Channels, TokensGrad.Data);
        int tc = _length * Channels;
        var dPositions = PositionsGrad.Data.AsSpan(0, tc);
        for (int b = 0; b < _batch; b++) TensorPrimitives.Add(dPositions, dy.Data.AsSpan(b * tc, tc), dPositions);
    }
}

/// <summary>Parameter initialisers.</summary>
internal static class Init
{
    /// <summary>Fills <paramref name="t"/> with N(0, std²) (Box–Muller) and returns it.</summary>
    public static Tensor Normal(Tensor t, double std, Random random)
    {
        for (int i = 0; i < t.Length; i++)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            t.Data[i] = (float)(std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return t;
    }
}
