using AttentionLab.Training;

namespace AttentionLab.Tests.Training;

/// <summary>
/// The simplest language model — logits of the next token are a row of a (V, V) table indexed by the
/// current token — used to test the training loop independently of GPT-2.
/// </summary>
public sealed class BigramModel(int vocabSize, int context) : ILanguageModel
{
    private int[] _tokens = [], _targets = [];
    public int VocabSize => vocabSize;
    public int Context => context;
    public float[] Parameters { get; } = new float[vocabSize * vocabSize];
    public float[] Gradients { get; } = new float[vocabSize * vocabSize];
    public IReadOnlyList<(int Offset, int Length)> DecayedRanges => [(0, vocabSize * vocabSize)];

    public float Forward(ReadOnlySpan<int> tokens, int batch, int length, ReadOnlySpan<int> targets)
    {
        _tokens = tokens.ToArray(); _targets = targets.ToArray();
        double total = 0;
        for (int i = 0; i < _tokens.Length; i++)
        {
            var row = Parameters.AsSpan(_tokens[i] * vocabSize, vocabSize);
            float max = float.NegativeInfinity;
            foreach (var x in row) max = MathF.Max(max, x);
            double sum = 0;
            foreach (var x in row) sum += Math.Exp(x - max);
            total += Math.Log(sum) + max - row[_targets[i]];
        }
        return (float)(total / _tokens.Length);
    }

    public void Backward()
    {
        int n = _tokens.Length;
        for (int i = 0; i < n; i++)
        {
            var row = Parameters.AsSpan(_tokens[i] * vocabSize, vocabSize);
            var g = Gradients.AsSpan(_tokens[i] * vocabSize, vocabSize);
            float max = float.NegativeInfinity;
            foreach (var x in row) max = MathF.Max(max, x);
            double sum = 0;
            foreach (var x in row) sum += Math.Exp(x - max);
            for (int v = 0; v < vocabSize; v++) g[v] += (float)((Math.Exp(row[v] - max) / sum - (v == _targets[i] ? 1 : 0)) / n);
        }
    }

    public void ZeroGrad() => Array.Clear(Gradients);
}
