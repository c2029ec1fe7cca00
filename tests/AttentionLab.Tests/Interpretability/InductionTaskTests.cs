using AttentionLab.Interpretability;

namespace AttentionLab.Tests.Interpretability;

public class InductionTaskTests
{
    [Fact]
    public void The_text_repeats_every_segment_and_training_is_fixed_by_its_seed()
    {
        var text = InductionTask.Text(seed: 5, segments: 50);
        int at = 0, segments = 0;
        var random = new Random(5);
        while (at < text.Length)
        {
            int n = random.Next(6, 17);
            for (int i = 0; i < n; i++) random.Next(26);
            Assert.Equal(text.Substring(at, n), text.Substring(at + n, n));               // each segment twice
            at += 2 * n;
            segments++;
        }
        Assert.Equal(50, segments);
        var a = InductionTask.Train(seed: 5, steps: 20);
        var b = InductionTask.Train(seed: 5, steps: 20);
        Assert.Equal(a.Parameters.Data, b.Parameters.Data);
        Assert.NotEqual(InductionTask.Train(seed: 6, steps: 20).Parameters.Data, a.Parameters.Data);
    }
}
