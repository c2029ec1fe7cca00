namespace AttentionLab.Attention;

/// <summary>
/// Longformer's local attention (Beltagy et al. 2020): each query sees a sliding window of keys around it plus G
/// global tokens that see, and are seen by, everything. Written <c>window:W[,global:G][,two-sided:1]</c>:
/// <list type="bullet">
/// <item>one-sided (the default, for language models): the query and the W − 1 keys before it, key positions
/// p − W + 1 ≤ j ≤ p (Mistral's <c>sliding_window = W</c>; <c>new SlidingWindow(W − 1, 0)</c>);</item>
/// <item><c>two-sided:1</c>: ⌊W/2⌋ keys on each side, p − ⌊W/2⌋ ≤ j ≤ p + ⌊W/2⌋ (Longformer's "w/2 on each side";
/// <c>new SlidingWindow(W/2, W/2)</c>), cut to j ≤ p when the call is causal;</item>
/// <item><c>global:G</c>: key positions 0..G−1 are global (<see cref="AttentionOptions.GlobalTokens"/>): a query at
/// aligned position p &lt; G sees every key, every query sees keys j &lt; G (OR-ed with the window).</item>
/// </list>
/// p = i + Tk − Tq is the query's position on the key axis (bottom-right aligned, so KV-cache decode works).
/// The result equals <c>naive</c> with <c>AttentionOptions { Window, GlobalTokens }</c> set the same way, forward
/// and backward, together with whatever masks the caller passes (causal, prefix, padding, boolean, additive).
/// <para>
/// Cost O(T·(W + G)): it is the tiled online-softmax kernel (<see cref="FlashAttention"/>) on that band mask, and the
/// tiled kernel skips every key tile the band and the global tokens do not touch, so each block of
/// <see cref="FlashAttention.QueryBlock"/> queries computes ≈ (W + block + 2·tile) keys instead of T (plus all T for the
/// G global query rows). Memory O(T) per head: one log-sum-exp per query.
/// </para>
/// <see cref="IsExact"/> is false: a window hides keys that full attention sees, so in general it changes the result.
/// Whether it does depends on the call, not the kernel — a window at least as wide as the context changes nothing
/// (and the tests check that it then equals naive) — and IsExact is a property of the kernel.
/// </summary>
public sealed class WindowAttention : IAttentionKernel
{
    /// <summary>Keys per tile of the underlying tiled kernel: small enough that the band's edges waste little.</summary>
    public const int TileSize = 32;

    private readonly FlashAttention _tiled = new(TileSize);

    /// <param name="window">W ≥ 1: the query and W − 1 keys before it, or ⌊W/2⌋ on each side when two-sided</param>
    /// <param name="globalTokens">G ≥ 0 global tokens at the start of the sequence</param>
    /// <param name="twoSided">Longformer's two-sided window instead of the causal-style one</param>
    public WindowAttention(int window, int globalTokens = 0, bool twoSided = false)
    {
        if (window < 1) throw new ArgumentOutOfRangeException(nameof(window), $"the attention window must be at least 1 key, got {window}");
        if (globalTokens < 0) throw new ArgumentOutOfRangeException(nameof(globalTokens), $"the number of global tokens must be non-negative, got {globalTokens}");
        (Window, GlobalTokens, TwoSided) = (window, globalTokens, twoSided);
    }

    public int Window { get; }
    public int GlobalTokens { get; }
    public bool TwoSided { get; }

    /// <summary>The window as <see cref="AttentionOptions.Window"/> writes it.</summary>
    public SlidingWindow Sliding => TwoSided ? new SlidingWindow(Window / 2, Window / 2) : new SlidingWindow(Window - 1, 0);

    /// <summary>The kernel for a spec such as <c>window:256</c> or <c>window:256,global:2,two-sided:1</c>.</summary>
    internal static WindowAttention FromSpec(AttentionKernelSpec spec)
    {
        spec.OnlyOptions("global", "two-sided");
        int w = spec.MainInt("the window size W (keys)", 1, int.MaxValue / 2);
        int g = spec.OptionInt("global", 0, int.MaxValue / 2, 0);
        int two = spec.OptionInt("two-sided", 0, 1, 0);
        return new WindowAttention(w, g, two == 1);
    }

    public string Name => $"window:{Window}" + (GlobalTokens > 0 ? $",global:{GlobalTokens}" : "") + (TwoSided ? ",two-sided:1" : "");

    public bool IsExact => false;

    /// <summary>No state is kept between calls: heads may run in parallel.</summary>
    public bool CallsMayOverlap => true;

    /// <summary>
    /// The caller's options with this kernel's window and global tokens: what naive computes to give the same result.
    /// </summary>
    /// <exception cref="ArgumentException">the caller already set a window or global tokens (which should win is unclear)</exception>
    public AttentionOptions EquivalentOptions(AttentionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Window is not null)
            throw new ArgumentException($"attention kernel '{Name}' sets its own sliding window; leave AttentionOptions.Window unset (or use an exact kernel with it)");
        if (options.GlobalTokens != 0)
            throw new ArgumentException($"attention kernel '{Name}' sets its own global tokens; leave AttentionOptions.GlobalTokens at 0");
        return options with { Window = Sliding, GlobalTokens = GlobalTokens };
    }

    public long SavedLength(AttentionShape shape) => _tiled.SavedLength(shape);

    public void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        AttentionShape shape, AttentionOptions options, Span<float> output, Span<float> saved) =>
        _tiled.Forward(q, k, v, shape, EquivalentOptions(options), output, saved);

    public void Backward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> output,
        ReadOnlySpan<float> saved, ReadOnlySpan<float> dOutput, AttentionShape shape, AttentionOptions options,
        Span<float> dq, Span<float> dk, Span<float> dv) =>
        _tiled.Backward(q, k, v, output, saved, dOutput, shape, EquivalentOptions(options), dq, dk, dv);

    public void Weights(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        AttentionShape shape, AttentionOptions options, Span<float> weights) =>
        _tiled.Weights(q, k, v, shape, EquivalentOptions(options), weights);
}
