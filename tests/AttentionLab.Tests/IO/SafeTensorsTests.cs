using System.Buffers.Binary;
using System.Text;
using AttentionLab.IO;

namespace AttentionLab.Tests.IO;

public class SafeTensorsTests
{
    private static byte[] Write(params (string, int[], float[])[] tensors)
    {
        using var ms = new MemoryStream();
        SafeTensors.Write(ms, tensors.Select(t => (t.Item1, t.Item2, (ReadOnlyMemory<float>)t.Item3)), new Dictionary<string, string> { ["format"] = "pt" });
        return ms.ToArray();
    }

    private static byte[] Raw(string header, int dataBytes)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var file = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)h.Length);
        h.CopyTo(file, 8);
        return file;
    }

    private static InvalidDataException Bad(byte[] file) =>
        Assert.Throws<InvalidDataException>(() => SafeTensors.Read(new MemoryStream(file)));

    [Fact]
    public void RoundTrips()
    {
        var file = Write(("a", [2, 3], [1, 2, 3, 4, 5, 6]), ("b", [1], [-7.5f]), ("empty", [0], []));
        Assert.Equal(0, (BinaryPrimitives.ReadInt64LittleEndian(file) + 8) % 8); // data buffer 8-byte aligned
        var (tensors, metadata) = SafeTensors.Read(new MemoryStream(file));
        Assert.Equal("pt", metadata["format"]);
        Assert.Equal([2, 3], tensors["a"].Shape);
        Assert.Equal([1f, 2, 3, 4, 5, 6], tensors["a"].Data);
        Assert.Equal([-7.5f], tensors["b"].Data);
        Assert.Empty(tensors["empty"].Data);
    }

    [Fact]
    public void ReadsHalfAndBFloat16()
    {
        var file = Raw("""{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]}}""", 6);
        int start = file.Length - 6;
        BinaryPrimitives.WriteHalfLittleEndian(file.AsSpan(start), (Half)1.5f);
        BinaryPrimitives.WriteHalfLittleEndian(file.AsSpan(start + 2), (Half)(-2f));
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(start + 4), (ushort)(BitConverter.SingleToInt32Bits(3.0f) >> 16));
        var (t, _) = SafeTensors.Read(new MemoryStream(file));
        Assert.Equal([1.5f, -2f], t["h"].Data);
        Assert.Equal([3f], t["b"].Data);
    }

    [Fact]
    public void TruncatedFileIsRejected()
    {
        var file = Write(("a", [4], [1, 2, 3, 4]));
        Assert.Contains("truncated", Bad(file[..^4]).Message);
        Assert.Contains("too short", Bad(file[..5]).Message);
    }

    [Fact]
    public void LyingHeaderLengthIsRejected()
    {
        var file = Write(("a", [1], [1]));
        BinaryPrimitives.WriteUInt64LittleEndian(file, 1_000_000);
        Assert.Contains("past the end", Bad(file).Message);
        BinaryPrimitives.WriteUInt64LittleEndian(file, ulong.MaxValue);
        Assert.Contains("limit", Bad(file).Message);
        BinaryPrimitives.WriteUInt64LittleEndian(file, 3);
        Assert.Contains("JSON", Bad(file).Message);
    }

    [Fact]
    public void BadEntriesAreRejected()
    {
        Assert.Contains("overlap", Bad(Raw("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12)).Message);
        Assert.Contains("run past", Bad(Raw("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", 8)).Message);
        Assert.Contains("not supported", Bad(Raw("""{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}""", 8)).Message);
        Assert.Contains("needs", Bad(Raw("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8)).Message);
        Assert.Contains("begin", Bad(Raw("""{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}""", 8)).Message);
        Assert.Contains("shape", Bad(Raw("""{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}""", 0)).Message);
        Assert.Contains("dtype", Bad(Raw("""{"a":{"shape":[1],"data_offsets":[0,4]}}""", 4)).Message);
        Assert.Contains("not an object", Bad(Raw("""[1,2]""", 0)).Message);
    }

    [Fact]
    public void ReadsTheFixtureHuggingFaceWrote()
    {
        var (t, meta) = SafeTensors.Read(Path.Combine(Fixtures.Directory, "gpt2_tiny", "model.safetensors"));
        Assert.Equal("pt", meta["format"]);
        Assert.Equal([32, 96], t["transformer.h.0.attn.c_attn.weight"].Shape);
        Assert.False(t.ContainsKey("lm_head.weight"));
    }
}
