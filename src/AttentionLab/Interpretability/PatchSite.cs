namespace AttentionLab.Interpretability;

/// <summary>Which activation a patching sweep copies from the clean run into the corrupted one, cell by cell.</summary>
public enum PatchSite
{
    /// <summary><c>blocks.{l}.hook_resid_pre</c> at one position: a layer × position map.</summary>
    ResidPre,
    /// <summary><c>blocks.{l}.hook_attn_out</c> at one position: layer × position.</summary>
    AttnOut,
    /// <summary><c>blocks.{l}.hook_mlp_out</c> at one position: layer × position.</summary>
    MlpOut,
    /// <summary>One head's <c>blocks.{l}.attn.hook_z</c> at every position: a layer × head map.</summary>
    HeadZ,
}
