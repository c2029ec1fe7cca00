using AttentionLab.Inspection;
using AttentionLab.Tests.Generation;

namespace AttentionLab.Tests.Inspection;

/// <summary>One report shape for every model kind (<see cref="IAttentionReport"/>): its maps as groups, a GPT-2's one
/// "decoder" group viewing the report's own weights, an encoder-decoder's three in the order encoder, decoder, cross.</summary>
public class AttentionGroupTests
{
    [Fact]
    public void A_gpt2_report_is_one_decoder_group_whose_maps_are_its_weights()
    {
        int[] ids = [3, 1, 4, 1, 5, 9];
        var report = DecoderInspector.Inspect(TinyGpt2.Load(), null, ids);
        IAttentionReport any = report;
        Assert.Equal("gpt2", any.ModelType);
        var g = Assert.Single(any.Groups);
        Assert.Equal((AttentionGroup.Decoder, AttentionKinds.DecoderSelf, report.Layers, report.Heads), (g.Name, g.Kind, g.Layers, g.Heads));
        Assert.Equal(report.Tokens, g.QueryLabels);
        Assert.Equal(report.Tokens, g.KeyLabels);
        for (int l = 0; l < report.Layers; l++)
        {
            Assert.Equal(l, g.Maps[l].Layer);
            for (int h = 0; h < report.Heads; h++)
                Assert.True(g.Maps[l].Head(h) == report.Map(l, h), $"layer {l} head {h} is a view of the report's weights, not a copy");
        }
        Assert.Equal(report.Next[0].Token, any.Output);
    }

    [Fact]
    public void Maps_in_any_order_group_as_encoder_decoder_cross_by_layer()
    {
        string[] s = ["a", "b", "c"], t = ["<s>", "c"];
        AttentionMap Map(string kind, int layer, string[] q, string[] k) => new(kind, layer, 1, q, k, new float[q.Length * k.Length]);
        var report = new ModelAttention("seq2seq", "abc", "c",
        [
            Map(AttentionKinds.Cross, 1, t, s), Map(AttentionKinds.EncoderSelf, 1, s, s), Map(AttentionKinds.DecoderSelf, 0, t, t),
            Map(AttentionKinds.Cross, 0, t, s), Map(AttentionKinds.EncoderSelf, 0, s, s), Map(AttentionKinds.DecoderSelf, 1, t, t),
        ]);
        Assert.Equal([AttentionGroup.Encoder, AttentionGroup.Decoder, AttentionGroup.Cross], report.Groups.Select(g => g.Name).ToArray());
        Assert.All(report.Groups, g => Assert.Equal([0, 1], g.Maps.Select(m => m.Layer).ToArray()));
        var cross = report.Groups[2];
        Assert.Equal(t, cross.QueryLabels);
        Assert.Equal(s, cross.KeyLabels);
        Assert.Equal(cross.Maps, report.OfKind(AttentionKinds.Cross));
        var json = InspectionJson.ToJson(report)["groups"]!.AsArray();
        Assert.Equal(["encoder", "decoder", "cross"], json.Select(g => (string)g!["name"]!).ToArray());
        Assert.Equal(2, (int)json[2]!["layers"]!);
        Assert.Equal(["<s>", "c"], json[2]!["query_labels"]!.AsArray().Select(x => (string)x!).ToArray());
    }
}
