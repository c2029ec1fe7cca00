using AttentionLab.Rendering;
using AttentionLab.Training;

namespace AttentionLab.Experiments;

/// <summary>The picture of an experiment: every setting's loss curves in its own colour (training batches faint, as a
/// moving mean; validation bold with dots); for <c>init-loss</c>, the untrained loss against ln V with the line y = ln V.</summary>
public static class ExperimentPlot
{
    /// <summary>Training-loss points averaged over this many steps (single batches are noisy).</summary>
    public const int Smoothing = 20;

    public static string Svg(ExperimentResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var palette = MultiCurveSvg.Palette;
        if (result.Runs.All(r => r.Steps == 0))
        {
            var points = result.Runs.Select(r => (Math.Log((int)r.Measures["vocab"]!), r.ValidationLoss)).ToList();
            var line = points.Select(p => (p.Item1, p.Item1)).OrderBy(p => p.Item1).ToList();
            return MultiCurveSvg.Render(
                [new CurveSeries("y = ln V (a uniform guess)", line, "#888", 1.5, Dashed: true),
                 new CurveSeries("untrained GPT's loss", points, palette[0], 0, Markers: true)],
                $"{result.Experiment}: the untrained loss is ln V", "ln V (V = vocabulary size)", "cross-entropy loss (nats)");
        }
        var series = new List<CurveSeries>();
        for (int i = 0; i < result.Runs.Count; i++)
        {
            var r = result.Runs[i];
            string colour = palette[i % palette.Length];
            series.Add(new CurveSeries(null, MovingMean(r.TrainCurve, Smoothing), colour, 1.0, Opacity: 0.45));
            series.Add(new CurveSeries($"{r.Setting} (val {r.ValidationLoss:0.000})", r.ValidationCurve.Select(p => ((double)p.Step, p.Loss)).ToList(), colour, 2.2, Markers: true));
        }
        return MultiCurveSvg.Render(series, $"{result.Experiment}: validation (bold) and training loss ({Smoothing}-step mean, faint)",
            "step", "cross-entropy loss (nats)");
    }

    private static List<(double X, double Y)> MovingMean(IReadOnlyList<LossPoint> points, int window)
    {
        var result = new List<(double, double)>();
        double sum = 0;
        for (int i = 0; i < points.Count; i++)
        {
            sum += points[i].Loss;
            if (i >= window) sum -= points[i - window].Loss;
            int n = Math.Min(i + 1, window);
            if (i % Math.Max(1, window / 4) == 0 || i == points.Count - 1) result.Add((points[i].Step, sum / n));
        }
        return result;
    }
}
