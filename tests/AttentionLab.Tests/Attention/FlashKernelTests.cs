using AttentionLab.Attention;

namespace AttentionLab.Tests.Attention;

/// <summary>
/// The tiled online-softmax kernel against the reference over the same shapes and masks as the fast kernel
/// (<see cref="FastKernelTests.Cases"/>), with tiles of 1, 3, 16 and the default 64 keys so rows cross many tile
/// boundaries, remainders and fully hidden tiles. Tolerances as there: 1e-5 relative (+ 1e-6 absolute, scaled by the
/// score spread) for outputs and weights, 1e-4 relative (+ 1e-5) for gradients.
/// </summary>
[Trait("Category", "Simd")]
public class FlashKernelTests
{
    public static TheoryData<int, int, int, int, int, string> Cases() => FastKernelTests.Cases();

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesReference(int B, int H, int Tq, int Tk, int D, string maskKind)
    {
        var shape = new AttentionShape(B, H, Tq, Tk, D);
        var random = TestData.Seeded(B, H, Tq, Tk, D, maskKind);
        var options = FastKernelTests.Options(maskKind, shape, random);
        var q = TestData.Normal(random, shape.QueryElements);
        var k = TestData.Normal(random, shape.KeyElements);
        var v = TestData.Normal(random, shape.KeyElements);
        var dO = TestData.Normal(random, shape.QueryElements);

        var expected = TestData.Run(AttentionKernels.Reference, q, k, v, dO, shape, options);
        foreach (int tile in new[] { 1, 3, 16, FlashAttention.DefaultTile })
            FastKernelTests.Compare(new FlashAttention(tile), q, k, v, dO, shape, options, expected);
    }

    [Fact]
    public void SavesOneLogSumExpPerRowAndRecomputesWithoutIt()
    {
        var shape = new AttentionShape(2, 3, 9, 11, 5);
        var kernel = new FlashAttention(4);
        Assert.Equal(2 * 3 * 9, kernel.SavedLength(shape));
        var random = new Random(3);
        var q = TestData.Normal(random, shape.QueryElements);
        var k = TestData.Normal(random, shape.KeyElements);
        var v = TestData.Normal(random, shape.KeyElements);
        var dO = TestData.Normal(random, shape.QueryElements);
        var options = AttentionOptions.Causal;
        var r = TestData.Run(kernel, q, k, v, dO, shape, options);
        // the saved LSE is ln Σ exp(s) of the reference scores
        var saved = new float[kernel.SavedLength(shape)];
        kernel.Forward(q, k, v, shape, options, new float[shape.QueryElements], saved);
        double scale = options.ScaleFor(shape.HeadDim);
        for (int bh = 0; bh < 6; bh++)
            for (int i = 0; i < 9; i++)
            {
                double sum = 0;
                for (int j = 0; j <= i + 2; j++)
                {
                    double dot = 0;
                    for (int d = 0; d < 5; d++) dot += (double)q[(bh * 9 + i) * 5 + d] * k[(bh * 11 + j) * 5 + d];
                    sum += Math.Exp(dot * scale);
                }
                Assert.True(Math.Abs(saved[bh * 9 + i] - Math.Log(sum)) <= 1e-5 * Math.Max(1, Math.Abs(Math.Log(sum))), $"lse[{bh},{i}]");
            }
        // backward without saved state recomputes it and gives the same gradients
        var dq = new float[shape.QueryElements];
        var dk = new float[shape.KeyElements];
        var dv = new float[shape.KeyElements];
        kernel.Backward(q, k, v, r.Output, default, dO, shape, options, dq, dk, dv);
        Assert.Equal(r.Dq, dq);
        Assert.Equal(r.Dk, dk);
        Assert.Equal(r.Dv, dv);
    }

    [Fact]
    public void NamesRoundTrip()
    {
        Assert.Equal("flash", AttentionKernels.Parse("flash").Name);
        Assert.Equal("flash,tile:16", AttentionKernels.Parse("flash, tile:16").Name);
        Assert.Equal(16, ((FlashAttention)AttentionKernels.Parse(AttentionKernels.Parse("flash,tile:16").Name)).Tile);
        Assert.True(AttentionKernels.Parse("flash").IsExact);
        Assert.Contains("tile", Assert.Throws<ArgumentException>(() => AttentionKernels.Parse("flash,tile:0")).Message);
        Assert.Contains("tile", Assert.Throws<ArgumentException>(() => AttentionKernels.Parse("flash,tiles:8")).Message);
        Assert.Throws<ArgumentException>(() => AttentionKernels.Parse("flash:8"));
    }
}
