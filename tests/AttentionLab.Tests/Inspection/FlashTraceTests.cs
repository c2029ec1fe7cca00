using AttentionLab.Attention;
using AttentionLab.Inspection;

namespace AttentionLab.Tests.Inspection;

/// <summary>The readable online softmax (<see cref="FlashTrace"/>) against plain softmax and the flash kernel, and the
/// visibility table of window / global masks.</summary>
public class FlashTraceTests
{
    private static double[,] Random2(Random r, int rows, int cols)
    {
        var m = new double[rows, cols];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) m[i, j] = r.NextDouble() * 4 - 2;
        return m;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void FinalRowsEqualSoftmaxAndTheKernel(int tile)
    {
        var random = new Random(tile);
        var q = Random2(random, 5, 3);
        var k = Random2(random, 7, 3);
        var v = Random2(random, 7, 3);
        var options = new AttentionOptions { IsCausal = true, Window = new SlidingWindow(3), GlobalTokens = 1 };
        var vis = KeyVisibility.Compute(5, 7, options);
        var visible = new bool[5, 7];
        for (int i = 0; i < 5; i++) for (int j = 0; j < 7; j++) visible[i, j] = vis.IsVisible(i, j);
        var t = FlashTrace.Compute(q, k, v, visible, null, tile);
        Assert.Equal((7 + tile - 1) / tile, t.Steps.Count);
        Assert.True(t.MaxDifference <= 1e-12, $"flash vs softmax {t.MaxDifference}");   // double, summation order only
        // the last step's normalized output is the output; the rescale factor is exp(m_before − m_after)
        foreach (var s in t.Steps)
            for (int i = 0; i < 5; i++)
                if (!double.IsNegativeInfinity(s.RunningMax[i]))
                    Assert.Equal(Math.Exp(s.PreviousMax[i] - s.RunningMax[i]), s.Rescale[i], 12);
        // the float32 flash kernel with the same tile gives the same rows (1e-5 relative + 1e-6 absolute)
        float[] F(double[,] m) => m.Cast<double>().Select(x => (float)x).ToArray();
        var output = new float[15];
        new FlashAttention(tile).Forward(F(q), F(k), F(v), new AttentionShape(1, 1, 5, 7, 3), options, output, default);
        Close.Assert(output, t.Output.Cast<double>().ToArray(), 1e-5, 1e-6, "kernel vs trace");
    }

    [Fact]
    public void VisibilityNamesTheReason()
    {
        var vis = KeyVisibility.Compute(4, 4, new AttentionOptions { Window = new SlidingWindow(0), GlobalTokens = 1 });
        Assert.Equal(KeyReason.Window, vis.Reasons[0, 0]);
        Assert.Equal(KeyReason.GlobalQuery, vis.Reasons[0, 3]);
        Assert.Equal(KeyReason.GlobalKey, vis.Reasons[2, 0]);
        Assert.Equal(KeyReason.Hidden, vis.Reasons[2, 1]);
        Assert.Equal([4, 2, 2, 2], vis.VisibleCount);
        Assert.Equal(10, vis.TotalVisible);
    }
}
