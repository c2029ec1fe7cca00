namespace AttentionLab.Models;

/// <summary>
/// The size of the seed materials' GPTModel (pen-and-paper exercises, Parts 5–6). The defaults are the
/// exercises' "102M" model.
/// </summary>
/// <param name="VocabSize">V: rows of the token embedding and outputs of the head (o200k_base is ~200k tokens)</param>
/// <param name="DModel">C: the width of every token vector</param>
/// <param name="Heads">H: attention heads; must divide <paramref name="DModel"/></param>
/// <param name="MaxLength">T_max: rows of the position embedding, the longest input</param>
public sealed record SeedGptConfig(int VocabSize = 200000, int DModel = 256, int Heads = 4, int MaxLength = 256)
{
    /// <summary>
    /// token_embedding V·C + position_embedding T·C + 4 × Linear(C, C) (C·C + C each) + output_head V·C (no bias).
    /// For the defaults: 51,200,000 + 65,536 + 263,168 + 51,200,000 = 102,728,704.
    /// </summary>
    public long ParameterCount =>
        (long)VocabSize * DModel + (long)MaxLength * DModel + 4L * ((long)DModel * DModel + DModel) + (long)VocabSize * DModel;
}
