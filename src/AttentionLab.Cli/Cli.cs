using AttentionLab.Cli.Commands;

namespace AttentionLab.Cli;

/// <summary>Entry point shared by Program and the tests: dispatches a command, maps errors to exit codes.</summary>
public static class Cli
{
    /// <summary>Every command: name → (one-line summary, handler). Handlers return the exit code.</summary>
    public static readonly IReadOnlyDictionary<string, (string Summary, Func<string[], TextWriter, TextWriter, int> Run)> Commands =
        new Dictionary<string, (string, Func<string[], TextWriter, TextWriter, int>)>
        {
            ["demo"] = (DemoCommand.Summary, DemoCommand.Run),
            ["attention"] = (AttentionCommand.Summary, AttentionCommand.Run),
            ["shapes"] = (ShapesCommand.Summary, ShapesCommand.Run),
            ["params"] = (ParamsCommand.Summary, ParamsCommand.Run),
            ["seed-gpt"] = (SeedGptCommand.Summary, SeedGptCommand.Run),
            ["exercises"] = (ExercisesCommand.Summary, ExercisesCommand.Run),
            ["train"] = (TrainCommand.Summary, TrainCommand.Run),
            ["generate"] = (GenerateCommand.Summary, GenerateCommand.Run),
            ["inspect"] = (InspectCommand.Summary, InspectCommand.Run),
            ["compare-dtype"] = (CompareDtypeCommand.Summary, CompareDtypeCommand.Run),
            ["hooks"] = (HooksCommand.Summary, HooksCommand.Run),
            ["analyze"] = (AnalyzeCommand.Summary, AnalyzeCommand.Run),
            ["explore"] = (ExploreCommand.Summary, ExploreCommand.Run),
            ["bench"] = (BenchCommand.Summary, BenchCommand.Run),
            ["devices"] = (DevicesCommand.Summary, DevicesCommand.Run),
            ["seq2seq"] = (Seq2SeqCommand.Summary, Seq2SeqCommand.Run),
            ["bert"] = (BertCommand.Summary, BertCommand.Run),
            ["vit"] = (VitCommand.Summary, VitCommand.Run),
            ["experiment"] = (ExperimentCommand.Summary, ExperimentCommand.Run),
        };

    /// <summary>The version <c>attnlab --version</c> prints: the assembly's informational version.</summary>
    public static string Version =>
        typeof(Cli).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0)
        {
            // not a request for help: the usage goes with the error to stderr, so scripts see why it failed
            stderr.WriteLine("attnlab: missing command");
            PrintHelp(stderr);
            return 2;
        }
        if (args[0] is "-h" or "--help" or "help")
        {
            PrintHelp(stdout);
            return 0;
        }
        if (args[0] is "--version" or "version")
        {
            stdout.WriteLine($"attnlab {Version}");
            return 0;
        }
        if (!Commands.TryGetValue(args[0], out var command))
        {
            stderr.WriteLine($"attnlab: unknown command '{OneLine(args[0])}'. Run 'attnlab --help' for the list.");
            return 2;
        }
        // the prefix names the subcommand too: "attnlab bench generate: ..."
        string prefix = args[0] == "bench" && args.Length > 1 && BenchCommand.Subcommands.ContainsKey(args[1]) ? $"attnlab bench {args[1]}" : $"attnlab {args[0]}";
        try
        {
            return command.Run(args[1..], stdout, stderr);
        }
        catch (CliError e)
        {
            stderr.WriteLine($"{prefix}: {OneLine(e.Message)}");
            return e.ExitCode;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or FormatException or ArgumentException
                                       or System.Text.Json.JsonException or NotSupportedException)
        {
            stderr.WriteLine($"{prefix}: {OneLine(e.Message)}");
            return 2;
        }
        catch (OutOfMemoryException)
        {
            stderr.WriteLine($"{prefix}: out of memory; try smaller sizes");
            return 3;
        }
    }

    /// <summary>
    /// A message as one line: line breaks folded, and .NET's " (Parameter 'x')" suffix dropped (it names a C#
    /// parameter the user never saw).
    /// </summary>
    public static string OneLine(string message)
    {
        var s = System.Text.RegularExpressions.Regex.Replace(message, @"\s*\(Parameter '[^']*'\)", "");
        s = System.Text.RegularExpressions.Regex.Replace(s, @"\s*[\r\n]+\s*", " ");
        return s.Trim();
    }

    private static void PrintHelp(TextWriter w)
    {
        w.WriteLine("attnlab — attention and GPT from first principles");
        w.WriteLine();
        w.WriteLine("usage: attnlab <command> [options]   (every command takes --help and --json)");
        w.WriteLine();
        foreach (var (name, (summary, _)) in Commands) w.WriteLine($"  {name,-10} {summary}");
    }
}
