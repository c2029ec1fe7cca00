using System.Globalization;
using System.Text.Json;

namespace AttentionLab.Workbook;

/// <summary>How an answer is written and compared.</summary>
public enum AnswerKind
{
    /// <summary>One real number, compared within <see cref="AnswerValue.AbsoluteTolerance"/> + <see cref="AnswerValue.RelativeTolerance"/>·|expected|.</summary>
    Number,
    /// <summary>A whole number (a count, an index), compared exactly.</summary>
    Integer,
    /// <summary>A list of whole numbers (a shape, token ids), compared exactly.</summary>
    Integers,
    /// <summary>A vector or matrix of real numbers (−∞ allowed), compared element-wise with the tolerance.</summary>
    Numbers,
    /// <summary>A word from a set of accepted spellings (e.g. "high").</summary>
    Choice,
}

/// <summary>
/// One expected answer (or intermediate step) of the workbook and how a learner's JSON is compared with it.
/// Numbers may be rounded as on paper: a number is right when it is within 0.1% of the library's, or within both
/// 0.005 and 5% of it (so two decimals are enough: 0.40 for 0.4011, 0.0039 for 1/256, but not 0.008 for 1/256).
/// Counts, indices and shapes must be exact. −∞ is written <c>"-inf"</c> (or null).
/// </summary>
public sealed class AnswerValue
{
    /// <summary>Always accepted: within 0.1% of the expected value.</summary>
    public const double RelativeTolerance = 0.001;
    /// <summary>Also accepted: within half a unit of the second decimal …</summary>
    public const double AbsoluteTolerance = 0.005;
    /// <summary>… as long as that is within 5% of the expected value (so small numbers keep their digits).</summary>
    public const double RoundingTolerance = 0.05;

    public AnswerKind Kind { get; }
    /// <summary>The numbers, row-major (empty for a choice).</summary>
    public IReadOnlyList<double> Values { get; }
    /// <summary>The layout: [] for a single number, [n] for a list, [rows, cols] for a matrix.</summary>
    public IReadOnlyList<int> Dims { get; }
    /// <summary>Accepted words, normalised (lower case, '_' for spaces).</summary>
    public IReadOnlyList<string> Choices { get; }
    private readonly string? _shown;

    private AnswerValue(AnswerKind kind, double[] values, int[] dims, string[] choices, string? shown = null) =>
        (Kind, Values, Dims, Choices, _shown) = (kind, values, dims, choices, shown);

