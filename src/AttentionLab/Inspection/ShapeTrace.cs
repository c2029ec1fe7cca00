using AttentionLab.IO;
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

    /// <summary>One block of a Llama-family decoder (every block has the same shapes), then the head; the shapes of
    /// modeling_llama.py's LlamaForCausalLM.forward for a batch of B sequences of T tokens.</summary>
    public static IReadOnlyList<ShapeStep> Llama(HfTransformerConfig c, int batch, int seqLength)
    {
        Positive(batch, "batch"); Positive(seqLength, "seq_len");
        int B = batch, T = seqLength, C = c.Channels, H = c.Heads, K = c.KeyValueHeads, D = c.HeadDim, I = c.IntermediateSize, V = c.VocabSize;
        int group = H / K;
        string bias = c.QkvBias ? " + b" : "";
        var steps = new List<ShapeStep>
        {
            new("input_ids", [B, T], "(B, T)", "token ids in [0, V)"),
            new("x = embed_tokens(input_ids)", [B, T, C], "(B, T, C)", "one C-vector per token; no position table: positions enter as rotations of q and k"),
            new("h = input_layernorm(x)", [B, T, C], "(B, T, C)", "RMSNorm: x / √(mean(x²) + ε) · g — no mean subtracted, no bias"),
            new($"q = q_proj(h){bias}", [B, T, H * D], "(B, T, H·D)", $"{H} query heads of D = {D}"),
            new($"k = k_proj(h){bias}", [B, T, K * D], "(B, T, Hkv·D)", $"only {K} key heads: grouped-query attention, {group} query heads per key head"),
            new($"v = v_proj(h){bias}", [B, T, K * D], "(B, T, Hkv·D)", $"{K} value heads, shared the same way"),
            new("q.view(B, T, H, D).transpose(1, 2)", [B, H, T, D], "(B, H, T, D)", "heads before time"),
            new("k.view(B, T, Hkv, D).transpose(1, 2)", [B, K, T, D], "(B, Hkv, T, D)", "what the KV cache stores per layer (v the same): Hkv, not H, heads"),
        };
        if (c.QkNorm) steps.Add(new("q, k = q_norm(q), k_norm(k)", [B, H, T, D], "(B, H, T, D)", "Qwen3: RMSNorm over each head's D channels"));
        steps.AddRange(
        [
            new("cos, sin = rotary_emb(positions)", [T, D], "(T, D)", $"angle t·θᵢ with θᵢ = {c.RopeTheta:0.#####}^(−2i/D), each frequency twice (rotate-half layout)"),
            new("q = q·cos + rotate_half(q)·sin", [B, H, T, D], "(B, H, T, D)", "RoPE: pairs (i, i + D/2) rotated by their position's angle; k the same"),
            new("k = repeat_kv(k, H / Hkv)", [B, H, T, D], "(B, H, T, D)", $"each key/value head repeated {group}× so every query head has its own view (v the same)"),
            new("scores = q @ kᵀ / √D", [B, H, T, T], "(B, H, T, T)", "query i against key j, per head; relative position is in the rotation"),
            new("weights = softmax(causal-masked scores)", [B, H, T, T], "(B, H, T, T)", c.SlidingWindow is int w
                ? $"keys j ≤ i only, and only the last {w} (Mistral's sliding window)" : "keys j ≤ i only"),
            new("z = (weights @ v).transpose(1, 2)", [B, T, H, D], "(B, T, H, D)", "each head's weighted average of values"),
            new("x = x + o_proj(z.reshape(B, T, H·D))", [B, T, C], "(B, T, C)", "heads mixed back to C, added to the residual stream"),
            new("h = post_attention_layernorm(x)", [B, T, C], "(B, T, C)", "RMSNorm"),
            new("gate = gate_proj(h), up = up_proj(h)", [B, T, I], "(B, T, I)", $"two projections to I = {I}"),
            new("a = silu(gate) · up", [B, T, I], "(B, T, I)", "SwiGLU: silu(g) = g·σ(g) gates the up projection element-wise"),
            new("x = x + down_proj(a)", [B, T, C], "(B, T, C)", $"back to C; the block repeats L = {c.Layers} times"),
            new("h = norm(x)", [B, T, C], "(B, T, C)", "final RMSNorm"),
            new(c.TiedOutput ? "logits = h @ embed_tokens.weightᵀ" : "logits = lm_head(h)", [B, T, V], "(B, T, V)",
                c.TiedOutput ? "tied: the embedding table scores the next token" : "untied: lm_head is its own (V, C) matrix"),
        ]);
        return steps;
    }

    /// <summary>One block of a GPT-2-style decoder (learned positions, LayerNorm, GELU MLP of 4C), then the tied head:
    /// GPT-2, and GPT-3's 175B shape.</summary>
    public static IReadOnlyList<ShapeStep> Gpt2(int batch, int seqLength, int dModel, int heads, int vocab, int maxLength, int layers)
    {
        Positive(batch, "batch"); Positive(seqLength, "seq_len"); Positive(dModel, "d_model"); Positive(heads, "heads"); Positive(vocab, "vocab");
        if (dModel % heads != 0) throw new ArgumentException($"heads ({heads}) must divide d_model ({dModel})");
        if (seqLength > maxLength) throw new ArgumentException($"seq_len ({seqLength}) is longer than max_len ({maxLength})");
        int B = batch, T = seqLength, C = dModel, H = heads, D = dModel / heads, V = vocab;
        return
        [
            new("input_ids", [B, T], "(B, T)", "token ids in [0, V)"),
            new("x = wte(input_ids) + wpe(arange(T))", [B, T, C], "(B, T, C)", $"token and learned position vectors (wpe has {maxLength} rows)"),
            new("h = ln_1(x)", [B, T, C], "(B, T, C)", "LayerNorm"),
            new("qkv = c_attn(h)", [B, T, 3 * C], "(B, T, 3C)", "q, k and v in one matrix product"),
            new("q, k, v → (B, H, T, D)", [B, H, T, D], "(B, H, T, D)", $"{H} heads of D = {D}"),
            new("scores = q @ kᵀ / √D", [B, H, T, T], "(B, H, T, T)", "every query against every key, per head"),
            new("weights = softmax(causal-masked scores)", [B, H, T, T], "(B, H, T, T)", "keys j ≤ i only"),
            new("z = weights @ v → (B, T, C)", [B, T, C], "(B, T, C)", "heads glued back together"),
            new("x = x + c_proj(z)", [B, T, C], "(B, T, C)", "residual"),
            new("m = gelu(c_fc(ln_2(x)))", [B, T, 4 * C], "(B, T, 4C)", "the MLP's hidden layer"),
            new("x = x + c_proj(m)", [B, T, C], "(B, T, C)", $"back to C; the block repeats L = {layers} times"),
            new("logits = ln_f(x) @ wteᵀ", [B, T, V], "(B, T, V)", "tied head"),
        ];
    }

    private static void Positive(int value, string name)
    {
        if (value <= 0) throw new ArgumentException($"{name} must be at least 1, got {value}");
    }
}
