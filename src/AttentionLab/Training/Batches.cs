namespace AttentionLab.Training;

/// <summary>
/// Random training batches: B windows of T tokens at random offsets, and the targets — the same windows
/// shifted one token to the right (exercise Q22: with inputs [7, 12, 3] the targets are [12, 3, 25];
/// position t learns to predict token t+1 from tokens 0..t, so one window gives T training examples).
/// The offsets come from a seeded <see cref="SplitMix64"/>, so the same seed gives the same batches,
/// and <see cref="State"/> can be saved and restored to continue the sequence exactly.
/// </summary>
public sealed class Batches
{
    private readonly ReadOnlyMemory<int> _tokens;
    private SplitMix64 _random;

    public int BatchSize { get; }
    public int Context { get; }

    /// <param name="tokens">The token stream to sample from; needs at least <paramref name="context"/> + 1.</param>
    public Batches(ReadOnlyMemory<int> tokens, int batchSize, int context, ulong seed)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "batch size must be at least 1");
        if (context < 1) throw new ArgumentOutOfRangeException(nameof(context), "context must be at least 1");
        if (tokens.Length < context + 1)
            throw new ArgumentException($"{tokens.Length} tokens cannot fill one window of context + 1 = {context + 1}");
        _tokens = tokens;
        BatchSize = batchSize;
        Context = context;
        _random = new SplitMix64(seed);
    }

    /// <summary>The sampler's position in its random sequence.</summary>
    public ulong State { get => _random.State; set => _random.State = value; }

    /// <summary>Fills the next batch.</summary>
    /// <param name="inputs">(B, T) token ids.</param>
    /// <param name="targets">(B, T): targets[b, t] = inputs[b, t + 1], and the token after the window at t = T − 1.</param>
    public void Next(Span<int> inputs, Span<int> targets)
    {
        int B = BatchSize, T = Context;
        if (inputs.Length != B * T || targets.Length != B * T)
            throw new ArgumentException($"inputs and targets must each hold B·T = {B * T} ids");
        var tokens = _tokens.Span;
        int offsets = tokens.Length - T; // window start s needs s + T < length
        for (int b = 0; b < B; b++)
        {
            int start = _random.NextInt(offsets);
            tokens.Slice(start, T).CopyTo(inputs.Slice(b * T, T));
            tokens.Slice(start + 1, T).CopyTo(targets.Slice(b * T, T)); // shifted by one
        }
    }

    /// <summary>Allocating convenience for tests and notebooks: (inputs, targets), each B·T ids.</summary>
    public (int[] Inputs, int[] Targets) Next()
    {
        var x = new int[BatchSize * Context];
        var y = new int[BatchSize * Context];
        Next(x, y);
        return (x, y);
    }
}
