using System.Diagnostics;
using System.Text;
using System.Text.Json;
using AttentionLab.IO;
using AttentionLab.Models;

namespace AttentionLab.Explorer;

/// <summary>Latency of the page's map request for one model size and input length.</summary>
/// <param name="Milliseconds">each timed request, request sent → last byte received</param>
/// <param name="ServerMilliseconds">the server's own time computing each answer (its Server-Timing header), the rest
/// being the request, the transfer and the client</param>
public sealed record ExplorerLatency(string Model, long Parameters, int Tokens, int Requests, double[] Milliseconds, double[] ServerMilliseconds, long Bytes)
{
    public double Percentile(double p) => Percentile(Milliseconds, p);

    public static double Percentile(double[] values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}

/// <summary>
/// Times POST /api/maps on loopback (the page's one request for every map of an input: thumbnails of all heads plus
/// the full maps of one layer) against a real server, over a model with random weights of the given size saved to a
/// temporary folder. Each request has a different input, so the server's report cache never answers it.
/// </summary>
public static class ExplorerBenchmark
{
    public static async Task<ExplorerLatency> RunAsync(string name, DecoderConfig config, int tokens, int requests, int warmup = 2)
    {
        if (tokens < 1 || tokens > config.ContextLength) throw new ArgumentException($"tokens must be in [1, {config.ContextLength}], got {tokens}");
        var dir = Path.Combine(Path.GetTempPath(), "attnlab-explorer-bench-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var model = new DecoderModel(config, training: false);
            model.InitializeWeights(1234);
            DecoderFolder.Save(model, dir);
            await using var server = await ExplorerServer.StartAsync(new ExplorerOptions { Models = [dir], RunsDirectory = null, Port = 0, ViewsPerModel = 1 });
            using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(10) };
            var modelName = Path.GetFileName(dir);
            var rng = new Random(7);
            var times = new List<double>();
            var serverTimes = new List<double>();
            long bytes = 0;
            for (int r = 0; r < warmup + requests; r++)
            {
                var ids = Enumerable.Range(0, tokens).Select(_ => rng.Next(config.VocabSize)).ToArray();
                var body = JsonSerializer.Serialize(new { model = modelName, ids, layer = 0, thumb = 64 });
                var clock = Stopwatch.StartNew();
                using var response = await http.PostAsync("/api/maps", new StringContent(body, Encoding.UTF8, "application/json"));
                var data = await response.Content.ReadAsByteArrayAsync();
                clock.Stop();
                if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"the server answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(data)}");
                if (r >= warmup)
                {
                    times.Add(clock.Elapsed.TotalMilliseconds);
                    serverTimes.Add(ServerTiming(response));
                    bytes = data.Length;
                }
            }
            return new ExplorerLatency(name, model.ParameterCount, tokens, requests, times.ToArray(), serverTimes.ToArray(), bytes);
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>The "dur" of the response's Server-Timing header, in ms (NaN when absent).</summary>
    private static double ServerTiming(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Server-Timing", out var values)) return double.NaN;
        foreach (var part in string.Join(';', values).Split(';'))
            if (part.Trim().StartsWith("dur=", StringComparison.Ordinal)
                && double.TryParse(part.Trim()[4..], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double ms))
                return ms;
        return double.NaN;
    }
}
