using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using AttentionLab.Diagnostics;

namespace AttentionLab.Cli.Commands;

/// <summary>
/// <c>attnlab bench fuzz</c>: the long fuzz run of every file reader (the test suite runs a few thousand cases of
/// each; this runs 10⁵ by default). Reports cases, clean refusals, crashes and hangs per reader; exits 1 when any
/// reader crashed or hung, printing the first crash.
/// </summary>
internal static class BenchFuzzCommand
{
    public const string Summary = "fuzz every file reader: cases, refusals, crashes, hangs [--cases N] [--seed S] [--json]";

    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        var a = new Args(argv);
        if (a.Help)
        {
            stdout.WriteLine("usage: attnlab bench fuzz [--cases N] [--seed S] [--reader NAME] [--hang-seconds H] [--json]");
            stdout.WriteLine("  --cases N         mutated files per reader (default 100000)");
            stdout.WriteLine("  --seed S          mutation seed (default 1); the same seed gives the same cases");
            stdout.WriteLine("  --reader NAME     only readers whose name contains NAME");
            stdout.WriteLine("  --hang-seconds H  a case running longer than this is a hang (default 10)");
            stdout.WriteLine("A reader passes when every case is read or refused with one clear line (InvalidDataException; for");
            stdout.WriteLine("--q/--k/--v matrices, the CLI's own error): 0 crashes, 0 hangs.");
            return 0;
        }
        int cases = a.Int("cases", 100_000, 1, 100_000_000);
        ulong seed = (ulong)a.Int("seed", 1, 0);
        string? only = a.String("reader");
        double hangSeconds = a.Double("hang-seconds", 10, 0.1, 3600);
        bool json = a.Json;
        a.EnsureAllUsed();

        using var targets = new ReaderFuzzTargets();
        var all = targets.All.Append(MatrixTarget(targets.WorkDirectory))
            .Where(t => only is null || t.Name.Contains(only, StringComparison.OrdinalIgnoreCase)).ToList();
        if (all.Count == 0) throw new CliError($"no reader matches '{only}' (readers: {string.Join(", ", targets.All.Select(t => t.Name).Append("matrix (--q @file)"))})");
        if (!json) stdout.WriteLine($"{"reader",-38} {"cases",9} {"read",8} {"refused",8} {"crashes",7} {"hangs",5} {"s",8} {"slowest ms",10}");
        var reports = new List<FuzzReport>();
        foreach (var t in all)
        {
            var r = ReaderFuzzer.Run(t, cases, seed, TimeSpan.FromSeconds(hangSeconds));
            reports.Add(r);
            if (!json)
            {
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{r.Name,-38} {r.Cases,9} {r.Accepted,8} {r.Refused,8} {r.Crashes,7} {r.Hangs,5} {r.Seconds,8:F1} {r.SlowestCaseMilliseconds,10:F1}"));
                if (r.FirstCrash is not null) stdout.WriteLine($"  first crash: {Cli.OneLine(r.FirstCrash)}");
                if (r.Hangs > 0) stdout.WriteLine($"  hung after {r.Cases} cases (over {hangSeconds} s on one case); stopped");
            }
        }
        if (json)
            stdout.WriteLine(new JsonObject
            {
                ["seed"] = seed,
                ["readers"] = new JsonArray(reports.Select(r => (JsonNode)new JsonObject
                {
                    ["reader"] = r.Name, ["cases"] = r.Cases, ["read"] = r.Accepted, ["refused"] = r.Refused, ["crashes"] = r.Crashes,
                    ["hangs"] = r.Hangs, ["seconds"] = Math.Round(r.Seconds, 2), ["slowest_case_ms"] = Math.Round(r.SlowestCaseMilliseconds, 2),
                    ["first_crash"] = r.FirstCrash,
                }).ToArray()),
            }.ToJsonString());
        else
            stdout.WriteLine($"total: {reports.Sum(r => r.Cases):N0} cases, {reports.Sum(r => r.Crashes)} crashes, {reports.Sum(r => r.Hangs)} hangs, {reports.Sum(r => r.Seconds):F0} s");
        return reports.Any(r => r.Crashes > 0 || r.Hangs > 0) ? 1 : 0;
    }

    /// <summary>The matrix reader of <c>attnlab attention --q @file</c>: a refusal is a <see cref="CliError"/>.</summary>
    internal static FuzzTarget MatrixTarget(string workDirectory)
    {
        var dir = Path.Combine(workDirectory, "matrix");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "q.json");
        byte[][] seeds = [Encoding.UTF8.GetBytes("[[1,0],[0,1]]"), Encoding.UTF8.GetBytes("[[0.5, -1.25e-3, 3],\n [1, 2, 3]]"), Encoding.UTF8.GetBytes("[[1,0,1],[true,false,0]]")];
        return new FuzzTarget("matrix (--q @file)", seeds, bytes =>
        {
            File.WriteAllBytes(path, bytes);
            MatrixInput.Numbers("q", "@" + path);
            try { MatrixInput.Mask("mask", "@" + path); } catch (CliError) { }
        }, IsRefusal: e => e is CliError);
    }
}
