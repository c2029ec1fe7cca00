namespace AttentionLab.Inspection;

/// <summary>One tensor in a forward pass: the PyTorch expression that makes it, its shape and what it means.</summary>
/// <param name="Name">the PyTorch expression or parameter name</param>
/// <param name="Shape">the sizes</param>
/// <param name="Letters">the same shape in letters, e.g. <c>(B, T, C)</c></param>
/// <param name="Meaning">what the tensor holds, in one line</param>
public sealed record ShapeStep(string Name, int[] Shape, string Letters, string Meaning)
{
    /// <summary>PyTorch-style shape text, e.g. <c>(1, 4, 8)</c>.</summary>
    public string ShapeText => "(" + string.Join(", ", Shape) + ")";
}

/// <summary>
/// The shape of every tensor in the exercises' GPTModel forward pass (seed 004, Parts 1, 4 and 5): token and
/// position embeddings, one multi-head causal self-attention with four <c>Linear(C, C)</c> (query, key, value,
/// out), then <c>output_head</c> to vocabulary logits. Letters as in nanoGPT and llm.c: B batch, T sequence length,
/// C = d_model channels, H heads, D = C / H head size, V vocabulary.
/// </summary>
public static class ShapeTrace
{
    /// <summary>The forward pass of the exercises' GPTModel, in order.</summary>
    /// <param name="batch">B</param>
    /// <param name="seqLength">T, the number of tokens in each sequence</param>
    /// <param name="dModel">C</param>
    /// <param name="heads">H; must divide <paramref name="dModel"/></param>
    /// <param name="vocab">V</param>
    /// <param name="maxLength">rows of the position table (max_length); null means T. Must be ≥ T.</param>
    public static IReadOnlyList<ShapeStep> SeedGpt(int batch, int seqLength, int dModel, int heads, int vocab, int? maxLength = null)
    {
        Positive(batch, "batch"); Positive(seqLength, "seq_len"); Positive(dModel, "d_model");
        Positive(heads, "heads"); Positive(vocab, "vocab");
        int maxLen = maxLength ?? seqLength;
        Positive(maxLen, "max_len");
        if (dModel % heads != 0)
            throw new ArgumentException($"heads ({heads}) must divide d_model ({dModel}): each head gets d_model / heads channels, and {dModel} / {heads} is not a whole number");
        if (seqLength > maxLen)
            throw new ArgumentException($"seq_len ({seqLength}) is longer than max_len ({maxLen}): the position table has no row for position {maxLen}");
        int B = batch, T = seqLength, C = dModel, H = heads, D = dModel / heads, V = vocab;

        return
        [
            new("input_ids", [B, T], "(B, T)", "token ids: B sequences of T tokens, each an integer in [0, V)"),
            new("token_embedding.weight", [V, C], "(V, C)", "the learned table: one C-dim vector per vocabulary entry"),
            new("tok_emb = token_embedding(input_ids)", [B, T, C], "(B, T, C)", "row input_ids[b, t] of the table, looked up for every token"),
            new("pos_indices = arange(T)", [T], "(T)", "the positions 0, 1, …, T−1"),
            new("position_embedding.weight", [maxLen, C], "(max_len, C)", "the learned table: one C-dim vector per position up to max_len"),
            new("pos_emb = position_embedding(pos_indices)", [T, C], "(T, C)", "the vector for each position: where a token is, not what it is"),
            new("x = tok_emb + pos_emb", [B, T, C], "(B, T, C)", "added (pos_emb broadcast over B), so width stays C: what + where in one vector"),
            new("q = attention.query(x)", [B, T, C], "(B, T, C)", "Linear(C, C) applied to each token: what each token is looking for"),
            new("k = attention.key(x)", [B, T, C], "(B, T, C)", "Linear(C, C): what each token offers to be matched against"),
            new("v = attention.value(x)", [B, T, C], "(B, T, C)", "Linear(C, C): the content each token hands over when attended to"),
            new("q.view(B, T, H, D)", [B, T, H, D], "(B, T, H, D)", $"same numbers, the C = {C} channels split into H = {H} heads of D = {D}"),
            new("q.transpose(1, 2)", [B, H, T, D], "(B, H, T, D)", "heads moved before time: each (b, h) is an independent T×D attention problem (k, v the same)"),
            new("k.transpose(-2, -1)", [B, H, D, T], "(B, H, D, T)", "keys as columns, so q @ kᵀ multiplies (T×D)·(D×T)"),
            new("scores = q @ kᵀ / √D", [B, H, T, T], "(B, H, T, T)", "scores[b, h, i, j]: how well query i matches key j in head h, scaled by 1/√D"),
            new("mask = tril(ones(T, T))", [T, T], "(T, T)", "causal mask: 1 where key j ≤ query i; the rest become −inf before softmax"),
            new("weights = softmax(masked scores, dim=-1)", [B, H, T, T], "(B, H, T, T)", "each row sums to 1: how query i spreads its attention over the keys"),
            new("out = weights @ v", [B, H, T, D], "(B, H, T, D)", "per head, each token's weighted average of the value vectors it attends to"),
            new("out.transpose(1, 2)", [B, T, H, D], "(B, T, H, D)", "time back before heads (a strided view: not contiguous in memory)"),
            new("out.contiguous().view(B, T, C)", [B, T, C], "(B, T, C)", "copy into row-major order, then glue the H heads side by side: the concat"),
            new("x = attention.out(out)", [B, T, C], "(B, T, C)", "Linear(C, C) mixes the heads' results back into one C-dim vector per token"),
            new("logits = output_head(x)", [B, T, V], "(B, T, V)", "Linear(C, V), no bias: a score for every vocabulary entry as the next token"),
        ];
    }

    private static void Positive(int value, string name)
    {
        if (value <= 0) throw new ArgumentException($"{name} must be at least 1, got {value}");
    }
}
