using System.Globalization;

namespace AttentionLab.Cli;

/// <summary>
/// A small, strict option parser: <c>--name value</c>, <c>--name=value</c> and bare <c>--flag</c>.
/// Commands read what they know, then call <see cref="EnsureAllUsed"/> so a typo is an error, not ignored.
/// Every problem is a <see cref="CliError"/> (exit code 2).
/// <para>An option means the same thing in every command: <see cref="Synonyms"/> maps the other spellings to one
/// name, whichever of them the user types and whichever the command asks for.</para>
/// </summary>
public sealed class Args
{
    /// <summary>Other spelling → the option's name: text input is <c>--prompt</c>, the sequence length <c>--context</c>.</summary>
    public static IReadOnlyDictionary<string, string> Synonyms { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["text"] = "prompt",
        ["seq-len"] = "context",
        ["length"] = "context",
    };

    private static string Canonical(string name) => Synonyms.TryGetValue(name, out var c) ? c : name;

    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    /// <summary>Canonical name → the spelling the user typed, for messages.</summary>
    private readonly Dictionary<string, string> _typed = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags;
    private readonly HashSet<string> _missingValue = new(StringComparer.Ordinal);

    /// <param name="args">The arguments after the command name.</param>
    /// <param name="flags">Option names (without --) that take no value.</param>
    public Args(string[] args, params string[] flags)
    {
        _flags = new HashSet<string>(flags.Append("json").Append("help"), StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal) || a.Length == 2)
                throw new CliError($"unexpected argument '{a}' (options start with --)");
            var typed = a[2..];
            string? value = null;
            int eq = typed.IndexOf('=');
            if (eq >= 0) { value = typed[(eq + 1)..]; typed = typed[..eq]; }
            var name = Canonical(typed);
            if (_typed.TryGetValue(name, out var earlier))
                throw new CliError(earlier == typed ? $"option --{typed} given twice" : $"--{earlier} and --{typed} are the same option; give it once");
            _typed[name] = typed;
            if (eq < 0 && !_flags.Contains(name))
            {
                // A missing value is reported when the command reads the option, so that a trailing
                // unknown option is reported as unknown rather than as "needs a value".
                if (i + 1 >= args.Length) { _missingValue.Add(name); continue; }
                value = args[++i];
            }
            _values[name] = value;
        }
    }

    public bool Json => Flag("json");
    public bool Help => Flag("help");

    public bool Has(string name) { name = Canonical(name); _used.Add(name); ThrowIfMissingValue(name); return _values.ContainsKey(name); }

    /// <summary>The spelling the user typed for an option (or its name when absent).</summary>
    private string Typed(string name) => _typed.TryGetValue(Canonical(name), out var t) ? t : name;

    private void ThrowIfMissingValue(string name)
    {
        if (_missingValue.Contains(name)) throw new CliError($"option --{Typed(name)} needs a value");
    }

    public bool Flag(string name)
    {
        name = Canonical(name);
        _used.Add(name);
        if (!_values.TryGetValue(name, out var v)) return false;
        if (v is null) return true;
        throw new CliError($"option --{Typed(name)} takes no value");
    }

    public string? String(string name)
    {
        name = Canonical(name);
        _used.Add(name);
        ThrowIfMissingValue(name);
        return _values.TryGetValue(name, out var v) ? v : null;
    }

    /// <summary>A path option: absent is null, an empty value is refused.</summary>
    public string? Path(string name)
    {
        var s = String(name);
        if (s is not null && s.Trim().Length == 0) throw new CliError($"--{Typed(name)} needs a path, got an empty one");
        return s;
    }

    public string Require(string name) => String(name) ?? throw new CliError($"missing required option --{name}");

    /// <summary>A required path option (empty refused).</summary>
    public string RequirePath(string name) => Path(name) ?? throw new CliError($"missing required option --{name}");

    public int Int(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        var s = String(name);
        if (s is null) return fallback;
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
            throw new CliError($"--{Typed(name)} must be an integer, got '{s}'");
        if (v < min || v > max)
            throw new CliError(max == int.MaxValue ? $"--{Typed(name)} must be at least {min}, got {v}" : $"--{Typed(name)} must be in [{min}, {max}], got {v}");
        return v;
    }

    public int RequireInt(string name, int min = int.MinValue, int max = int.MaxValue)
    {
        if (!Has(name)) throw new CliError($"missing required option --{name}");
        return Int(name, 0, min, max);
    }

    public double Double(string name, double fallback, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        var s = String(name);
        if (s is null) return fallback;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
            throw new CliError($"--{Typed(name)} must be a finite number, got '{s}'");
        if (v < min || v > max) throw new CliError($"--{Typed(name)} must be in [{min}, {max}], got {v}");
        return v;
    }

    /// <summary>Throws for any option the command never asked about.</summary>
    public void EnsureAllUsed()
    {
        foreach (var name in _values.Keys.Concat(_missingValue))
            if (!_used.Contains(name)) throw new CliError($"unknown option --{Typed(name)}");
    }
}
