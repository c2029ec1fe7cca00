using AttentionLab.Ops;
using static AttentionLab.Tests.Ops.OpsTestUtil;

namespace AttentionLab.Tests.Ops;

public class EmbeddingTests
{
    [Fact]
    public void ForwardCopiesRowsAndBackwardScatterAdds()
    {
        int v = 5, c = 3;
        var table = Random(v * c, 1);
        int[] idx = [4, 1, 4];
        var y = new float[idx.Length * c];
        Embedding.Forward(table, idx, c, y);
        for (int i = 0; i < idx.Length; i++)
            for (int j = 0; j < c; j++) Assert.Equal(table[idx[i] * c + j], y[i * c + j]);
        var dy = Random(idx.Length * c, 2);
        var dt = new float[v * c];
        Embedding.Backward(dy, idx, c, dt);
        for (int j = 0; j < c; j++)
        {
            Assert.Equal(dy[0 * c + j] + dy[2 * c + j], dt[4 * c + j], 6);
            Assert.Equal(dy[1 * c + j], dt[1 * c + j]);
            Assert.Equal(0f, dt[0 * c + j]);
        }
    }

    [Fact]
    public void BackwardMatchesFiniteDifferences()
    {
        int v = 4, c = 2;
        var table = Random(v * c, 3); int[] idx = [0, 3, 0, 2];
        var dy = Random(idx.Length * c, 4);
        double Loss() { var y = new float[idx.Length * c]; Embedding.Forward(table, idx, c, y); double s = 0; for (int i = 0; i < y.Length; i++) s += y[i] * (double)dy[i]; return s; }
        var dt = new float[v * c];
        Embedding.Backward(dy, idx, c, dt);
        for (int i = 0; i < table.Length; i++) Assert.Equal(Numeric(table, i, Loss), dt[i], 1e-4);
    }

    [Fact]
    public void OutOfRangeIndexIsRejected()
    {
        var y = new float[2];
        Assert.Throws<ArgumentOutOfRangeException>(() => Embedding.Forward(new float[4], [2], 2, y));
    }
}
