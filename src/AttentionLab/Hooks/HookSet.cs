namespace AttentionLab.Hooks;

/// <summary>Where a hook is called: the activation's canonical name, its point and block, and its shape.</summary>
/// <param name="Shape">the activation's dimensions, e.g. (B, T, H, D) for <c>hook_z</c></param>
public readonly record struct HookContext(string Name, HookPoint Point, int Layer, int[] Shape);

/// <summary>Reads an activation during one forward pass; the values are valid only during the call (memory, so a
/// hook may split its work over the cores).</summary>
public delegate void ActivationReader(HookContext context, ReadOnlyMemory<float> values);

/// <summary>Reads and may overwrite an activation during one forward pass: what it leaves in
/// <paramref name="values"/> is what the rest of the forward pass uses.</summary>
public delegate void ActivationEditor(HookContext context, Memory<float> values);

/// <summary>
/// The hooks of one call (TransformerLens's <c>run_with_hooks(fwd_hooks=…)</c>): each names activations — one
/// canonical name (<see cref="HookNames"/>) or a filter over names — and reads or edits them. Nothing is stored on
/// the model: the same model serves a call with hooks and one without, one after the other or from other threads
/// with other views. Hooks run in the order they were added.
/// </summary>
public sealed class HookSet
{
    internal readonly List<(Func<string, bool> Matches, ActivationReader? Reader, ActivationEditor? Editor)> Entries = [];

    /// <summary>Reads the activation with this canonical name.</summary>
    public HookSet Read(string name, ActivationReader reader)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(reader);
        Entries.Add((n => n == name, reader, null));
        return this;
    }

    /// <summary>Reads every activation whose name passes <paramref name="filter"/>.</summary>
    public HookSet Read(Func<string, bool> filter, ActivationReader reader)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(reader);
        Entries.Add((filter, reader, null));
        return this;
    }

    /// <summary>Edits the activation with this canonical name in place.</summary>
    public HookSet Edit(string name, ActivationEditor editor)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(editor);
        Entries.Add((n => n == name, null, editor));
        return this;
    }

    /// <summary>Edits every activation whose name passes <paramref name="filter"/>.</summary>
    public HookSet Edit(Func<string, bool> filter, ActivationEditor editor)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(editor);
        Entries.Add((filter, null, editor));
        return this;
    }

    /// <summary>True when no hook was added.</summary>
    public bool IsEmpty => Entries.Count == 0;
}
