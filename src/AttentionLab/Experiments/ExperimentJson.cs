using System.Text.Json.Nodes;
using AttentionLab.Training;

namespace AttentionLab.Experiments;

/// <summary>
/// The JSON of an <see cref="ExperimentResult"/>, what <c>attnlab experiment NAME --json</c> prints:
/// <code>
/// { "experiment", "claim", "finding", "setup": {…},
///   "runs": [{ "setting", "steps", "train_loss", "val_loss", "seconds", "parameters", …measures,
///              "curve": {"train": [[step, loss]…] (every 10th step), "val": [[step, loss]…]} }] }
/// </code>
/// </summary>
public static class ExperimentJson
{
    public static JsonObject ToJson(ExperimentResult result, bool includeCurves = true)
    {
        ArgumentNullException.ThrowIfNull(result);
        var runs = new JsonArray();
        foreach (var r in result.Runs)
        {
            var o = new JsonObject
            {
                ["setting"] = r.Setting,
                ["steps"] = r.Steps,
                ["train_loss"] = Round(r.TrainLoss),
                ["val_loss"] = Round(r.ValidationLoss),
                ["seconds"] = Math.Round(r.Seconds, 3),
                ["parameters"] = r.Parameters,
            };
            foreach (var (key, value) in r.Measures) o[key] = value?.DeepClone();
            if (includeCurves)
                o["curve"] = new JsonObject
                {
                    ["train"] = Points(r.TrainCurve.Where((p, i) => i % 10 == 0 || i == r.TrainCurve.Count - 1)),
                    ["val"] = Points(r.ValidationCurve),
                };
            runs.Add(o);
        }
        return new JsonObject
        {
            ["experiment"] = result.Experiment,
            ["claim"] = result.Claim,
            ["finding"] = result.Finding,
            ["setup"] = result.Setup.DeepClone(),
            ["runs"] = runs,
        };
    }

    /// <summary>A finite double rounded to 5 decimals, or null (JSON has no NaN).</summary>
    public static JsonNode? Round(double value) => double.IsFinite(value) ? JsonValue.Create(Math.Round(value, 5)) : null;

    /// <summary>(rows, cols) values as nested arrays, rounded.</summary>
    public static JsonArray Matrix(double[] values, int rows, int cols)
    {
        var a = new JsonArray();
        for (int r = 0; r < rows; r++)
        {
            var row = new JsonArray();
            for (int c = 0; c < cols; c++) row.Add(Round(values[r * cols + c]));
            a.Add(row);
        }
        return a;
    }

    private static JsonArray Points(IEnumerable<LossPoint> points)
    {
        var a = new JsonArray();
        foreach (var p in points) a.Add(new JsonArray(p.Step, Round(p.Loss)));
        return a;
    }
}
