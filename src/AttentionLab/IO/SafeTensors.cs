using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace AttentionLab.IO;

/// <summary>One tensor of a safetensors file, converted to float32 — or, read with <c>keep16Bit</c>, an F16/BF16 tensor
/// kept as its 16-bit patterns in <see cref="Bits"/> (<see cref="Data"/> then empty).</summary>
public sealed record SafeTensor(string Name, string DType, int[] Shape, float[] Data)
{
    /// <summary>The stored 16-bit patterns of an F16/BF16 tensor read with keep16Bit; null otherwise.</summary>
    public ushort[]? Bits { get; init; }
}

/// <summary>One tensor for <see cref="SafeTensors.Write(Stream, IEnumerable{TensorToWrite}, IReadOnlyDictionary{string, string}?)"/>:
/// float32 values, or 16-bit patterns of a BF16/F16 tensor.</summary>
public readonly record struct TensorToWrite(string Name, int[] Shape, Kernels.WeightFormat Format, ReadOnlyMemory<float> Data, ReadOnlyMemory<ushort> Bits)
{
    public static TensorToWrite F32(string name, int[] shape, ReadOnlyMemory<float> data) => new(name, shape, Kernels.WeightFormat.F32, data, default);
    public static TensorToWrite Half(string name, int[] shape, ReadOnlyMemory<ushort> bits, Kernels.WeightFormat format) => new(name, shape, format, default, bits);
    internal long Count => Format == Kernels.WeightFormat.F32 ? Data.Length : Bits.Length;
}

/// <summary>One tensor's entry in a safetensors header: its dtype, shape and byte range in the data buffer
/// (offsets relative to the buffer's start), not its values.</summary>
public sealed record SafeTensorEntry(string Name, string DType, int[] Shape, long Begin, long End)
{
    /// <summary>The number of values: the product of the shape.</summary>
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>The stored bytes (2 per value for F16/BF16, 4 for F32).</summary>
    public long Bytes => End - Begin;
}

/// <summary>A checked safetensors header: the entries in buffer order, the metadata, and where the buffer starts.</summary>
public sealed record SafeTensorsHeader(IReadOnlyList<SafeTensorEntry> Entries, IReadOnlyDictionary<string, string> Metadata, long BufferStart);

/// <summary>
/// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N, N bytes of JSON
/// <c>{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}</c>, then the
/// byte buffer; offsets are relative to the buffer's start. Reading accepts F32, F16 and BF16 (converted to float32)
/// and checks everything a damaged or hostile file could get wrong (reading with keep16Bit keeps F16/BF16 tensors in
/// 16 bits); writing produces F32, or BF16/F16 for the tensors given so.
/// </summary>
public static class SafeTensors
{
    /// <summary>Headers larger than this are refused (the reference implementation's limit is 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>Reads every tensor. Throws <see cref="InvalidDataException"/> naming the problem when the file is malformed
    /// (or not a regular file), <see cref="FileNotFoundException"/> when it is missing.</summary>
    /// <param name="keep16Bit">keep F16/BF16 tensors as their 16-bit patterns (<see cref="SafeTensor.Bits"/>) instead of
    /// converting them to float32</param>
    public static (IReadOnlyDictionary<string, SafeTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string path, bool keep16Bit = false)
    {
        using var stream = InputFile.OpenRead(path, "safetensors file");
        try { return Read(stream, keep16Bit); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
    }

    /// <summary>Reads every tensor from a seekable stream positioned at the file's start. Total: any bytes give the
    /// tensors or one <see cref="InvalidDataException"/>; a tensor holding NaN or ±∞ is refused by name.</summary>
    public static (IReadOnlyDictionary<string, SafeTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(Stream stream, bool keep16Bit = false)
    {
        try { return ReadChecked(stream, keep16Bit); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or ArgumentException or DecoderFallbackException)
        {
            // every known cause is checked below; this keeps a malformed file from ever escaping as a crash
            throw new InvalidDataException($"malformed header ({e.GetType().Name})", e);
        }
    }

    private static (IReadOnlyDictionary<string, SafeTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) ReadChecked(Stream stream, bool keep16Bit)
    {
        var header = ReadHeaderChecked(stream);
        var tensors = new Dictionary<string, SafeTensor>(StringComparer.Ordinal);
        foreach (var e in header.Entries)
            tensors[e.Name] = keep16Bit && e.DType is "F16" or "BF16"
                ? new SafeTensor(e.Name, e.DType, e.Shape, []) { Bits = ReadBitsChecked(stream, header, e) }
                : new SafeTensor(e.Name, e.DType, e.Shape, ReadTensorChecked(stream, header, e));
        return (tensors, header.Metadata);
    }

    /// <summary>An F16/BF16 tensor's stored 16-bit patterns; a NaN or ±∞ pattern is refused by name.</summary>
    private static ushort[] ReadBitsChecked(Stream stream, SafeTensorsHeader header, SafeTensorEntry e)
    {
        var bytes = new byte[e.End - e.Begin];
        stream.Position = header.BufferStart + e.Begin;
        stream.ReadExactly(bytes);
        var bits = new ushort[bytes.Length / 2];
        for (int i = 0; i < bits.Length; i++) bits[i] = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i * 2));
        ushort exponent = e.DType == "BF16" ? (ushort)0x7F80 : (ushort)0x7C00;                      // all ones: ±∞ or NaN
        int index = Array.FindIndex(bits, b => (b & exponent) == exponent);
        if (index >= 0) throw new InvalidDataException($"tensor '{e.Name}' holds a non-finite {e.DType} value at index {index}; weights must be finite");
        return bits;
    }

