using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AttentionLab.Cli;

/// <summary>
/// Helpers for <c>--json</c> output: indented UTF-8 JSON, matrices as nested arrays, non-finite numbers
/// (a hidden score's −∞) as <c>null</c> because JSON has no infinity.
/// </summary>
public static class JsonOutput
{
    private static readonly JsonWriterOptions Options = new()
    {
        // Keep "√", "ᵀ" and "−" readable instead of \u escapes; the output is never embedded in HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// Builds one JSON document with <paramref name="write"/> and prints it followed by a newline, indented, with
    /// every list of plain values on one line so a matrix reads as rows: <c>[[1, 0, 1], [0, 1, 1]]</c>.
    /// </summary>
    public static void Print(TextWriter stdout, Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Options)) write(writer);
        using var doc = JsonDocument.Parse(buffer.ToArray());
        var text = new StringBuilder();
        Pretty(doc.RootElement, text, 0);
        stdout.WriteLine(text.ToString());
    }

    private static void Pretty(JsonElement e, StringBuilder sb, int depth)
    {
        string pad = new(' ', 2 * depth), inner = new(' ', 2 * (depth + 1));
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                if (!e.EnumerateObject().Any()) { sb.Append("{}"); return; }
                sb.Append("{\n");
                bool firstProperty = true;
                foreach (var p in e.EnumerateObject())
                {
                    if (!firstProperty) sb.Append(",\n");
                    firstProperty = false;
                    sb.Append(inner).Append(JsonSerializer.Serialize(p.Name, SerializerOptions)).Append(": ");
                    Pretty(p.Value, sb, depth + 1);
                }
                sb.Append('\n').Append(pad).Append('}');
                return;
            case JsonValueKind.Array when Flat(e):
                // a vector, or a matrix of plain values: one line
                sb.Append(Inline(e));
                return;
            case JsonValueKind.Array:
                sb.Append("[\n");
                bool firstItem = true;
                foreach (var item in e.EnumerateArray())
                {
                    if (!firstItem) sb.Append(",\n");
                    firstItem = false;
                    sb.Append(inner);
                    Pretty(item, sb, depth + 1);
                }
                sb.Append('\n').Append(pad).Append(']');
                return;
            default:
                sb.Append(e.GetRawText());
                return;
        }
    }

    /// <summary>True for a list of plain values, or a list of such lists (a matrix).</summary>
    private static bool Flat(JsonElement array) => array.EnumerateArray().All(x =>
        x.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array)
        || (x.ValueKind == JsonValueKind.Array && x.EnumerateArray().All(y => y.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array))));

    private static string Inline(JsonElement e) => e.ValueKind == JsonValueKind.Array
        ? "[" + string.Join(", ", e.EnumerateArray().Select(Inline)) + "]"
        : e.GetRawText();

    private static readonly JsonSerializerOptions SerializerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A number, or null when it is ±∞ or NaN.</summary>
    public static void Number(Utf8JsonWriter w, double x)
    {
        if (double.IsFinite(x)) w.WriteNumberValue(x);
        else w.WriteNullValue();
    }

    public static void Vector(Utf8JsonWriter w, string name, IReadOnlyList<double> values)
    {
        w.WriteStartArray(name);
        foreach (var x in values) Number(w, x);
        w.WriteEndArray();
    }

    /// <summary>A (rows, cols) matrix as a list of rows.</summary>
    public static void Matrix(Utf8JsonWriter w, string name, double[,] m)
    {
        w.WriteStartArray(name);
        for (int i = 0; i < m.GetLength(0); i++)
        {
            w.WriteStartArray();
            for (int j = 0; j < m.GetLength(1); j++) Number(w, m[i, j]);
            w.WriteEndArray();
        }
        w.WriteEndArray();
    }

    public static void Shape(Utf8JsonWriter w, string name, IEnumerable<long> shape)
    {
        w.WriteStartArray(name);
        foreach (var d in shape) w.WriteNumberValue(d);
        w.WriteEndArray();
    }
}
