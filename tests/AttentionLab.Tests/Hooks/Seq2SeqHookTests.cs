using AttentionLab.Datasets;
using AttentionLab.Hooks;
using AttentionLab.Models;

namespace AttentionLab.Tests.Hooks;

/// <summary>The encoder-decoder's hook points: <c>encoder.</c>/<c>decoder.</c> names, the cross-attention points, readers
/// that change no bit and editors that change the pass.</summary>
public class Seq2SeqHookTests
{
    private static readonly Seq2SeqConfig Config = new() { Channels = 16, Heads = 2, EncoderLayers = 1, DecoderLayers = 2, Seed = 3 };

    private static Seq2SeqBatch Batch(Seq2SeqModel model) => Seq2SeqBatch.From([("abcdefg", "gfedcba"), ("xyz", "zyx")], model.Vocabulary);

    [Fact]
    public void Every_listed_name_is_called_once_in_forward_order()
    {
        var model = new Seq2SeqModel(Config);
        var (_, cache) = model.RunWithCache(Batch(model), _ => true);
        Assert.Equal(HookNames.For(Config).Select(h => h.Name), cache.Names);
        Assert.Contains("decoder.blocks.1.cross_attn.hook_pattern", cache.Names);
        Assert.Contains("encoder.blocks.0.attn.hook_pattern", cache.Names);
        Assert.DoesNotContain(cache.Names, n => n.StartsWith("encoder.", StringComparison.Ordinal) && n.Contains("cross", StringComparison.Ordinal));
    }

    [Fact]
    public void Readers_change_no_bit_of_the_loss_or_the_gradients()
    {
        var plain = new Seq2SeqModel(Config);
        var hooked = new Seq2SeqModel(Config);
        var batch = Batch(plain);
        float expected = plain.Forward(batch);
        var (actual, _) = hooked.RunWithCache(batch, _ => true);
        Assert.Equal(expected, actual);
        plain.Backward();
        hooked.Backward();
        Assert.Equal(plain.Gradients.Data, hooked.Gradients.Data);
    }

    [Fact]
    public void Cross_pattern_reads_every_real_source_position_and_no_padding()
    {
        var model = new Seq2SeqModel(Config);
        var batch = Batch(model);
        var (_, cache) = model.RunWithCache(batch, n => n == "decoder.blocks.0.cross_attn.hook_pattern");
        var pattern = cache["decoder.blocks.0.cross_attn.hook_pattern"];
        Assert.Equal([2, 2, batch.TargetLength, batch.SourceLength], pattern.Shape);
        int tq = batch.TargetLength, ts = batch.SourceLength;
        for (int b = 0; b < 2; b++)
            for (int h = 0; h < 2; h++)
                for (int i = 0; i < tq; i++)
                {
                    var row = pattern.Data.AsSpan(((b * 2 + h) * tq + i) * ts, ts);
                    double sum = 0;
                    for (int j = 0; j < ts; j++)
                    {
                        sum += row[j];
                        if (!batch.SourceMask[b * ts + j]) Assert.Equal(0f, row[j]);
                    }
                    Assert.Equal(1.0, sum, 1e-5);
                }
    }

    [Fact]
    public void Editing_the_cross_pattern_changes_the_loss_and_forbids_backward()
    {
        var model = new Seq2SeqModel(Config);
        var batch = Batch(model);
        float plain = model.Forward(batch);
        var hooks = new HookSet().Edit(n => n.EndsWith("cross_attn.hook_pattern", StringComparison.Ordinal), (_, values) => values.Span.Clear());
        float edited = model.Forward(batch, new ForwardOptions { Hooks = hooks });
        Assert.NotEqual(plain, edited);
        Assert.Throws<InvalidOperationException>(() => model.Backward());
        // an editor that writes back what it read leaves the reference path's loss at the kernel's (to rounding)
        float same = model.Forward(batch, new ForwardOptions { Hooks = new HookSet().Edit("decoder.blocks.0.cross_attn.hook_attn_scores", (_, _) => { }) });
        Assert.Equal(plain, same, 1e-5f);
    }

    [Fact]
    public void Gpt2_names_are_unchanged_and_parse_without_cross_points()
    {
        Assert.DoesNotContain(HookNames.For(DecoderConfig.Tiny), h => HookNames.IsCross(h.Point));
        Assert.False(HookNames.TryParse("blocks.0.cross_attn.hook_pattern", out _, out _));
        Assert.True(HookNames.TryParse("blocks.1.attn.hook_pattern", out var point, out int layer));
        Assert.Equal((HookPoint.Pattern, 1), (point, layer));
    }
}
