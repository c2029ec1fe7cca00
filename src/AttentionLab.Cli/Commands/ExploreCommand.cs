using System.Diagnostics;
using System.Text.Json.Nodes;
using AttentionLab.Explorer;

namespace AttentionLab.Cli.Commands;

/// <summary><c>attnlab explore</c>: starts the Explorer, the local web app over one or more models.</summary>
internal static class ExploreCommand
{
    public const string Summary = "open the Explorer: a local web app to see, take apart, edit and export attention";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        // --model may be given several times: take those out before the strict parser sees the rest
        var models = new List<string>();
        var rest = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--model")
            {
                if (i + 1 >= args.Length) throw new CliError("option --model needs a value");
                models.Add(args[++i]);
            }
            else if (args[i].StartsWith("--model=", StringComparison.Ordinal)) models.Add(args[i]["--model=".Length..]);
            else rest.Add(args[i]);
        }
        var a = new Args(rest.ToArray(), "no-browser", "bench");
        if (a.Help) { Usage(stdout); return 0; }
        if (a.Flag("bench")) return Bench(a, stdout);
        int port = a.Int("port", 5173, 0, 65535);
        bool noBrowser = a.Flag("no-browser");
        var runs = a.String("runs") ?? "runs";
        double minutes = a.Double("demo-minutes", 3, 0.05, 24 * 60);
        bool json = a.Json;
        var dtype = a.String("dtype") is { } d ? CommandSupport.WeightFormat(d) : (AttentionLab.Kernels.WeightFormat?)null;
        a.EnsureAllUsed();
        foreach (var m in models)
            if (!ModelCatalog.IsModelDirectory(m)) throw new CliError($"--model {m} is not a model directory (it needs config.json and model.safetensors)");

        var options = new ExplorerOptions
        {
            Models = models, RunsDirectory = runs, Port = port, WeightFormat = dtype,
            Log = new TextWriterLoggerProvider(stderr),                    // an internal error: one line in the page, the whole exception here
            Demo = new DemoTrainingSpec(DemoCommand.Model, DemoCommand.Training, AttentionLab.Datasets.TinyShakespeare.Source, TimeSpan.FromMinutes(minutes)),
        };
        ExplorerServer server;
        try { server = ExplorerServer.StartAsync(options).GetAwaiter().GetResult(); }
        catch (IOException e) { throw new CliError($"cannot listen on 127.0.0.1:{port}: {e.Message.Split('\n')[0]} (try --port 0 for any free port)"); }
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
        var listed = server.Api.Catalog.List();
        if (json) stdout.WriteLine(new JsonObject { ["address"] = server.Address.ToString(), ["models"] = new JsonArray(listed.Select(m => (JsonNode)m.Name).ToArray()) }.ToJsonString());
        else
        {
            stdout.WriteLine($"attnlab explore: {server.Address}  (Ctrl+C to stop)");
            stdout.WriteLine(listed.Count == 0
                ? $"no model yet: the page offers to train the demo model into {runs}/ (or run 'attnlab demo' first)"
                : $"models: {string.Join(", ", listed.Select(m => m.Name))}");
        }
        stdout.Flush();
        if (!noBrowser) OpenBrowser(server.Address.ToString());
        try { server.WaitForShutdownAsync(stop.Token).GetAwaiter().GetResult(); }
        catch (OperationCanceledException) { }
        server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return 0;
    }

    /// <summary><c>--bench</c>: p50/p95 latency of the page's map request, demo-sized model at 256 tokens and GPT-2 124M
    /// (random weights) at 1024 tokens, on loopback.</summary>
    private static int Bench(Args a, TextWriter stdout)
    {
        int requests = a.Int("requests", 20, 1, 10_000);
        int bigRequests = a.Int("big-requests", 5, 0, 1000);
        bool json = a.Json;
        a.EnsureAllUsed();
        var demo = DemoCommand.Model with { ContextLength = 256 };
        Print(ExplorerBenchmark.RunAsync("demo model (4L×4H×128, context 256)", demo, 256, requests).GetAwaiter().GetResult());
        if (bigRequests > 0)
            Print(ExplorerBenchmark.RunAsync("GPT-2 124M (random weights)", AttentionLab.Models.DecoderConfig.Gpt2_124M, 1024, bigRequests).GetAwaiter().GetResult());
        void Print(ExplorerLatency r)
        {
            if (json) stdout.WriteLine(new JsonObject
            {
                ["model"] = r.Model, ["parameters"] = r.Parameters, ["tokens"] = r.Tokens, ["requests"] = r.Requests, ["bytes"] = r.Bytes,
                ["p50_ms"] = Math.Round(r.Percentile(0.5), 1), ["p95_ms"] = Math.Round(r.Percentile(0.95), 1), ["max_ms"] = Math.Round(r.Milliseconds.Max(), 1),
                ["server_p50_ms"] = Math.Round(ExplorerLatency.Percentile(r.ServerMilliseconds, 0.5), 1),
            }.ToJsonString());
            else stdout.WriteLine($"{r.Model}: {r.Tokens} tokens, {r.Requests} requests, {r.Bytes / 1e6:0.0} MB each: p50 {r.Percentile(0.5):0} ms, p95 {r.Percentile(0.95):0} ms, max {r.Milliseconds.Max():0} ms (server computing: p50 {ExplorerLatency.Percentile(r.ServerMilliseconds, 0.5):0} ms)");
            stdout.Flush();
        }
        return 0;
    }

    /// <summary>Best effort: a missing opener (a server without a desktop) is not an error.</summary>
    private static void OpenBrowser(string url)
    {
        try
        {
            var opener = OperatingSystem.IsWindows() ? "explorer" : OperatingSystem.IsMacOS() ? "open" : "xdg-open";
            using var p = Process.Start(new ProcessStartInfo(opener, url) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true });
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException) { }
    }

    private static void Usage(TextWriter w)
    {
        w.WriteLine("usage: attnlab explore [--model DIR]... [--port P] [--no-browser] [--runs DIR] [--demo-minutes M] [--dtype f32|bf16|f16|q8_0] [--json]");
        w.WriteLine();
        w.WriteLine("Starts the Explorer on http://127.0.0.1:P/ (default 5173; 0 = any free port), bound to this machine only, and");
        w.WriteLine("opens it in a browser unless --no-browser. It opens the models given with --model (repeatable) and every model");
        w.WriteLine("under --runs (default runs/); with none, the page offers to train the demo model (--demo-minutes, default 3).");
        w.WriteLine("Views: model (every head), head (BertViz lines), one head step by step, heads at a glance (entropy and roles),");
        w.WriteLine("interventions (zero heads, hide tokens), generate step by step (KV cache), mask and kernel playground, compare;");
        w.WriteLine("each has a URL that redraws it, and exports PNG, SVG, JSON and a standalone HTML snapshot.");
        w.WriteLine("API: GET /api/models; POST /api/inspect {\"model\", \"text\" | \"ids\", \"attention\"?, \"layer\"?, \"head\"?, \"logits\"?}");
        w.WriteLine("returns what 'attnlab inspect --json' prints (\"logits\": false leaves out the T×V logits). See docs/explorer.md.");
        w.WriteLine("--json prints {\"address\", \"models\"} once the server listens.");
        w.WriteLine("--dtype f32|bf16|f16|q8_0 holds the block linears and the token table / head in that width (default: the folder's own:");
        w.WriteLine("a BF16 folder stays BF16, loaded without a float32 copy); activations, the KV cache and softmax stay float32 (docs/inference-dtypes.md).");

        w.WriteLine("--bench [--requests N] [--big-requests M] times the page's map request on loopback instead: a demo-sized model at 256");
        w.WriteLine("tokens (N requests, default 20) and GPT-2 124M with random weights at 1024 tokens (M requests, default 5; 0 skips it).");
    }
}
