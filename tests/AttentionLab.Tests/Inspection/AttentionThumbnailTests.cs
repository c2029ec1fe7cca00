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
}
