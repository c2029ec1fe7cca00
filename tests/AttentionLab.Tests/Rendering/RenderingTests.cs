using System.Xml.Linq;
using AttentionLab.Rendering;

namespace AttentionLab.Tests.Rendering;

public class RenderingTests
{
    [Fact]
    public void LossCurveIsWellFormedSvgWithBothCurves()
    {
        var train = Enumerable.Range(0, 50).Select(i => (i, 4.0 - i * 0.05)).ToList();
        var val = new List<(int, double)> { (0, 4.1), (25, 3.0), (49, 2.0) };
        var svg = LossCurveSvg.Render(train, val, "demo <char>", uniformLoss: Math.Log(65));
        var doc = XDocument.Parse(svg); // throws if malformed
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(2, doc.Descendants(ns + "polyline").Count());
        Assert.Contains("validation loss", svg);
        Assert.Contains("demo &lt;char&gt;", svg);
        Assert.Contains("ln V = 4.17", svg);
    }

    [Fact]
    public void LossCurveSurvivesEmptyAndFlatInput()
    {
        XDocument.Parse(LossCurveSvg.Render([], [], "empty"));
        XDocument.Parse(LossCurveSvg.Render([(0, 1.0), (1, 1.0)], [], "flat"));
        XDocument.Parse(LossCurveSvg.Render([(0, double.NaN), (1, 2.0)], [], "nan"));
    }

    [Fact]
    public void HeatmapShadesByWeightAndEntropyMatchesHandValues()
    {
        float[] w = [1, 0, 0, 0.5f, 0.5f, 0, 0.1f, 0.1f, 0.8f];
        var lines = AttentionHeatmap.Render(w, ["a", " ", "\n"]);
        Assert.Equal("██    ", lines[1][9..]);
        Assert.Equal("▓▓▓▓  ", lines[2][9..]);   // 0.5 is in [0.5, 0.75)

        Assert.StartsWith("␣", lines[2]);
        Assert.StartsWith("⏎", lines[3]);
        double expected = (0 + Math.Log(2) - (0.2 * Math.Log(0.1) + 0.8 * Math.Log(0.8))) / 3;
        Assert.Equal(expected, AttentionHeatmap.MeanEntropy(w, 3), 6);
        Assert.Equal(0, AttentionHeatmap.Level(0, 5));
        Assert.Equal(0, AttentionHeatmap.Level(0.01, 5));
        Assert.Equal(1, AttentionHeatmap.Level(0.1, 5));
        Assert.Equal(2, AttentionHeatmap.Level(0.5 - 1e-9, 5));
        Assert.Equal(3, AttentionHeatmap.Level(0.5, 5));
        Assert.Equal(4, AttentionHeatmap.Level(1, 5));
    }
}
