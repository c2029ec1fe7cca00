using System.Xml.Linq;
using AttentionLab.Rendering;

namespace AttentionLab.Tests.Rendering;

/// <summary>The attention-map and patch-attention SVGs are well-formed XML with one cell per weight, and the
/// rectangular text heatmap draws Tq rows of Tk cells.</summary>
public class ModelSvgTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Fact]
    public void AttentionMapSvgHasOneCellPerWeightPerPanel()
    {
        var square = new AttentionPanel("BERT <square>", [0.5f, 0.5f, 0.25f, 0.75f], ["a", " "], ["a", " "]);
        var cross = new AttentionPanel("cross & more", [1f, 0f, 0f, 0f, 0.5f, 0.5f], ["<s>", "x"], ["p", "q", "r"]);
        var doc = XDocument.Parse(AttentionMapSvg.Render([square, cross], "a → b"));
        var cells = doc.Descendants(Svg + "rect").Where(r => r.Element(Svg + "title") is not null).ToList();
        Assert.Equal(4 + 6, cells.Count);
        Assert.Contains(cells, c => c.Element(Svg + "title")!.Value == "x → r: 0.500");
        var texts = doc.Descendants(Svg + "text").Select(t => t.Value).ToList();
        Assert.Contains("BERT <square>", texts);   // titles keep their spaces and are escaped
        Assert.Contains("␣", texts);               // labels make a space visible
        Assert.Equal("#ffffff", AttentionMapSvg.Blue(0));
        Assert.Equal("#08306b", AttentionMapSvg.Blue(1));
    }

    [Fact]
    public void AttentionMapSvgRefusesMismatchedLabels() =>
        Assert.Throws<ArgumentException>(() => AttentionMapSvg.Render([new AttentionPanel("t", [1f, 0f], ["a"], ["a"])]));

    [Fact]
    public void PatchAttentionSvgDrawsPixelsAndPatches()
    {
        var pixels = Enumerable.Range(0, 16).Select(i => i / 15f).ToArray();
        var row = new PatchAttentionRow("ring → ring", pixels, 4, 2, [[0.1f, 0.2f, 0.3f, 0.4f], [0.7f, 0.1f, 0.1f, 0.1f]]);
        var doc = XDocument.Parse(PatchAttentionSvg.Render([row], "caption"));
        var patches = doc.Descendants(Svg + "rect").Where(r => r.Element(Svg + "title") is not null).ToList();
        Assert.Equal(2 * 4, patches.Count);                                     // 2 layers × 4 patches
        Assert.Equal("0.75", patches[3].Attribute("fill-opacity")!.Value);      // the largest weight of its map
        Assert.Equal(1 + 16 * 3 + 8, doc.Descendants(Svg + "rect").Count());    // background, 3 copies of the image, patches
    }

    [Fact]
    public void RectangularHeatmapHasOneRowPerQuery()
    {
        var lines = AttentionHeatmap.Render([0f, 1f, 0f, 0.3f, 0.3f, 0.4f], ["<s>", "c"], ["a", "b", "c"], 4);
        Assert.Equal(2 + 2, lines.Count);
        Assert.Equal("<s> │  ██  ", lines[1]);
        Assert.Equal("c   │▒▒▒▒▒▒", lines[2]);
    }
}
