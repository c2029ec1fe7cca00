using AttentionLab.Training;

namespace AttentionLab.Datasets;

/// <summary>
/// A synthetic sequence-to-sequence task whose examples are generated on the fly: a source string and the target
/// string the model must write. Exact-match accuracy on held-out sources measures whether it learned the rule.
/// </summary>
public abstract class Seq2SeqTask
{
    /// <summary>The task names <see cref="Parse"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["reverse", "dates"];

    public abstract string Name { get; }

    /// <summary>Every character a source or a target may contain (the model's vocabulary, after the specials).</summary>
    public abstract string Alphabet { get; }

    /// <summary>The longest source, in characters.</summary>
    public abstract int MaxSourceLength { get; }

    /// <summary>The longest target, in characters.</summary>
    public abstract int MaxTargetLength { get; }

    /// <summary>One random example.</summary>
    public abstract (string Source, string Target) Sample(ref SplitMix64 random);

    /// <summary>The target for a source the user typed, or null when the source is not a valid input of the task.</summary>
    public abstract string? Solve(string source);

    /// <summary>A one-line description for help and reports.</summary>
    public abstract string Description { get; }

    /// <exception cref="ArgumentException">unknown name</exception>
    public static Seq2SeqTask Parse(string name) => name switch
    {
        "reverse" => new ReverseTask(),
        "dates" => new DateTask(),
        _ => throw new ArgumentException($"unknown seq2seq task '{name}'; known tasks: {string.Join(", ", Names)}"),
    };

    /// <summary>
    /// <paramref name="count"/> distinct held-out examples drawn with <paramref name="seed"/>. Training skips every
    /// source in this set (see <see cref="Seq2SeqBatches"/>), so the accuracy measured on it is on unseen inputs.
    /// </summary>
    public IReadOnlyList<(string Source, string Target)> HeldOut(int count, ulong seed)
    {
        var random = new SplitMix64(seed);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<(string, string)>(count);
        for (int tries = 0; result.Count < count && tries < count * 100; tries++)
        {
            var e = Sample(ref random);
            if (seen.Add(e.Source)) result.Add(e);
        }
        return result;
    }
}

/// <summary>Reverse a string of lowercase letters: "attention" → "noitnetta". The ideal cross-attention map is the
/// anti-diagonal (output position i reads source position n − 1 − i).</summary>
public sealed class ReverseTask : Seq2SeqTask
{
    /// <param name="minLength">shortest string (the command uses 3)</param>
    /// <param name="maxLength">longest string (the command uses 10)</param>
    public ReverseTask(int minLength = 3, int maxLength = 10)
    {
        if (minLength < 1 || maxLength < minLength) throw new ArgumentException($"need 1 ≤ min length ≤ max length, got {minLength} and {maxLength}");
        MinLength = minLength;
        MaxLength = maxLength;
    }

    public int MinLength { get; }
    public int MaxLength { get; }

    public override string Name => "reverse";
    public override string Alphabet => "abcdefghijklmnopqrstuvwxyz";
    public override int MaxSourceLength => MaxLength;
    public override int MaxTargetLength => MaxLength;
    public override string Description => $"reverse a string of {MinLength}–{MaxLength} lowercase letters";

    public override (string Source, string Target) Sample(ref SplitMix64 random)
    {
        int n = MinLength + random.NextInt(MaxLength - MinLength + 1);
        var chars = new char[n];
        for (int i = 0; i < n; i++) chars[i] = Alphabet[random.NextInt(Alphabet.Length)];
        var source = new string(chars);
        Array.Reverse(chars);
        return (source, new string(chars));
    }

    public override string? Solve(string source)
    {
        if (source.Length < 1 || source.Length > MaxLength || source.Any(c => !Alphabet.Contains(c))) return null;
        var chars = source.ToCharArray();
        Array.Reverse(chars);
        return new string(chars);
    }
}
