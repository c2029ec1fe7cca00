using AttentionLab.Inspection;
using AttentionLab.Tests.Generation;

namespace AttentionLab.Tests.Inspection;

public class HeadProbeTests
{
    private static readonly int[] Ids = [3, 14, 15, 9, 26, 5, 35, 8, 9, 7];

    /// <summary>The trace runs the model's own q, k, v in double: its weights equal the model's map of that head
    /// to 1e-5 (float rounding of the kernel).</summary>
    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 3)]
    public void The_trace_weights_are_the_models_attention_map(int layer, int head)
    {
        var model = TinyGpt2.Load();
        var report = DecoderInspector.Inspect(model, null, Ids);
        var trace = HeadProbe.Trace(model, Ids, layer, head);
        int T = Ids.Length;
        var map = report.Map(layer, head);
        for (int i = 0; i < T; i++)
            for (int j = 0; j < T; j++) Assert.Equal(map[i * T + j], trace.Weights[i, j], 1e-5);
        Assert.True(trace.IsCausal);
        Assert.Equal(1 / Math.Sqrt(model.Config.HeadDim), trace.Scale, 1e-7);  // the model keeps its scale as a float
    }

    [Fact]
    public void Dropping_the_scale_and_lowering_the_temperature_sharpen_the_rows()
    {
        var model = TinyGpt2.Random(7);
        var normal = HeadProbe.Trace(model, Ids, 1, 2);
        var unscaled = HeadProbe.Trace(model, Ids, 1, 2, scaled: false);
        var cold = HeadProbe.Trace(model, Ids, 1, 2, temperature: 0.1);
        Assert.Equal(1.0, unscaled.Scale, 12);
        Assert.Equal(normal.Scale / 0.1, cold.Scale, 9);
        double Mean(AttentionTrace t) => t.Entropy.Average();
        Assert.True(Mean(unscaled) < Mean(normal), $"unscaled {Mean(unscaled)} vs {Mean(normal)}");
        Assert.True(Mean(cold) < Mean(normal), $"cold {Mean(cold)} vs {Mean(normal)}");
        // the scores themselves do not depend on the scale: only the scaled ones do
        Assert.Equal(normal.Scores[5, 2], cold.Scores[5, 2], 9);
    }

    [Fact]
    public void The_models_kernel_is_restored_and_bad_indices_are_rejected()
    {
        var model = TinyGpt2.Load();
        var kernel = model.Attention;
        HeadProbe.Trace(model, Ids, 0, 1);
        Assert.Same(kernel, model.Attention);
        Assert.Contains("head must be in [0, 3]", Assert.Throws<ArgumentException>(() => HeadProbe.Trace(model, Ids, 0, 4)).Message);
        Assert.Contains("layer must be in [0, 1]", Assert.Throws<ArgumentException>(() => HeadProbe.Trace(model, Ids, 2, 0)).Message);
        Assert.Contains("temperature", Assert.Throws<ArgumentException>(() => HeadProbe.Trace(model, Ids, 0, 0, temperature: 0)).Message);
    }
}
