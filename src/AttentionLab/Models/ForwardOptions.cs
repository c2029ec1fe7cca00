using AttentionLab.Attention;
using AttentionLab.Hooks;

namespace AttentionLab.Models;

/// <summary>
/// What one forward pass runs with, beyond its tokens: another attention kernel, other masks, and hooks that read or
/// edit activations (<see cref="HookSet"/>). Arguments of the call, not state on the model, so nothing has to be
/// restored afterwards and a model view can serve differently configured requests one after the other.
/// </summary>
public sealed record ForwardOptions
{
    /// <summary>Nothing changed: the model's kernel and masks, no hooks.</summary>
    public static ForwardOptions None { get; } = new();

    /// <summary>The kernel for this call; null = the model's <see cref="DecoderModel.Attention"/>.</summary>
    public IAttentionKernel? Attention { get; init; }

    /// <summary>Scale and masks for this call (e.g. key positions hidden with <see cref="AttentionOptions.KeyPaddingMask"/>);
    /// null = the model's <see cref="DecoderModel.AttentionOptions"/>.</summary>
    public AttentionOptions? AttentionOptions { get; init; }

    /// <summary>Hooks on the canonical activations (<see cref="HookNames"/>); null = none.</summary>
    public HookSet? Hooks { get; init; }
}
