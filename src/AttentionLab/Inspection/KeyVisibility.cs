using AttentionLab.Attention;

namespace AttentionLab.Inspection;

/// <summary>Why query i may see key j.</summary>
public enum KeyReason
{
    /// <summary>Hidden: some mask removes it.</summary>
    Hidden,
    /// <summary>Inside the sliding window (or no window restricts it).</summary>
    Window,
    /// <summary>Outside the window, but the key is one of the G global tokens.</summary>
    GlobalKey,
    /// <summary>Outside the window, but the query is a global token (it sees everything).</summary>
    GlobalQuery,
}

/// <summary>
/// Which keys each query sees under a mask (<c>attnlab attention ... --window W --global G</c>), and why — the rule
/// of <see cref="AttentionOptions.Allows"/> laid out as a (Tq, Tk) table, with the cost it implies: a windowed
/// kernel computes only the visible scores, O(T·(W + G)) instead of O(T²).
/// </summary>
public sealed class KeyVisibility
{
    /// <summary>(Tq, Tk) why each key is visible, or <see cref="KeyReason.Hidden"/>.</summary>
    public required KeyReason[,] Reasons { get; init; }
    public int QueryLength => Reasons.GetLength(0);
    public int KeyLength => Reasons.GetLength(1);
    /// <summary>(Tq) visible keys per query.</summary>
    public required int[] VisibleCount { get; init; }
    /// <summary>Σ visible: the scores a sparse kernel computes (Tq·Tk for full attention).</summary>
    public long TotalVisible => VisibleCount.Sum(c => (long)c);
    public bool IsVisible(int i, int j) => Reasons[i, j] != KeyReason.Hidden;

    /// <summary>The table for one head (b = h = 0) of a call with these lengths and options.</summary>
    public static KeyVisibility Compute(int queryLength, int keyLength, AttentionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var shape = new AttentionShape(1, 1, queryLength, keyLength, 1);
        options.Validate(shape);
        var reasons = new KeyReason[queryLength, keyLength];
        var counts = new int[queryLength];
        for (int i = 0; i < queryLength; i++)
        {
            int p = i + keyLength - queryLength;
            for (int j = 0; j < keyLength; j++)
            {
                if (!options.Allows(0, 0, i, j, shape) || float.IsNegativeInfinity(options.BiasAt(0, 0, i, j))) continue;
                bool inWindow = options.Window is not { } w || (j >= p - w.Before && j <= p + w.After);
                reasons[i, j] = inWindow ? KeyReason.Window : j < options.GlobalTokens ? KeyReason.GlobalKey : KeyReason.GlobalQuery;
                counts[i]++;
            }
        }
        return new KeyVisibility { Reasons = reasons, VisibleCount = counts };
    }
}
