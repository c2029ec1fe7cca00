using AttentionLab.Interpretability;
using AttentionLab.Tests.Generation;

namespace AttentionLab.Tests.Interpretability;

public class DirectLogitAttributionTests
{
    private static readonly int[] Ids = [3, 14, 15, 9, 26, 5, 35, 8, 9, 7];

    [Theory]
    [InlineData(41, 11, 30)]
    [InlineData(42, 5, null)]
    public void The_terms_sum_to_the_model_s_logit_difference(int seed, int token, int? other)
    {
        var model = TinyGpt2.Random(seed);
        var result = DirectLogitAttribution.Run(model, Ids, new PatchMetric(token, other));
        model.Forward(Ids, 1, Ids.Length);
        var last = model.Logits[^65..];
        float expected = other is { } b ? last[token] - last[b] : last[token];
        Assert.Equal(expected, result.Total);
        Assert.Equal(result.Total, result.Sum, 4);                                        // embeddings + heads + biases + MLPs + final biases
        Assert.Equal(1 + 1 + 2 * (4 + 1 + 1) + 1, result.Terms.Length);
        Assert.Equal(result.Heads[1 * 4 + 2], result.Terms.Single(t => t.Name == "blocks.1.attn.head.2").Value);
        Assert.Contains(result.Terms, t => t.Name.StartsWith("blocks.0.attn.head.", StringComparison.Ordinal) && Math.Abs(t.Value) > 1e-3);
    }

    [Fact]
    public void Each_head_s_result_is_its_share_of_the_attention_output()
    {
        var model = TinyGpt2.Random(43);
        var (_, cache) = model.RunWithCache(Ids, n => n is "blocks.0.attn.hook_result" or "blocks.0.hook_attn_out");
        var result = cache["blocks.0.attn.hook_result"];
        Assert.Equal([1, Ids.Length, 4, 32], result.Shape);
        var bias = model.Parameters[model.Layout.Blocks[0].AttentionProjectionBias!];
        var attnOut = cache["blocks.0.hook_attn_out"].Data;
        for (int r = 0; r < Ids.Length; r++)
            for (int i = 0; i < 32; i++)
            {
                float sum = bias[i];
                for (int h = 0; h < 4; h++) sum += result.Data[(r * 4 + h) * 32 + i];
                Assert.Equal(attnOut[r * 32 + i], sum, 5);
            }
        var plain = TinyGpt2.Random(43);
        plain.Forward(Ids, 1, Ids.Length);
        Assert.Equal(plain.Logits.ToArray(), model.Logits.ToArray());                      // reading it changes nothing
        Assert.Throws<InvalidOperationException>(() => model.RunWithHooks(Ids, new AttentionLab.Hooks.HookSet().Edit("blocks.0.attn.hook_result", (_, _) => { })));
    }

    [Fact]
    public void Hook_scale_is_the_final_layer_norm_s_divisor()
    {
        var model = TinyGpt2.Random(44);
        var (_, cache) = model.RunWithCache(Ids, n => n is "ln_final.hook_scale" or "blocks.1.hook_resid_post");
        var scale = cache["ln_final.hook_scale"];
        Assert.Equal([1, Ids.Length, 1], scale.Shape);
        var x = cache["blocks.1.hook_resid_post"].Data;
        for (int r = 0; r < Ids.Length; r++)
        {
            var row = x.AsSpan(r * 32, 32).ToArray();
            double mean = row.Average(), variance = row.Average(v => (v - mean) * (v - mean));
            Assert.Equal(Math.Sqrt(variance + 1e-5), scale.Data[r], 4);
        }
    }
}
