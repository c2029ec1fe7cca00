using AttentionLab.Hooks;
using AttentionLab.Models;
using AttentionLab.Ops;
using AttentionLab.Tensors;

namespace AttentionLab.Inspection;

/// <summary>
/// One forward pass of the exercises' GPTModel (<see cref="SeedGpt"/>) on one sequence, with every intermediate a
/// learner traces by hand (seed 004, Part 5 and Part 7 question 31):
/// <code>
/// token rows   = token_embedding.weight[ids]             (T, C)   one row looked up per id
/// position rows = position_embedding.weight[0..T)        (T, C)
/// x            = token rows + position rows              (T, C)
/// weights      = softmax(q·kᵀ/√D + causal mask)          (H, T, T) one matrix per head
/// concat       = heads side by side                      (T, C)
/// attended     = concat·W_Oᵀ + b_O                       (T, C)   attention.out
/// logits       = output_head(attended)                   (1, T, V)
/// loss         = mean_t CE(logits[0, t], ids[t + 1])     t = 0 … T−2: each id predicts the next
/// </code>
/// The numbers are the model's own (the same <see cref="SeedGpt.Forward"/> that is PyTorch-parity tested): the heads'
/// weights and the concat from its hooks (<c>blocks.0.attn.hook_pattern</c>, <c>blocks.0.attn.hook_z</c>), the rest
/// read back after the pass; nothing is recomputed here except the shifted cross-entropy.
/// An untrained model spreads its probability roughly evenly, so the loss sits near ln V.
/// </summary>
public sealed class SeedGptTrace
{
    public required SeedGptConfig Config { get; init; }
    /// <summary>(T) the input ids.</summary>
    public required int[] Ids { get; init; }
    public required long Parameters { get; init; }

    /// <summary>(T, C) token_embedding.weight[ids[t]].</summary>
    public required Tensor TokenRows { get; init; }
    /// <summary>(T, C) position_embedding.weight[t].</summary>
    public required Tensor PositionRows { get; init; }
    /// <summary>(T, C) their sum, the attention's input.</summary>
    public required Tensor Embedded { get; init; }
    /// <summary>(H, T, T) each head's causal attention weights.</summary>
    public required Tensor Weights { get; init; }
    /// <summary>(T, C) the heads' outputs side by side, before W_O.</summary>
    public required Tensor Concat { get; init; }
    /// <summary>(T, C) W_O's output: attention.out(concat).</summary>
    public required Tensor Attended { get; init; }
    /// <summary>(1, T, V) scores for every vocabulary entry as the next token.</summary>
    public required Tensor Logits { get; init; }

    /// <summary>(T − 1) ids[1..]: the token each position must predict.</summary>
    public required int[] Targets { get; init; }
    /// <summary>(T − 1) −ln softmax(logits[0, t])[ids[t + 1]].</summary>
    public required float[] PositionLosses { get; init; }
    /// <summary>Mean of <see cref="PositionLosses"/>; NaN for a single id (nothing to predict).</summary>
    public required float Loss { get; init; }

    /// <summary>ln V: the loss of a uniform guess over V tokens, what an untrained model should score.</summary>
    public double LnVocab => Math.Log(Config.VocabSize);

    public int Length => Ids.Length;
    public int Heads => Config.Heads;

    /// <summary>The entry the exercise asks about, <c>logits[0, 2, 7]</c>, clamped to the sequence and vocabulary:
    /// the score that token <c>Token</c> comes right after position <c>Position</c>.</summary>
    public (int Position, int Token, float Value) ExampleLogit
    {
        get
        {
            int t = Math.Min(2, Length - 1), v = Math.Min(7, Config.VocabSize - 1);
            return (t, v, Logits.Data[t * Config.VocabSize + v]);
        }
    }

    /// <summary>Builds the model from <paramref name="seed"/> and traces one pass over <paramref name="ids"/>.</summary>
    public static SeedGptTrace Run(SeedGptConfig config, int[] ids, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(config);
        Validate(config, ids);
        return Run(new SeedGpt(config, seed: seed), ids);
    }

    /// <summary>Traces one pass of an existing model (e.g. one loaded with PyTorch's weights).</summary>
    /// <param name="ids">(T) token ids, 1 ≤ T ≤ max_length</param>
    public static SeedGptTrace Run(SeedGpt model, int[] ids)
    {
        ArgumentNullException.ThrowIfNull(model);
        var config = model.Config;
        Validate(config, ids);
        int T = ids.Length, C = config.DModel, V = config.VocabSize, H = config.Heads;

        // the heads' weights and their concat are read through hooks, as every architecture's are
        string pattern = HookNames.Name(HookPoint.Pattern, 0), concat = HookNames.Name(HookPoint.Z, 0);
        var (recorder, cache) = ActivationCache.Recorder(n => n == pattern || n == concat);
        var logits = model.Forward(ids, 1, T, new ForwardOptions { Hooks = recorder });  // (1, T, V)
        var tokenRows = new Tensor(T, C);
        var positionRows = new Tensor(T, C);
        for (int t = 0; t < T; t++)
        {
            model.TokenEmbedding.Slice(ids[t] * C, C).CopyTo(tokenRows.Data.AsSpan(t * C, C));
            model.PositionEmbedding.Slice(t * C, C).CopyTo(positionRows.Data.AsSpan(t * C, C));
        }

        var targets = ids[1..];                                                     // (T − 1)
        var losses = new float[targets.Length];
        float loss = targets.Length == 0 ? float.NaN
            : CrossEntropy.Forward(logits.Data.AsSpan(0, targets.Length * V), targets, V, losses, default);

        return new SeedGptTrace
        {
            Config = config,
            Ids = (int[])ids.Clone(),
            Parameters = model.ParameterCount,
            TokenRows = tokenRows,
            PositionRows = positionRows,
            Embedded = model.LastEmbedded!.View(T, C),
            Weights = cache[pattern].View(H, T, T),                                 // (1, H, T, T) → (H, T, T)
            Concat = cache[concat].View(T, C),                                      // (1, T, H, D) → (T, C)
            Attended = model.LastAttended!.View(T, C),
            Logits = logits,
            Targets = targets,
            PositionLosses = losses,
            Loss = loss,
        };
    }

    private static void Validate(SeedGptConfig config, int[] ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (config.VocabSize <= 0 || config.DModel <= 0 || config.Heads <= 0 || config.MaxLength <= 0)
            throw new ArgumentException($"vocab, d_model, heads and max_len must be at least 1, got {config.VocabSize}, {config.DModel}, {config.Heads}, {config.MaxLength}");
        if (config.DModel % config.Heads != 0)
            throw new ArgumentException($"heads ({config.Heads}) must divide d_model ({config.DModel}): each head gets d_model / heads channels");
        if (ids.Length == 0) throw new ArgumentException("give at least one token id");
        if (ids.Length > config.MaxLength)
            throw new ArgumentException($"{ids.Length} ids but max_len is {config.MaxLength}: the position table has no row for position {config.MaxLength}");
        foreach (var id in ids)
            if ((uint)id >= (uint)config.VocabSize)
                throw new ArgumentException($"token id {id} is outside the vocabulary 0..{config.VocabSize - 1}");
    }
}
