using System.IO.Pipelines;
using System.Runtime.InteropServices;

namespace AttentionLab.Explorer;

/// <summary>
/// The binary answer of POST /api/maps, written straight from the overview's arrays to the response (no copy of the
/// whole answer): uint32 header length, the JSON header (UTF-8), zero padding to 4 bytes, then little-endian float32
/// thumbnails (L, H, S, S) and the maps of one layer (H, T, T). When every map is zero above the diagonal (a causal
/// model) and the header says <c>"packing": "lower"</c>, each row i carries only its first i + 1 values — half the
/// bytes, the same numbers.
/// </summary>
/// <param name="Maps">(H, T, T)</param>
public sealed record MapsAnswer(byte[] Header, float[] Thumbnails, ReadOnlyMemory<float> Maps, int Heads, int Length, bool Lower)
{
    private const int FlushBytes = 1 << 20;

    private int Pad => (4 - (4 + Header.Length) % 4) % 4;

    /// <summary>Floats of the layer's maps as sent: H·T·(T + 1)/2 packed, H·T² full.</summary>
    public long MapFloats => Lower ? (long)Heads * Length * (Length + 1) / 2 : (long)Heads * Length * Length;

    /// <summary>The answer's size in bytes (its Content-Length).</summary>
    public long Bytes => 4 + Header.Length + Pad + 4 * (Thumbnails.LongLength + MapFloats);

    /// <summary>True when every (T, T) map of <paramref name="maps"/> (H, T, T) is exactly 0 above the diagonal.</summary>
    public static bool IsLowerTriangular(ReadOnlyMemory<float> maps, int heads, int length)
    {
        var m = maps.Span;
        for (int r = 0; r < heads * length; r++)
        {
            int i = r % length;
            var above = m.Slice(r * length + i + 1, length - i - 1);
            if (above.ContainsAnyExcept(0f)) return false;
        }
        return true;
    }

    public async Task WriteAsync(PipeWriter writer, CancellationToken cancel)
    {
        var prefix = new byte[4 + Header.Length + Pad];
        BitConverter.TryWriteBytes(prefix.AsSpan(0, 4), Header.Length);
        Header.CopyTo(prefix, 4);
        await writer.WriteAsync(prefix, cancel);
        for (int at = 0; at < Thumbnails.Length; at += FlushBytes / 4)
        {
            Write(writer, Thumbnails.AsSpan(at, Math.Min(FlushBytes / 4, Thumbnails.Length - at)));
            var flushed = await writer.FlushAsync(cancel);
            if (flushed.IsCanceled || flushed.IsCompleted) return;
        }
        int rows = Heads * Length, row = 0;
        while (row < rows)
        {
            row = WriteRows(writer, row);                      // about FlushBytes of rows, then let them go out
            var flushed = await writer.FlushAsync(cancel);
            if (flushed.IsCanceled || flushed.IsCompleted) return;
        }
    }

    /// <summary>Copies rows from <paramref name="row"/> on into the writer until about <see cref="FlushBytes"/> are
    /// buffered; returns the next row.</summary>
    private int WriteRows(PipeWriter writer, int row)
    {
        var maps = Maps.Span;
        int rows = Heads * Length, T = Length;
        long written = 0;
        for (; row < rows && written < FlushBytes; row++)
        {
            int i = row % T;
            var values = maps.Slice(row * T, Lower ? i + 1 : T);
            Write(writer, values);
            written += 4L * values.Length;
        }
        return row;
    }

    private static void Write(PipeWriter writer, ReadOnlySpan<float> values)
    {
        var bytes = MemoryMarshal.AsBytes(values);
        bytes.CopyTo(writer.GetSpan(bytes.Length));
        writer.Advance(bytes.Length);
    }
}
