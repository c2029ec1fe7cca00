using AttentionLab.Inspection;

namespace AttentionLab.Tests.Inspection;

public class AttentionThumbnailTests
{
    [Fact]
    public void Each_cell_is_the_max_of_its_block()
    {
        int T = 4;
        float[] map = [
            1, 0, 0, 0,
            .2f, .8f, 0, 0,
            .1f, .1f, .8f, 0,
            .4f, .1f, .2f, .3f];
        var thumb = new float[4];
        AttentionThumbnail.MaxPool(map, T, thumb, 2);
        Assert.Equal([1f, 0f, .4f, .8f], thumb);
    }

    [Fact]
    public void A_side_equal_to_T_copies_and_uneven_blocks_cover_every_cell()
    {
        var rng = new Random(3);
        int T = 7;
        var map = Enumerable.Range(0, T * T).Select(_ => (float)rng.NextDouble()).ToArray();
        var same = new float[T * T];
        AttentionThumbnail.MaxPool(map, T, same, T);
        Assert.Equal(map, same);
        var small = new float[9];
        AttentionThumbnail.MaxPool(map, T, small, 3);
        Assert.Equal(map.Max(), small.Max());                    // the global max survives any pooling
        Assert.Equal(3, AttentionThumbnail.Side(3, 64));
        Assert.Equal(64, AttentionThumbnail.Side(1024, 64));
        Assert.Throws<ArgumentException>(() => AttentionThumbnail.MaxPool(map, T, new float[64], 8));
    }

    /// <summary>Every cell is the max of the block it covers, for narrow blocks (a plain loop) and wide ones (one
    /// vectorized call per row), uneven splits included; checked against the definition's four loops.</summary>
    [Theory]
    [InlineData(300, 64)]
    [InlineData(1024, 64)]
    [InlineData(1000, 17)]
    [InlineData(50, 7)]
    public void Wide_and_narrow_blocks_pool_to_their_max(int T, int S)
    {
        var rng = new Random(T + S);
        var map = new float[T * T];
        for (int i = 0; i < T; i++)
            for (int j = 0; j <= i; j++) map[i * T + j] = (float)Math.Pow(rng.NextDouble(), 8);  // causal: zeros above
        var thumb = new float[S * S];
        AttentionThumbnail.MaxPool(map, T, thumb, S);
        for (int r = 0; r < S; r++)
            for (int c = 0; c < S; c++)
            {
                float expected = 0;
                for (int i = r * T / S; i < (r + 1) * T / S; i++)
                    for (int j = c * T / S; j < (c + 1) * T / S; j++) expected = Math.Max(expected, map[i * T + j]);
                Assert.Equal(expected, thumb[r * S + c]);
            }
    }
}