    /// <summary>The checked header of the file at <paramref name="path"/> (names, dtypes, shapes), its values unread.</summary>
    public static SafeTensorsHeader ReadHeader(string path)
    {
        using var stream = InputFile.OpenRead(path, "safetensors file");
        try { return ReadHeader(stream); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
    }

    /// <summary>Reads and checks the header alone (names, dtypes, shapes, byte ranges inside the file and not
    /// overlapping) from a seekable stream at the file's start, leaving the values unread. Total: any bytes give the
    /// header or one <see cref="InvalidDataException"/>.</summary>
    public static SafeTensorsHeader ReadHeader(Stream stream)
    {
        try { return ReadHeaderChecked(stream); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or ArgumentException or DecoderFallbackException)
        {
            throw new InvalidDataException($"malformed header ({e.GetType().Name})", e);
        }
    }

    /// <summary>One tensor's values as float32, read from the stream <paramref name="header"/> came from; a NaN or ±∞
    /// is refused by name.</summary>
    public static float[] ReadTensor(Stream stream, SafeTensorsHeader header, SafeTensorEntry entry) => ReadTensorChecked(stream, header, entry);

    private static float[] ReadTensorChecked(Stream stream, SafeTensorsHeader header, SafeTensorEntry e)
    {
        var bytes = new byte[e.End - e.Begin];
        stream.Position = header.BufferStart + e.Begin;
        stream.ReadExactly(bytes);
        var data = Convert(bytes, e.DType);
        int bad = IndexOfNonFinite(data);
        if (bad >= 0) throw new InvalidDataException($"tensor '{e.Name}' holds {data[bad]} at index {bad}; weights must be finite");
        return data;
    }

    private static SafeTensorsHeader ReadHeaderChecked(Stream stream)
    {
        long fileLength = stream.Length;
        if (fileLength < 8) throw new InvalidDataException($"file is {fileLength} bytes, too short for the 8-byte header length");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderBytes) throw new InvalidDataException($"header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit");
        if ((long)headerLength > fileLength - 8) throw new InvalidDataException($"header length {headerLength} runs past the end of the {fileLength}-byte file");
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long bufferStart = 8 + (long)headerLength;
        long bufferLength = fileLength - bufferStart;

        // the header must be UTF-8 JSON; names with invalid UTF-8 or escaped lone surrogates are refused
        InputFile.DecodeUtf8(header, "header");
        using var doc = InputFile.ParseJson(header, "header");
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException("header JSON is not an object");

        var metadata = new Dictionary<string, string>();
        var entries = new List<SafeTensorEntry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in doc.RootElement.EnumerateObject())
        {
            if (property.Name == "__metadata__")
            {
                if (property.Value.ValueKind != JsonValueKind.Object) throw new InvalidDataException("__metadata__ is not an object");
                foreach (var m in property.Value.EnumerateObject())
                    metadata[InputFile.GetName(m, "__metadata__ key")] = m.Value.ValueKind == JsonValueKind.String
                        ? InputFile.GetText(m.Value, $"__metadata__.{m.Name}") : throw new InvalidDataException($"__metadata__.{m.Name} is not a string");
                continue;
            }
            var name = InputFile.GetName(property, "tensor name");
            if (names.Contains(name)) throw new InvalidDataException($"tensor '{name}' appears twice in the header");
            names.Add(name);
            entries.Add(ParseEntry(name, property.Value));
        }

        // the byte ranges must lie inside the buffer and must not overlap
        foreach (var e in entries)
            if (e.End > bufferLength) throw new InvalidDataException($"tensor '{e.Name}' data_offsets [{e.Begin}, {e.End}] run past the {bufferLength}-byte data buffer (truncated file?)");
        var sorted = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
        for (int i = 1; i < sorted.Count; i++)
            if (sorted[i].Begin < sorted[i - 1].End)
                throw new InvalidDataException($"tensors '{sorted[i - 1].Name}' and '{sorted[i].Name}' overlap in the data buffer");

