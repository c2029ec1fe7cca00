using System.IO.Pipelines;
using System.Text;
using AttentionLab.Explorer;

namespace AttentionLab.Tests.Explorer;

/// <summary>The binary /api/maps answer: lower-triangle packing only when it loses nothing, and the bytes written
/// are the header, the thumbnails and the maps, in that order, exactly <see cref="MapsAnswer.Bytes"/> long.</summary>
public class MapsAnswerTests
{
    private static float[] Maps(int H, int T, bool causal)
    {
        var rng = new Random(H * 100 + T);
        var m = new float[H * T * T];
        for (int r = 0; r < H * T; r++)
            for (int j = 0; j <= (causal ? r % T : T - 1); j++) m[r * T + j] = (float)rng.NextDouble() + 0.01f;
        return m;
    }

    private static async Task<byte[]> Written(MapsAnswer answer)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        await answer.WriteAsync(pipe.Writer, CancellationToken.None);
        await pipe.Writer.CompleteAsync();
        using var stream = new MemoryStream();
        await pipe.Reader.AsStream().CopyToAsync(stream);
        return stream.ToArray();
    }

    [Theory]
    [InlineData(3, 1, true)]
    [InlineData(2, 7, true)]
    [InlineData(4, 600, true)]    // rows span several flushes
    [InlineData(2, 7, false)]
    public async Task The_answer_decodes_to_the_header_thumbnails_and_maps(int H, int T, bool causal)
    {
        var maps = Maps(H, T, causal);
        bool lower = MapsAnswer.IsLowerTriangular(maps, H, T);
        Assert.Equal(causal, lower);
        var thumbnails = Enumerable.Range(0, 2 * H * 9).Select(i => i * 0.5f).ToArray();
        var header = Encoding.UTF8.GetBytes("{\"x\":1}");
        var answer = new MapsAnswer(header, thumbnails, maps, H, T, lower);
        var bytes = await Written(answer);
        Assert.Equal(answer.Bytes, bytes.Length);
        Assert.Equal(header.Length, BitConverter.ToInt32(bytes, 0));
        Assert.Equal(header, bytes[4..(4 + header.Length)]);
        int start = 4 + header.Length + (4 - (4 + header.Length) % 4) % 4;
        var floats = new float[(bytes.Length - start) / 4];
        Buffer.BlockCopy(bytes, start, floats, 0, floats.Length * 4);
        Assert.Equal(thumbnails, floats[..thumbnails.Length]);
        int at = thumbnails.Length;
        for (int r = 0; r < H * T; r++)
        {
            int n = lower ? r % T + 1 : T;
            Assert.Equal(maps.AsSpan(r * T, n).ToArray(), floats.AsSpan(at, n).ToArray());
            at += n;
        }
        Assert.Equal(floats.Length, at);
    }

    [Fact]
    public void One_value_above_the_diagonal_keeps_the_full_form()
    {
        var maps = Maps(2, 5, causal: true);
        Assert.True(MapsAnswer.IsLowerTriangular(maps, 2, 5));
        maps[(1 * 5 + 2) * 5 + 4] = 1e-30f;                      // head 1, row 2, key 4
        Assert.False(MapsAnswer.IsLowerTriangular(maps, 2, 5));
    }
}
