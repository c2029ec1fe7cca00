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
            ["train"] = (TrainCommand.Summary, TrainCommand.Run),
            ["generate"] = (GenerateCommand.Summary, GenerateCommand.Run),
            ["inspect"] = (InspectCommand.Summary, InspectCommand.Run),
            ["bench"] = (BenchCommand.Summary, BenchCommand.Run),
            ["devices"] = (DevicesCommand.Summary, DevicesCommand.Run),
        };

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            PrintHelp(stdout);
            return args.Length == 0 ? 2 : 0;
        }
        if (!Commands.TryGetValue(args[0], out var command))
        {
            stderr.WriteLine($"attnlab: unknown command '{args[0]}'. Run 'attnlab --help' for the list.");
            return 2;
        }
        try
        {
            return command.Run(args[1..], stdout, stderr);
        }
        catch (CliError e)
        {
            stderr.WriteLine($"attnlab {args[0]}: {e.Message}");
            return e.ExitCode;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or FormatException or ArgumentException or System.Text.Json.JsonException)
        {
            stderr.WriteLine($"attnlab {args[0]}: {e.Message}");
            return 2;
        }
        catch (OutOfMemoryException)
        {
            stderr.WriteLine($"attnlab {args[0]}: out of memory; try smaller sizes");
            return 3;
        }
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