    public static AnswerValue Number(double x) => new(AnswerKind.Number, [x], [], []);
    public static AnswerValue Integer(long n) => new(AnswerKind.Integer, [n], [], []);
    public static AnswerValue Integers(IEnumerable<int> list)
    {
        var v = list.Select(i => (double)i).ToArray();
        return new(AnswerKind.Integers, v, [v.Length], []);
    }
    public static AnswerValue Vector(IEnumerable<double> list)
    {
        var v = list.ToArray();
        return new(AnswerKind.Numbers, v, [v.Length], []);
    }
    public static AnswerValue Matrix(double[,] m)
    {
        int r = m.GetLength(0), c = m.GetLength(1);
        var v = new double[r * c];
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++) v[i * c + j] = m[i, j];
        return new(AnswerKind.Numbers, v, [r, c], []);
    }
    /// <param name="shown">how the answer is displayed</param>
    /// <param name="accepted">every accepted spelling (normalised before comparing)</param>
    public static AnswerValue Choice(string shown, params string[] accepted) =>
        new(AnswerKind.Choice, [], [], accepted.Select(Normalise).ToArray(), shown);

    /// <summary>Lower case, trimmed, spaces and dashes as '_', a trailing ".weight" dropped.</summary>
    public static string Normalise(string s)
    {
        var t = s.Trim().ToLowerInvariant().Replace(' ', '_').Replace('-', '_');
        return t.EndsWith(".weight", StringComparison.Ordinal) ? t[..^".weight".Length] : t;
    }

    /// <summary>True when <paramref name="given"/> is this answer within the tolerance.</summary>
    public bool Matches(JsonElement given) => Compare(given) is null;

    /// <summary>Null when <paramref name="given"/> matches; otherwise why not, in a phrase.</summary>
    public string? Compare(JsonElement given)
    {
        switch (Kind)
        {
            case AnswerKind.Choice:
                if (given.ValueKind != JsonValueKind.String) return $"expected a word, e.g. \"{Choices[0]}\"";
                return Choices.Contains(Normalise(given.GetString()!)) ? null : "not the expected word";
            case AnswerKind.Number:
            case AnswerKind.Integer:
                if (!TryNumber(given, out var x)) return "expected a single number";
                return Close(x, Values[0], Kind == AnswerKind.Integer) ? null : "a different number";
            default:
                var flat = new List<double>();
                var dims = new List<int>();
                if (!TryFlatten(given, flat, dims, 0)) return $"expected {Describe()}";
                if (!dims.SequenceEqual(Dims))
                    return $"expected {Describe()}, got {(dims.Count == 1 ? $"a list of {dims[0]}" : dims.Count == 2 ? $"a {dims[0]}×{dims[1]} matrix" : "another layout")}";
                for (int i = 0; i < flat.Count; i++)
                    if (!Close(flat[i], Values[i], Kind == AnswerKind.Integers))
                        return Dims.Count == 2 ? $"entry [{i / Dims[1] + 1}, {i % Dims[1] + 1}] differs" : $"entry {i + 1} differs";
                return null;
        }
    }

    private static bool Close(double given, double expected, bool exact)
    {
        if (double.IsNegativeInfinity(expected)) return double.IsNegativeInfinity(given);
        if (double.IsNegativeInfinity(given)) return false;
        if (exact) return given == expected;
        double d = Math.Abs(given - expected), size = Math.Abs(expected);
        return d <= 1e-9 || d <= RelativeTolerance * size || (d <= AbsoluteTolerance && d <= RoundingTolerance * size);
    }

    private static bool TryNumber(JsonElement e, out double x)
    {
        x = 0;
        switch (e.ValueKind)
        {
            case JsonValueKind.Number: return e.TryGetDouble(out x);
            case JsonValueKind.Null: x = double.NegativeInfinity; return true;
            case JsonValueKind.String:
                var s = e.GetString()!.Trim().ToLowerInvariant();
                if (s is "-inf" or "-infinity" or "-∞") { x = double.NegativeInfinity; return true; }
                // "102,728,704" or "12.2" written as text
                return double.TryParse(s.Replace(",", "").Replace("_", ""), NumberStyles.Float, CultureInfo.InvariantCulture, out x);
            default: return false;
        }
    }

    private static bool TryFlatten(JsonElement e, List<double> flat, List<int> dims, int depth)
    {
        if (e.ValueKind != JsonValueKind.Array) return TryNumber(e, out var x) && depth > 0 && Add(flat, x);
        int n = e.GetArrayLength();
        if (dims.Count == depth) dims.Add(n);
        else if (dims[depth] != n) return false;                                    // ragged
        foreach (var item in e.EnumerateArray())
            if (!TryFlatten(item, flat, dims, depth + 1)) return false;
        return n > 0;
    }

    private static bool Add(List<double> list, double x) { list.Add(x); return true; }

    private string Describe() => Kind == AnswerKind.Integers
        ? $"a list of {Dims[0]} whole numbers, e.g. {this}"
        : Dims.Count == 2 ? $"a {Dims[0]}×{Dims[1]} matrix (a list of rows)" : $"a list of {Dims[0]} numbers";

    /// <summary>The value as a learner would write it: 4, 0.4011, (1, 4, 8), [0.4011, 0.1978], "high".</summary>
    public override string ToString() => Kind switch
    {
        AnswerKind.Choice => _shown ?? Choices[0],
        AnswerKind.Number => Format(Values[0]),
        AnswerKind.Integer => ((long)Values[0]).ToString("N0", CultureInfo.InvariantCulture),
        AnswerKind.Integers => "[" + string.Join(", ", Values.Select(v => ((long)v).ToString(CultureInfo.InvariantCulture))) + "]",
        _ when Dims.Count == 2 => "[" + string.Join(", ", Enumerable.Range(0, Dims[0]).Select(r =>
            "[" + string.Join(", ", Enumerable.Range(0, Dims[1]).Select(c => Format(Values[r * Dims[1] + c]))) + "]")) + "]",
        _ => "[" + string.Join(", ", Values.Select(Format)) + "]",
    };

    /// <summary>Four decimals, whole numbers bare, −∞ as -inf.</summary>
    public static string Format(double x)
    {
        if (double.IsNegativeInfinity(x)) return "-inf";
        if (Math.Abs(x - Math.Round(x)) < 1e-12 && Math.Abs(x) < 1e15) return Math.Round(x).ToString("0", CultureInfo.InvariantCulture);
        if (Math.Abs(x) < 1e-3) return x.ToString("0.####e0", CultureInfo.InvariantCulture);
        return x.ToString("0.0000", CultureInfo.InvariantCulture);
    }

    /// <summary>Writes the value as JSON (−∞ as "-inf").</summary>
    public void WriteJson(Utf8JsonWriter w)
    {
        void Num(double x)
        {
            if (double.IsNegativeInfinity(x)) w.WriteStringValue("-inf");
            else w.WriteNumberValue(x);
        }
        switch (Kind)
        {
            case AnswerKind.Choice: w.WriteStringValue(Choices[0]); break; // a spelling the grader accepts
            case AnswerKind.Number or AnswerKind.Integer: Num(Values[0]); break;
            default:
                w.WriteStartArray();
                if (Dims.Count == 2)
                    for (int r = 0; r < Dims[0]; r++)
                    {
                        w.WriteStartArray();
                        for (int c = 0; c < Dims[1]; c++) Num(Values[r * Dims[1] + c]);
                        w.WriteEndArray();
                    }
                else foreach (var x in Values) Num(x);
                w.WriteEndArray();
                break;
        }
    }
}
