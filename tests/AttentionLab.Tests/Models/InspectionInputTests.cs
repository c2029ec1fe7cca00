using AttentionLab.Models;

namespace AttentionLab.Tests.Models;

/// <summary>The inputs the Explorer and <c>inspect</c> give encoder models: a seq2seq target prefix, BERT's [MASK].</summary>
public class InspectionInputTests
{
    private static readonly Seq2SeqModel Seq2Seq = new(new Seq2SeqConfig { Channels = 16, Heads = 2, EncoderLayers = 1, DecoderLayers = 2, MaxTargetLength = 8, Seed = 9 });

    [Theory]
    [InlineData("abc")]
    [InlineData("attention")]
    [InlineData("z")]
    public void Continuing_from_an_empty_prefix_is_greedy_decoding(string source) =>
        Assert.Equal(Seq2Seq.Generate([source])[0], Seq2Seq.Continue(source, ""));

    [Fact]
    public void A_prefix_starts_the_answer_and_the_maps_cover_it()
    {
        var report = Seq2Seq.Inspect("abcdef", "fed");
        Assert.StartsWith("fed", report.Output);
        Assert.True(report.Output.Length <= 8);
        var cross = report.OfKind("cross");
        Assert.Equal(2, cross.Count);
        Assert.Equal(report.Output.Length + 1, cross[0].QueryLength);   // <s> + the answer
        Assert.Equal(6, cross[0].KeyLength);
        Assert.Equal("fedcbafe", Seq2Seq.Continue("abcdef", "fedcbafe"));  // a full prefix leaves nothing to decode
        Assert.Throws<ArgumentException>(() => Seq2Seq.Continue("abc", "fedcbafed"));
    }

    [Fact]
    public void Bert_reads_a_mask_token_as_a_blank()
    {
        var model = new BertModel(new BertConfig { Characters = "abcd ,.", Channels = 16, Heads = 2, Layers = 2, MaxLength = 16, Seed = 3 });
        var blank = model.Inspect("ab_ d,_.");
        var mask = model.Inspect("ab[MASK] d,[MASK].");
        Assert.Equal(blank.Output, mask.Output);
        for (int l = 0; l < 2; l++) Assert.Equal(blank.Maps[l].Weights, mask.Maps[l].Weights);
        Assert.Equal("[MASK]", mask.Maps[0].QueryLabels[2]);
        var predictions = mask.Extra!["predictions"]!.AsArray();
        Assert.Equal([2, 6], predictions.Select(p => (int)p!["position"]!).ToArray());
        var top = predictions[0]!["top"]!.AsArray().Select(t => (double)t!["probability"]!).ToArray();
        Assert.InRange(top.Sum(), 0.0, 1.0 + 1e-4);                        // 5 of the 7 characters' probabilities
        Assert.Equal(top.OrderByDescending(p => p), top);
    }
}
