using System.Globalization;
using System.Text.Json;
using AttentionLab.Tensors;

namespace AttentionLab.Cli;

/// <summary>
/// Prints float tensors for the step-by-step commands: small matrices whole, big ones cut to their corners with
/// "…" and a one-line summary (min, max, mean), so a 200,000-wide logits row never floods the terminal.
/// JSON always gets every number, as nested lists in the tensor's shape.
/// </summary>
public sealed class TensorText(TextWriter w, int digits, int maxRows = 8, int maxCols = 8)
{
    public string F(double x)
    {
        if (double.IsNaN(x)) return "NaN";
        if (double.IsNegativeInfinity(x)) return "-inf";
        if (double.IsPositiveInfinity(x)) return "inf";
        if (Math.Abs(x) >= 1e7) return x.ToString("0.###E+0", CultureInfo.InvariantCulture);
        var s = x.ToString("F" + digits, CultureInfo.InvariantCulture);
        return s.StartsWith('-') && s.Trim('-', '0', '.').Length == 0 ? s[1..] : s; // no "-0.0000"
    }

    /// <summary>A (rows, cols) row-major matrix with labelled rows and columns, cut to maxRows × maxCols.</summary>
    public void Matrix(ReadOnlySpan<float> data, int rows, int cols, Func<int, string> rowLabel, Func<int, string> colLabel)
    {
        var values = new double[data.Length];
        for (int i = 0; i < data.Length; i++) values[i] = data[i];
        Matrix(values, rows, cols, rowLabel, colLabel);
    }

    /// <inheritdoc cref="Matrix(ReadOnlySpan{float}, int, int, Func{int, string}, Func{int, string})"/>
    public void Matrix(IReadOnlyList<double> data, int rows, int cols, Func<int, string> rowLabel, Func<int, string> colLabel)
    {
        var rowIndex = Cut(rows, maxRows);
        var colIndex = Cut(cols, maxCols);
        var table = new List<string[]>();
        table.Add(["", .. colIndex.Select(j => j < 0 ? "…" : colLabel(j))]);
        foreach (int i in rowIndex)
            table.Add(i < 0
                ? ["⋮", .. colIndex.Select(_ => "")]
                : [rowLabel(i), .. colIndex.Select(j => j < 0 ? "…" : F(data[i * cols + j]))]);
        Table(table);
        if (rows > maxRows || cols > maxCols)
        {
            double min = double.PositiveInfinity, max = double.NegativeInfinity, sum = 0;
            for (int i = 0; i < rows * cols; i++) { min = Math.Min(min, data[i]); max = Math.Max(max, data[i]); sum += data[i]; }
            w.WriteLine($"  ({rows}×{cols} = {(long)rows * cols:N0} numbers, showing the corners; min {F(min)}, max {F(max)}, mean {F(sum / ((long)rows * cols))}; --json has all)");
        }
    }

    /// <summary>A (rows, cols) matrix, labelled, cut like the others.</summary>
    public void Matrix(double[,] m, Func<int, string> rowLabel, Func<int, string> colLabel)
    {
        int rows = m.GetLength(0), cols = m.GetLength(1);
        var flat = new double[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) flat[i * cols + j] = m[i, j];
        Matrix(flat, rows, cols, rowLabel, colLabel);
    }

    /// <summary>Right-aligned columns (the first, the row label, left-aligned), indented two spaces.</summary>
    public void Table(List<string[]> rows) => Table(w, rows);

    /// <inheritdoc cref="Table(List{string[]})"/>
    public static void Table(TextWriter w, IReadOnlyList<string[]> rows)
    {
        int cols = rows.Max(r => r.Length);
        var width = new int[cols];
        foreach (var row in rows)
            for (int j = 0; j < row.Length; j++) width[j] = Math.Max(width[j], row[j].Length);
        foreach (var row in rows)
        {
            var cells = row.Select((cell, j) => j == 0 ? cell.PadRight(width[0]) : cell.PadLeft(width[j]));
            w.WriteLine(("  " + string.Join("  ", cells)).TrimEnd());
        }
    }

    /// <summary>Indices to show: all, or the first and last few with −1 for the gap.</summary>
    private static List<int> Cut(int n, int max)
    {
        if (n <= max) return Enumerable.Range(0, n).ToList();
        int head = (max + 1) / 2, tail = max - head;
        return [.. Enumerable.Range(0, head), -1, .. Enumerable.Range(n - tail, tail)];
    }

    /// <summary>A tensor as nested JSON lists in its shape; NaN and ±∞ as null.</summary>
    public static void Json(Utf8JsonWriter w, string name, Tensor t)
    {
        w.WritePropertyName(name);
        Nested(w, t.Data, t.Shape, 0, 0);
    }

    private static void Nested(Utf8JsonWriter w, float[] data, int[] shape, int dim, int offset)
    {
        w.WriteStartArray();
        int stride = 1;
        for (int d = dim + 1; d < shape.Length; d++) stride *= shape[d];
        for (int i = 0; i < shape[dim]; i++)
        {
            if (dim == shape.Length - 1)
            {
                float x = data[offset + i];
                if (float.IsFinite(x)) w.WriteNumberValue(x); else w.WriteNullValue();
            }
            else Nested(w, data, shape, dim + 1, offset + i * stride);
        }
        w.WriteEndArray();
    }
}
