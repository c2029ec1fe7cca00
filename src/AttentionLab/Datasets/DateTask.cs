using System.Globalization;
using AttentionLab.Training;

namespace AttentionLab.Datasets;

/// <summary>
/// Dates written the ways people write them, to ISO 8601: "march 5, 1998", "5 Mar 1998", "Thursday 5 March 1998"
/// → "1998-03-05". Years 1900–2099. The cross-attention map shows the digits of the year, then the month word,
/// then the day being read in an order different from how they are written.
/// </summary>
public sealed class DateTask : Seq2SeqTask
{
    private static readonly string[] Months = CultureInfo.InvariantCulture.DateTimeFormat.MonthNames[..12];
    private static readonly string[] Formats =
    [
        "MMMM d, yyyy", "MMM d, yyyy", "d MMMM yyyy", "d MMM yyyy", "dd MMM yyyy", "MMMM dd yyyy",
        "dddd d MMMM yyyy", "ddd, MMM d, yyyy", "yyyy MMMM d", "d.M.yyyy", "MMM. d yyyy",
    ];
    private static readonly DateTime First = new(1900, 1, 1), Last = new(2099, 12, 31);

    public override string Name => "dates";
    public override string Alphabet => "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,.-";
    public override int MaxSourceLength => 29; // "Wednesday 30 September 2099": dddd d MMMM yyyy is the longest
    public override int MaxTargetLength => 10;
    public override string Description => "dates in 11 written formats (and any case) → ISO yyyy-mm-dd, years 1900–2099";

    public override (string Source, string Target) Sample(ref SplitMix64 random)
    {
        var date = First.AddDays(random.NextInt((Last - First).Days + 1));
        var text = date.ToString(Formats[random.NextInt(Formats.Length)], CultureInfo.InvariantCulture);
        text = random.NextInt(3) switch { 0 => text.ToLowerInvariant(), 1 => text.ToUpperInvariant(), _ => text };
        return (text, date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
    }

    public override string? Solve(string source)
    {
        if (source.Length == 0 || source.Length > MaxSourceLength) return null;
        foreach (var format in Formats)
            if (DateTime.TryParseExact(source, format, CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
                && d >= First && d <= Last)
                return d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        return null;
    }
}
