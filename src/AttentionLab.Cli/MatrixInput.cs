using System.Text.Json;

namespace AttentionLab.Cli;

/// <summary>
/// Reads a matrix given on the command line as JSON, inline (<c>[[1,0],[0,1]]</c>) or from a file
/// (<c>@q.json</c>). A matrix is a non-empty list of non-empty rows of equal length; every entry is a finite
/// number. Every problem is a <see cref="CliError"/> naming the option, so the user sees one clear line.
/// </summary>
public static class MatrixInput
{
    /// <summary>Matrix files larger than this are refused (a matrix for this command is a few numbers).</summary>
    public const long MaxFileBytes = 16 << 20;

    /// <summary>Parses a numeric matrix (rows, columns).</summary>
    /// <param name="option">the option name without dashes, for messages (e.g. "q")</param>
    /// <param name="text">the option's value: JSON, or @path to a JSON file</param>
    public static double[,] Numbers(string option, string text)
    {
        var rows = Rows(option, text);
        var m = new double[rows.Count, rows[0].Length];
        for (int i = 0; i < rows.Count; i++)
            for (int j = 0; j < rows[i].Length; j++)
            {
                var e = rows[i][j];
                if (e.ValueKind != JsonValueKind.Number)
                    throw new CliError($"--{option}: row {i + 1}, column {j + 1} is {Describe(e)}, not a number");
                if (!e.TryGetDouble(out var x) || !double.IsFinite(x))
                    throw new CliError($"--{option}: row {i + 1}, column {j + 1} ({e.GetRawText()}) is not a finite double");
                m[i, j] = x;
            }
        return m;
    }

    /// <summary>Parses a 0/1 mask (1 or true = attend, 0 or false = hidden).</summary>
    public static bool[,] Mask(string option, string text)
    {
        var rows = Rows(option, text);
        var m = new bool[rows.Count, rows[0].Length];
        for (int i = 0; i < rows.Count; i++)
            for (int j = 0; j < rows[i].Length; j++)
            {
                var e = rows[i][j];
                m[i, j] = e.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    JsonValueKind.Number when e.TryGetDouble(out var x) && x == 1 => true,
                    JsonValueKind.Number when e.TryGetDouble(out var x) && x == 0 => false,
                    _ => throw new CliError($"--{option}: row {i + 1}, column {j + 1} is {Describe(e)}; a mask holds only 0 (hidden) and 1 (attend)"),
                };
            }
        return m;
    }

    private static List<JsonElement[]> Rows(string option, string text)
    {
        string json = text;
        string source = "";
        if (text.StartsWith('@'))
        {
            var path = text[1..];
            if (path.Length == 0) throw new CliError($"--{option}: '@' must be followed by a file name, e.g. @{option}.json");
            if (!Path.Exists(path)) throw new CliError($"--{option}: file '{path}' not found");
            try { json = AttentionLab.IO.InputFile.ReadAllText(path, MaxFileBytes, "matrix file"); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                throw new CliError($"--{option}: cannot read '{path}': {e.Message}");
            }
            source = $" (in {path})";
        }

        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
            root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            // our own message: System.Text.Json's can quote the input
            string at = $"line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1}";
            bool nonFinite = json.Contains("nan", StringComparison.OrdinalIgnoreCase) || json.Contains("inf", StringComparison.OrdinalIgnoreCase);
            throw new CliError(nonFinite
                ? $"--{option}: not valid JSON{source}: JSON has no NaN or Infinity, and every entry must be a finite number ({at})"
                : $"--{option}: not valid JSON{source} ({at})");
        }

        const string example = "e.g. [[1,0],[0,1]]";
        if (root.ValueKind != JsonValueKind.Array)
            throw new CliError($"--{option}: expected a matrix (a list of rows){source}, {example}; got {Describe(root)}");
        var rows = root.EnumerateArray().ToList();
        if (rows.Count == 0)
            throw new CliError($"--{option}: the matrix is empty{source}; it needs at least one row, {example}");
        var result = new List<JsonElement[]>(rows.Count);
        for (int i = 0; i < rows.Count; i++)
        {
            if (rows[i].ValueKind != JsonValueKind.Array)
                throw new CliError(i == 0 && rows[i].ValueKind == JsonValueKind.Number
                    ? $"--{option}: expected a matrix (a list of rows){source}, got a flat list; one row is written [[1,2,3]]"
                    : $"--{option}: row {i + 1} is {Describe(rows[i])}, not a list of numbers{source}; {example}");
            var row = rows[i].EnumerateArray().ToArray();
            if (row.Length == 0)
                throw new CliError($"--{option}: row {i + 1} is empty{source}; every row needs at least one number");
            if (result.Count > 0 && row.Length != result[0].Length)
                throw new CliError($"--{option}: ragged matrix{source}: row 1 has {result[0].Length} entries but row {i + 1} has {row.Length}");
            result.Add(row);
        }
        return result;
    }

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => $"the string {e.GetRawText()}",
        JsonValueKind.Array => "a list",
        JsonValueKind.Object => "an object",
        JsonValueKind.Null => "null",
        JsonValueKind.True or JsonValueKind.False => e.GetRawText(),
        _ => e.GetRawText(),
    };
}
