namespace AttentionLab.Attention;

/// <summary>
/// The attention kernels by name, for tests, benchmarks, models and the command line. A name is a
/// <see cref="AttentionKernelSpec"/>: the kernel's name, an optional main value and optional <c>key:value</c> options,
/// e.g. <c>"naive"</c>, <c>"flash"</c>, <c>"flash,tile:32"</c>, <c>"window:256,global:2"</c>, <c>"performer:64,seed:7"</c>.
/// Kernels are stateless and thread-safe once built.
/// </summary>
public static class AttentionKernels
{
    /// <summary>The plain loops every other kernel is tested against ("naive"; "reference" is an alias).</summary>
    public static IAttentionKernel Reference { get; } = new ScaledDotProductAttention();

    /// <summary>The fast materializing exact kernel (GEMM per head, SIMD softmax, parallel over heads).</summary>
    public static IAttentionKernel Fast { get; } = new FastAttention();

    /// <summary>The name models use unless told otherwise.</summary>
    public const string DefaultName = "fast";

    /// <summary>What models use unless told otherwise.</summary>
    public static IAttentionKernel Default => Fast;

    private static readonly Dictionary<string, Func<AttentionKernelSpec, IAttentionKernel>> Factories =
        new(StringComparer.OrdinalIgnoreCase)
        {
            ["naive"] = spec => { spec.NoOptions(); return Reference; },
            ["reference"] = spec => { spec.NoOptions(); return Reference; },
            ["fast"] = spec => { spec.NoOptions(); return Fast; },
        };

    /// <summary>How each kernel is written, for help texts and error messages.</summary>
    private static readonly List<string> Usages = ["naive", "fast"];

    /// <summary>Adds a kernel family to the registry (done once, by the kernels' static constructor below).</summary>
    internal static void Register(string name, string usage, Func<AttentionKernelSpec, IAttentionKernel> factory)
    {
        Factories[name] = factory;
        Usages.Add(usage);
    }

    static AttentionKernels() => AttentionKernelRegistrations.RegisterAll();

    /// <summary>Every registered way to write a kernel, in a stable order (e.g. "window:W[,global:G]").</summary>
    public static IReadOnlyList<string> Names => Usages;

    /// <summary>The kernel this text names, with its options.</summary>
    /// <exception cref="ArgumentException">unknown name or bad option; the message lists the known kernels</exception>
    public static IAttentionKernel Parse(string text)
    {
        var spec = AttentionKernelSpec.Parse(text);
        if (!Factories.TryGetValue(spec.Name, out var factory))
            throw new ArgumentException($"unknown attention kernel '{spec.Name}'; known kernels: {string.Join(", ", Usages)}");
        return factory(spec);
    }

    /// <summary>Same as <see cref="Parse"/>; kept for callers that look a kernel up by its plain name.</summary>
    public static IAttentionKernel Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Parse(name);
    }

    /// <summary>Like <see cref="Parse"/> but returns false instead of throwing.</summary>
    public static bool TryGet(string name, out IAttentionKernel kernel)
    {
        try { kernel = Parse(name); return true; }
        catch (ArgumentException) { kernel = null!; return false; }
    }
}

/// <summary>
/// A kernel name as typed: <c>name[:value][,key:value]...</c>. <see cref="Value"/> is the main value
/// ("window:256" → 256), <see cref="Options"/> the rest ("global:2").
/// </summary>
public sealed class AttentionKernelSpec
{
    public string Name { get; }
    public string? Value { get; }
    public IReadOnlyDictionary<string, string> Options { get; }
    private readonly string _text;

    private AttentionKernelSpec(string text, string name, string? value, Dictionary<string, string> options)
    {
        _text = text; Name = name; Value = value; Options = options;
    }

    public static AttentionKernelSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Trim().Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length == 0 || parts[0].Length == 0) throw new ArgumentException("the attention kernel name is empty");
        var (name, value) = Split(parts[0]);
        var options = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in parts.Skip(1))
        {
            var (key, v) = Split(part);
            if (key.Length == 0 || v is null) throw new ArgumentException($"attention kernel '{text}': option '{part}' must be written key:value");
            if (!options.TryAdd(key, v)) throw new ArgumentException($"attention kernel '{text}': option '{key}' is given twice");
        }
        return new AttentionKernelSpec(text, name, value, options);
    }

    private static (string, string?) Split(string part)
    {
        int colon = part.IndexOf(':');
        return colon < 0 ? (part, null) : (part[..colon].Trim(), part[(colon + 1)..].Trim());
    }

    /// <summary>Refuses a main value or options on a kernel that takes none.</summary>
    public void NoOptions()
    {
        if (Value is not null || Options.Count > 0) throw new ArgumentException($"attention kernel '{Name}' takes no options, got '{_text}'");
    }

    /// <summary>The main value as an integer in [min, max]; <paramref name="fallback"/> when absent (null: required).</summary>
    public int MainInt(string what, int min, int max, int? fallback = null) => ToInt(Value, what, min, max, fallback);

    /// <summary>Option <paramref name="key"/> as an integer in [min, max], or <paramref name="fallback"/> when absent.</summary>
    public int OptionInt(string key, int min, int max, int fallback) =>
        ToInt(Options.TryGetValue(key, out var v) ? v : null, key, min, max, fallback);

    /// <summary>Refuses options other than these.</summary>
    public void OnlyOptions(params string[] keys)
    {
        foreach (var key in Options.Keys)
            if (!keys.Contains(key, StringComparer.OrdinalIgnoreCase))
                throw new ArgumentException($"attention kernel '{Name}' has no option '{key}'" +
                    (keys.Length == 0 ? "" : $"; its options: {string.Join(", ", keys)}"));
    }

    private int ToInt(string? text, string what, int min, int max, int? fallback)
    {
        if (text is null)
            return fallback ?? throw new ArgumentException($"attention kernel '{Name}' needs {what}, e.g. '{Name}:{Math.Max(min, 64)}'");
        if (!int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int n) || n < min || n > max)
            throw new ArgumentException($"attention kernel '{_text}': {what} must be an integer from {min} to {max}, got '{text}'");
        return n;
    }

    public override string ToString() => _text;
}