        return new SafeTensorsHeader(sorted, metadata, bufferStart);
    }

    private static SafeTensorEntry ParseEntry(string name, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"tensor '{name}': entry is not an object");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new InvalidDataException($"tensor '{name}': missing dtype");
        string dtype = dtypeElement.GetString()!;
        int size = dtype switch
        {
            "F32" => 4,
            "F16" or "BF16" => 2,
            _ => throw new InvalidDataException($"tensor '{name}': dtype '{dtype}' is not supported (F32, F16, BF16 are)"),
        };
        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"tensor '{name}': missing shape");
        var shape = new List<int>();
        long count = 1;
        foreach (var s in shapeElement.EnumerateArray())
        {
            if (s.ValueKind != JsonValueKind.Number || !s.TryGetInt32(out int dim) || dim < 0)
                throw new InvalidDataException($"tensor '{name}': shape entry {s} is not a non-negative integer");
            shape.Add(dim);
            count *= dim;
            if (count > Array.MaxLength) throw new InvalidDataException($"tensor '{name}': shape is too large");
        }
        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw new InvalidDataException($"tensor '{name}': data_offsets must be [begin, end]");
        if (offsets[0].ValueKind != JsonValueKind.Number || offsets[1].ValueKind != JsonValueKind.Number ||
            !offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw new InvalidDataException($"tensor '{name}': data_offsets {offsets} are not 0 ≤ begin ≤ end");
        if (end - begin != count * size)
            throw new InvalidDataException($"tensor '{name}': data_offsets span {end - begin} bytes but {dtype} shape [{string.Join(", ", shape)}] needs {count * size}");
        return new SafeTensorEntry(name, dtype, shape.ToArray(), begin, end);
    }

    /// <summary>Index of the first NaN or ±∞, or -1.</summary>
    private static int IndexOfNonFinite(float[] data)
    {
        for (int i = 0; i < data.Length; i++) if (!float.IsFinite(data[i])) return i;
        return -1;
    }

    private static float[] Convert(byte[] bytes, string dtype)
    {
        switch (dtype)
        {
            case "F32":
            {
                var result = new float[bytes.Length / 4];
                if (BitConverter.IsLittleEndian) Buffer.BlockCopy(bytes, 0, result, 0, bytes.Length);
                else for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4));
                return result;
            }
            case "F16":
            {
                var result = new float[bytes.Length / 2];
                for (int i = 0; i < result.Length; i++) result[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes.AsSpan(i * 2));
                return result;
            }
            default: // BF16: the upper 16 bits of a float32
            {
                var result = new float[bytes.Length / 2];
                for (int i = 0; i < result.Length; i++)
                    result[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i * 2)) << 16);
                return result;
            }
        }
    }

    /// <summary>
    /// Writes F32 tensors in the given order, contiguous, the header padded with spaces to a multiple of 8 bytes
    /// (as the reference writer does, so the buffer is aligned).
    /// </summary>
    public static void Write(Stream stream, IEnumerable<(string Name, int[] Shape, ReadOnlyMemory<float> Data)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(stream, tensors.Select(t => TensorToWrite.F32(t.Name, t.Shape, t.Data)), metadata);

    /// <summary>Writes tensors in the given order, each F32 or (16-bit patterns) BF16/F16, as above.</summary>
    public static void Write(Stream stream, IEnumerable<TensorToWrite> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        using var headerStream = new MemoryStream();
        using (var json = new Utf8JsonWriter(headerStream))
        {
            json.WriteStartObject();
            if (metadata is not null && metadata.Count > 0)
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in list)
            {
                long count = t.Shape.Aggregate(1L, (a, b) => a * b);
                if (count != t.Count) throw new ArgumentException($"tensor '{t.Name}' has {t.Count} values but shape [{string.Join(", ", t.Shape)}] needs {count}");
                int size = (int)Kernels.WeightFormats.Bytes(t.Format);                  // F32, BF16 or F16: 4 or 2
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", Kernels.WeightFormats.SafeTensorsDType(t.Format));
                json.WriteStartArray("shape");
                foreach (int d in t.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + count * size);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += count * size;
            }
            json.WriteEndObject();
        }
        var header = headerStream.ToArray().ToList();
        while (header.Count % 8 != 0) header.Add((byte)' ');
        Span<byte> lengthBytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(lengthBytes, (ulong)header.Count);
        stream.Write(lengthBytes);
        stream.Write(header.ToArray());
        var buffer = new byte[1 << 20];
        foreach (var t in list)
        {
            if (t.Format != Kernels.WeightFormat.F32)
            {
                var bits = t.Bits.Span;
                for (int i = 0; i < bits.Length;)
                {
                    int count = Math.Min(buffer.Length / 2, bits.Length - i);
                    for (int j = 0; j < count; j++) BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(j * 2), bits[i + j]);
                    stream.Write(buffer, 0, count * 2);
                    i += count;
                }
                continue;
            }
            var span = t.Data.Span;
            for (int i = 0; i < span.Length;)
            {
                int count = Math.Min(buffer.Length / 4, span.Length - i);
                if (BitConverter.IsLittleEndian)
                    System.Runtime.InteropServices.MemoryMarshal.AsBytes(span.Slice(i, count)).CopyTo(buffer);
                else
                    for (int j = 0; j < count; j++) BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(j * 4), span[i + j]);
                stream.Write(buffer, 0, count * 4);
                i += count;
            }
        }
    }

    /// <summary>UTF-8 text of a header, for error messages and tests.</summary>
    internal static string HeaderText(byte[] file) =>
        Encoding.UTF8.GetString(file, 8, (int)BinaryPrimitives.ReadUInt64LittleEndian(file));
}
