using AttentionLab.Attention;
using AttentionLab.Inspection;
using AttentionLab.Models;
using AttentionLab.Ops;
using AttentionLab.Tensors;
using static AttentionLab.Workbook.AnswerValue;

namespace AttentionLab.Workbook;

/// <summary>
/// The pen-and-paper exercises of the seed materials ("Attention &amp; GPT — Pen-and-Paper Exercises", seed 004,
/// Parts 1–7, questions 1–31), each worked step by step from the library's own numbers: shapes from real tensors
/// and the model's forward pass, attention from <see cref="AttentionTrace"/>, parameter counts from
/// <see cref="ParameterCount"/> and the model itself, softmax from <see cref="Ops.Softmax"/>. Nothing here is
/// typed in: change the library and the answers change with it (the tests check them against hand values).
/// </summary>
public static class PenAndPaperExercises
{
    /// <summary>Part 2's matrices: 1 batch, 1 head, 3 tokens, head_dim 2.</summary>
    public static readonly double[,] Q = { { 1, 0 }, { 0, 1 }, { 1, 1 } };
    public static readonly double[,] K = { { 1, 0 }, { 0, 1 }, { 1, 1 } };
    public static readonly double[,] V = { { 1, 2 }, { 3, 4 }, { 5, 6 } };

    private static readonly Lazy<IReadOnlyList<Exercise>> Cache = new(Build);

    /// <summary>Part number → its title and setting, as the exercises state them.</summary>
    public static readonly IReadOnlyDictionary<int, string> Parts = new Dictionary<int, string>
    {
        [1] = "Shapes & Dimensions (d_model 8, n_heads 2, seq_len 4, batch 1, vocab 50)",
        [2] = "Scaled dot-product attention by hand (Q = K = [[1,0],[0,1],[1,1]], V = [[1,2],[3,4],[5,6]], head_dim 2)",
        [3] = "Causal masking (same Q, K, V)",
        [4] = "Multi-head attention (d_model 8, n_heads 2, head_dim 4, seq_len 3)",
        [5] = "GPT forward pass trace (vocab 50, d_model 4, n_heads 2, max_length 3, input_ids [[7, 12, 3]])",
        [6] = "Parameter counting (vocab 200,000, d_model 256, n_heads 4, max_length 256)",
        [7] = "Conceptual questions",
    };

    /// <summary>All 31 questions in order.</summary>
    public static IReadOnlyList<Exercise> All => Cache.Value;

    /// <summary>The question with this id ("Q8", "q8" or "8"), or null.</summary>
    public static Exercise? Find(string id)
    {
        var key = id.Trim().ToUpperInvariant();
        if (!key.StartsWith('Q')) key = "Q" + key;
        return All.FirstOrDefault(e => e.Id == key);
    }

    private static ExerciseStep S(string key, string what, AnswerValue value, string working, params AnswerValue[] also) =>
        new(key, what, value, working, also.Length == 0 ? null : also);

    private static string Shape(IReadOnlyList<int> s) => "(" + string.Join(", ", s) + ")";

    private static double[] Row(double[,] m, int r) => Enumerable.Range(0, m.GetLength(1)).Select(c => m[r, c]).ToArray();

    private static IReadOnlyList<Exercise> Build()
    {
        var list = new List<Exercise>();
        Part1(list); Part2And3(list); Part4(list); Part5(list); Part6(list); Part7(list);
        return list;
    }

    // Part 1: d_model 8, n_heads 2, seq_len 4, batch 1, vocab 50 — shapes read off a real forward pass
    private static void Part1(List<Exercise> list)
    {
        var config = new SeedGptConfig(VocabSize: 50, DModel: 8, Heads: 2, MaxLength: 4);
        var model = new SeedGpt(config);
        string query = Hooks.HookNames.Name(Hooks.HookPoint.Q, 0), pattern = Hooks.HookNames.Name(Hooks.HookPoint.Pattern, 0);
        var (recorder, cache) = Hooks.ActivationCache.Recorder(n => n == query || n == pattern);
        var logits = model.Forward([7, 12, 3, 25], 1, 4, new ForwardOptions { Hooks = recorder }); // (1, 4, 50)
        var q = cache[query].View(1, 4, 8);                                         // self.query(x), (B, T, C)
        var viewed = q.View(1, 4, 2, 4);                                            // (B, T, H, D)
        var split = viewed.Transpose(1, 2);                                         // (B, H, T, D)
        var scores = cache[pattern];                                                // (B, H, T, T)
        int headDim = model.HeadDim;

        list.Add(new("Q1", 1, "What is head_dim?",
            [S("head_dim", "d_model / n_heads", Integer(headDim), $"head_dim = d_model / n_heads = 8 / 2 = {headDim}")],
            "Each head works on its own slice of the channels.",
            [new("head_dim", Integer(16), "multiplied d_model by n_heads instead of dividing")]));
        list.Add(new("Q2", 1, "Shape of self.query(x) for x of shape (1, 4, 8)?",
            [S("shape", "Linear(8, 8) on the last dimension", Integers(q.Shape), $"Linear(8, 8) maps the last dimension 8 → 8; batch and sequence pass through: {Shape(q.Shape)}")],
            "nn.Linear acts on the last dimension only, and d_model → d_model keeps its size.", []));
        list.Add(new("Q3", 1, "Shape of Q after .view(1, 4, 2, 4).transpose(1, 2)?",
            [S("view", "split C into (H, D)", Integers(viewed.Shape), $"view: (1, 4, 8) → {Shape(viewed.Shape)} = (batch, seq_len, n_heads, head_dim)"),
             S("shape", "heads before tokens", Integers(split.Shape), $"transpose(1, 2): {Shape(split.Shape)} = (batch, n_heads, seq_len, head_dim)")],
            "(batch, heads, tokens, head_dim): each (batch, head) pair is an independent attention problem over the tokens.",
            [new("shape", Integers([1, 4, 2, 4]), "stopped after the view: the transpose swaps dims 1 and 2")]));
        list.Add(new("Q4", 1, "Shape of scores = Q @ K.transpose(-2, -1)?",
            [S("shape", "(.., T, D) @ (.., D, T)", Integers(scores.Shape), $"(1, 2, 4, 4) @ (1, 2, 4, 4)ᵀ → {Shape(scores.Shape)}")],
            "scores[b, h, i, j] = how well query i matches key j in head h: one score per (query, key) pair.", []));
        list.Add(new("Q5", 1, "Shape of logits = self.output_head(x)?",
            [S("shape", "Linear(8, 50) on each token", Integers(logits.Shape), $"{Shape(logits.Shape)} = (batch, seq_len, vocab_size)")],
            "One score per vocabulary entry, at every position: every position predicts its next token.", []));
    }

    // Parts 2 and 3: Q = K = [[1,0],[0,1],[1,1]], V = [[1,2],[3,4],[5,6]]
    private static void Part2And3(List<Exercise> list)
    {
        var t = AttentionTrace.Compute(Q, K, V);
        var c = AttentionTrace.Compute(Q, K, V, isCausal: true);
        var unscaled = AttentionTrace.Compute(Q, K, V, scale: 1);
        var byHeadDim = AttentionTrace.Compute(Q, K, V, scale: 0.5);
        double root = 1 / t.Scale;                                                  // √head_dim
        var scaled0 = Row(t.Scaled, 0);
        var plainExp = scaled0.Select(Math.Exp).ToArray();                          // the hint's e^a, e^b, e^c
        var shiftedExp = Row(t.Exp, 0);                                             // with the row max subtracted
        var weights0 = Row(t.Weights, 0);

        list.Add(new("Q6", 2, "Raw scores Q @ Kᵀ",
            [S("scores", "scores[i, j] = q_i · k_j", Matrix(t.Scores), "row 1: [1·1+0·0, 1·0+0·1, 1·1+0·1] = [1, 0, 1]; row 3: [1, 1, 2]")],
            "Each entry is a dot product: how much query i points the same way as key j.", []));
        list.Add(new("Q7", 2, "Scaled scores: divide by √head_dim",
            [S("sqrt_head_dim", "√2", Number(root), $"√head_dim = √2 = {Format(root)}"),
             S("scaled", "scores / √2", Matrix(t.Scaled), $"1 / {Format(root)} = {Format(t.Scale)}, 2 / {Format(root)} = {Format(2 * t.Scale)}")],
            "",
            [new("scaled", Matrix(byHeadDim.Scaled), "divided by head_dim (2) instead of √head_dim"),
             new("scaled", Matrix(t.Scores), "did not scale at all")]));
        list.Add(new("Q8", 2, "Softmax of row 1 of the scaled scores",
            [S("row", "row 1 of the scaled scores", Vector(scaled0), "[0.7071, 0, 0.7071]"),
             S("exp", "e^a for each entry", Vector(plainExp), $"e^{Format(scaled0[0])} = {Format(plainExp[0])}, e^0 = 1",
                 Vector(shiftedExp)),
             S("sum", "Σ e^a", Number(plainExp.Sum()), $"{Format(plainExp[0])} + 1 + {Format(plainExp[2])} = {Format(plainExp.Sum())}",
                 Number(shiftedExp.Sum())),
             S("weights", "e^a / Σ", Vector(weights0), $"{Format(plainExp[0])} / {Format(plainExp.Sum())} = {Format(weights0[0])}, 1 / {Format(plainExp.Sum())} = {Format(weights0[1])}")],
            "Tokens 1 and 3 get equal weight (equal scores); token 2, orthogonal to q1, gets less.",
            [new("row", Vector(Row(unscaled.Weights, 0)), "took softmax of the raw scores [1, 0, 1]: the scaling by 1/√2 (Q7) was skipped"),
             new("row", Vector(Row(byHeadDim.Weights, 0)), "divided by head_dim = 2 instead of √2 before softmax"),
             new("exp", Vector(scaled0.Select(s => s / scaled0.Sum()).ToArray()), "normalised the scores without exponentiating them")]));
        var context = Row(t.Output, 0);
        list.Add(new("Q9", 2, "Row 1's weights times V: the context vector of token 1",
            [S("context", "Σ_j w_j·v_j", Vector(context),
                $"{Format(weights0[0])}·[1, 2] + {Format(weights0[1])}·[3, 4] + {Format(weights0[2])}·[5, 6] = [{Format(context[0])}, {Format(context[1])}]")],
            "A weighted average of the value vectors: what token 1 gathers from the sequence, mostly from the tokens its query matches.",
            [new("context", Vector(Row(unscaled.Output, 0)), "used the unscaled weights")]));

        var mask = new double[3, 3];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) mask[i, j] = c.Visible[i, j] ? 1 : 0;
        list.Add(new("Q10", 3, "The mask torch.tril(torch.ones(3, 3))",
            [S("mask", "1 on and below the diagonal", Matrix(mask), "row i keeps columns j ≤ i")], "", []));
        list.Add(new("Q11", 3, "Scaled scores with -inf where mask == 0",
            [S("masked", "future keys → -inf", Matrix(c.Masked), "write -inf as \"-inf\" in the answers file")], "",
            [new("masked", Matrix(AttentionTrace.Compute(Q, K, V, isCausal: true, scale: 1).Masked), "masked the raw scores: the 1/√2 scaling is missing")]));
        var causal0 = Row(c.Weights, 0);
        list.Add(new("Q12", 3, "Softmax of masked row 1",
            [S("weights", "softmax([0.7071, -inf, -inf])", Vector(causal0), "e^-inf = 0, so all weight goes to the only visible key")],
            "Before the mask (Q8) token 1 spread its attention over all three tokens; now it can only see itself, so it takes its own value.",
            [new("weights", Vector(weights0), "forgot the mask: that is Q8's row")]));
        var causal1 = Row(c.Weights, 1);
        list.Add(new("Q13", 3, "Softmax of masked row 2; % of attention token 2 gives to token 3",
            [S("weights", "softmax([0, 0.7071, -inf])", Vector(causal1), $"[1, {Format(Math.Exp(c.Scaled[1, 1]))}, 0] / {Format(1 + Math.Exp(c.Scaled[1, 1]))}"),
             S("percent_to_token_3", "100 × weights[3]", Number(100 * causal1[2]), "token 3 is in token 2's future: masked to -inf, e^-inf = 0, so 0%")],
            "Token 2 may not look ahead at token 3.",
            [new("weights", Vector(Row(t.Weights, 1)), "forgot the mask"),
             new("percent_to_token_3", Number(100 * t.Weights[1, 2]), "forgot the mask: token 3 is in token 2's future")]));
        list.Add(new("Q14", 3, "Why does a language model need the causal mask?", [],
            "It is trained to predict the next token. Without the mask each position could read the very token it must predict, " +
            "so training loss collapses by copying, and at generation time — when the future does not exist yet — the model fails.", []));
    }

    // Part 4: d_model 8, n_heads 2, head_dim 4, seq_len 3
    private static void Part4(List<Exercise> list)
    {
        var layer = new MultiHeadSelfAttention(8, 2);
        var x = new Tensor(1, 3, 8);
        string query = Hooks.HookNames.Name(Hooks.HookPoint.Q, 0);
        var (recorder, cache) = Hooks.ActivationCache.Recorder(n => n == query);
        layer.Forward(x, new ForwardOptions { Hooks = recorder });
        var q = cache[query].View(1, 3, 8);                                         // nn.Linear(8, 8)(x)
        var viewed = q.View(1, 3, 2, 4);
        var split = viewed.Transpose(1, 2);
        var o = new Tensor(1, 2, 3, 4);
        var back = o.Transpose(1, 2);                                               // (1, 3, 2, 4), contiguous copy
        var merged = new Tensor(1, 3, 8);                                           // (1, 3, 8)
        Layers.AttentionHeads.Merge(o.Data, 1, 3, 2, 4, merged.Data);
        var wide = new MultiHeadSelfAttention(256, 4);

        list.Add(new("Q15", 4, "Shapes of Q before .view(), after .view(1, 3, 2, 4), after .transpose(1, 2)",
            [S("before_view", "nn.Linear(8, 8)(x)", Integers(q.Shape), Shape(q.Shape)),
             S("after_view", "split 8 into 2 × 4", Integers(viewed.Shape), Shape(viewed.Shape)),
             S("after_transpose", "swap tokens and heads", Integers(split.Shape), Shape(split.Shape))],
            "transpose(1, 2) swaps the token and head dimensions, grouping all tokens of one head together so each head attends independently.", []));
        list.Add(new("Q16", 4, "What .transpose(1, 2).contiguous().view(1, 3, 8) does to (1, 2, 3, 4)",
            [S("after_transpose", "tokens back before heads", Integers(back.Shape), Shape(back.Shape)),
             S("after_view", "glue the heads side by side", Integers(merged.Shape), $"{Shape(back.Shape)} → {Shape(merged.Shape)}: 2 heads × 4 = 8 channels")],
            "transpose only changes strides, so the memory is no longer row-major; .contiguous() copies it into order so .view can reinterpret it.", []));
        list.Add(new("Q17", 4, "Why several heads instead of one big one? (d_model 256: 1 head vs 4)",
            [S("head_dim", "256 / 4", Integer(wide.HeadDim), $"with 4 heads each dot product is over 256 / 4 = {wide.HeadDim} dims"),
             S("patterns_per_token_pair", "one attention pattern per head", Integer(wide.Heads), "4 heads → 4 separate scores (and softmaxes) per token pair instead of 1")],
            "Same cost, but four independent attention patterns: each head can track a different relation (syntax, position, coreference), " +
            "where one softmax would have to average them into one distribution.", []));
    }

    // Part 5: vocab 50, d_model 4, n_heads 2, max_length 3, input_ids [[7, 12, 3]]
    private static void Part5(List<Exercise> list)
    {
        var config = new SeedGptConfig(VocabSize: 50, DModel: 4, Heads: 2, MaxLength: 3);
        var model = new SeedGpt(config);
        var trace = SeedGptTrace.Run(model, [7, 12, 3]);
        var tokenEmbedding = model.LastEmbedded!;                                   // (1, 3, 4): the same shape as token_emb
        var shifted = SeedGptTrace.Run(config with { MaxLength = 4 }, [7, 12, 3, 25]);
        var (position, token, _) = trace.ExampleLogit;

        list.Add(new("Q18", 5, "token_embedding(input_ids): which rows, what shape?",
            [S("rows", "one row per id", Integers(trace.Ids), "rows 7, 12 and 3 of the (50, 4) table"),
             S("shape", "(batch, seq_len, d_model)", Integers(tokenEmbedding.Shape), Shape(tokenEmbedding.Shape))],
            "A lookup, not arithmetic: each id selects its row of the table.", []));
        list.Add(new("Q19", 5, "pos_emb = position_embedding(arange(3))",
            [S("shape", "rows 0, 1, 2 of the (3, 4) table", Integers(trace.PositionRows.Shape), Shape(trace.PositionRows.Shape))],
            "One learned vector per position: it tells the model where a token is, which attention alone cannot see.", []));
        list.Add(new("Q20", 5, "Why add token and position embeddings instead of concatenating?",
            [S("add_width", "token_emb + pos_emb", Integer(trace.Embedded.Dim(1)), $"adding keeps d_model = {trace.Embedded.Dim(1)}"),
             S("concat_width", "[token_emb | pos_emb]", Integer(2 * trace.Embedded.Dim(1)), $"concatenating would give {2 * trace.Embedded.Dim(1)}")],
            "Concatenating would double the width, so every later layer (query, key, value, out, output_head) would need a different size and more parameters; " +
            "adding keeps d_model and lets the model learn to use separate directions for 'what' and 'where'.", []));
        list.Add(new("Q21", 5, "What does logits[0, 2, 7] mean?",
            [S("logits_shape", "(batch, seq_len, vocab)", Integers(trace.Logits.Shape), Shape(trace.Logits.Shape)),
             S("position", "index 2 = the third token (id 3)", Integer(position), "0-based: position 2 is the third input token"),
             S("token", "vocabulary entry 7", Integer(token), "the last index picks the vocabulary entry")],
            "The unnormalised score (log-probability up to a constant) that token 7 comes next after the third input token — after seeing 7, 12, 3.", []));
        list.Add(new("Q22", 5, "input_ids [7, 12, 3], target_ids [12, 3, 25]: the relationship",
            [S("targets", "target[t] = input[t + 1]", Integers(shifted.Targets), "each position's target is the next token of the text [7, 12, 3, 25]")],
            "Position t is trained to predict token t + 1, so the targets are the inputs shifted left by one: every position gives a training example at once.", []));
    }

    // Part 6: vocab 200000, d_model 256, n_heads 4, max_length 256
    private static void Part6(List<Exercise> list)
    {
        var count = ParameterCount.Seed(vocab: 200000, dModel: 256, heads: 4, maxLength: 256);
        long Get(string name) => count.Entries.Single(e => e.Name == name).Count;
        long token = Get("token_embedding.weight"), position = Get("position_embedding.weight");
        long linear = Get("attention.query.weight") + Get("attention.query.bias");
        long attention = count.Entries.Where(e => e.Name.StartsWith("attention.", StringComparison.Ordinal)).Sum(e => e.Count);
        long head = Get("output_head.weight");
        long total = SeedGpt.CountParameters(new SeedGptConfig(200000, 256, 4, 256));
        if (total != count.Total) throw new InvalidOperationException("ParameterCount and SeedGptConfig disagree");

        list.Add(new("Q23", 6, "Parameters in token_embedding",
            [S("count", "vocab × d_model", Integer(token), $"200,000 × 256 = {token:N0}")], "",
            [new("count", Integer(200000 + 256), "added vocab and d_model instead of multiplying")]));
        list.Add(new("Q24", 6, "Parameters in position_embedding",
            [S("count", "max_length × d_model", Integer(position), $"256 × 256 = {position:N0}")], "", []));
        list.Add(new("Q25", 6, "nn.Linear(256, 256) with bias; four of them",
            [S("linear", "256 × 256 + 256", Integer(linear), $"weight 256 × 256 = 65,536 + bias 256 = {linear:N0}"),
             S("attention", "4 × Linear(256, 256)", Integer(attention), $"4 × {linear:N0} = {attention:N0}")], "",
            [new("linear", Integer(4L * 256 * 256), "forgot the bias (256 more per layer)")]));
        list.Add(new("Q26", 6, "Parameters in output_head = Linear(256, 200000, bias=False)",
            [S("count", "256 × 200,000, no bias", Integer(head), $"256 × 200,000 = {head:N0}")], "",
            [new("count", Integer(head + 200000), "added a bias: this layer has bias=False")]));
        list.Add(new("Q27", 6, "Total, and the largest component",
            [S("total", "sum of Q23–Q26", Integer(total), $"{token:N0} + {position:N0} + {attention:N0} + {head:N0} = {total:N0} ≈ 102.7M"),
             S("largest", "a tie", Choice("token_embedding and output_head (a tie)", "token_embedding", "output_head", "token_embedding_and_output_head", "output_head_and_token_embedding", "both", "tie", "embeddings"),
                 $"token_embedding and output_head, {token:N0} each (vocab × d_model)")],
            "The two vocabulary-sized tables are 99.7% of the model: with a 200,000-token vocabulary almost every parameter maps tokens in or out. (GPT-2 ties them to share one table.)",
            [new("total", Integer(total - 4 * 256), "left out the four attention biases"),
             new("total", Integer(total + 200000), "gave output_head a bias"),
             new("total", Integer(total - head), "counted the output head as tied to the embedding (GPT-2 does that; this model does not)")]));
    }

    // Part 7: conceptual questions with a number to check
    private static void Part7(List<Exercise> list)
    {
        var aligned = AttentionTrace.Compute(new double[,] { { 1, 1 } }, new double[,] { { 1, 1 }, { 1, -1 } }, new double[,] { { 1 }, { 0 } });
        var uniform = new float[256];
        Ops.Softmax.ForwardInPlace(uniform);                                        // softmax of 256 equal scores
        var ones = Enumerable.Repeat(1.0, 64).ToArray();
        double maxDot = ones.Zip(ones, (a, b) => a * b).Sum();
        var saturated = SoftmaxGradient.Softmax([maxDot, 0, 0, 0]);
        double lnVocab = Math.Log(new SeedGptConfig().VocabSize);

        list.Add(new("Q28", 7, "Query and key pointing the same way: high or low score?",
            [S("score", "high", Choice("high", "high", "large", "high_score"),
                $"q = [1, 1]: k = [1, 1] scores {Format(aligned.Scores[0, 0])}, k = [1, −1] scores {Format(aligned.Scores[0, 1])}; weights {Format(aligned.Weights[0, 0])} vs {Format(aligned.Weights[0, 1])}")],
            "A high score means a large softmax weight: the model pays attention to that token.", []));
        list.Add(new("Q29", 7, "Uniform attention over 256 tokens: the weight of each",
            [S("weight", "1 / 256", Number(uniform[0]), $"softmax of 256 equal scores = 1/256 = {Format(uniform[0])}")],
            "Uniform attention is a plain average: it carries no information about which tokens matter. A trained model's rows are peaked on a few relevant tokens (previous token, subject, matching bracket) and differ by head.",
            [new("weight", Number(256), "inverted: the weight is 1/256")]));
        list.Add(new("Q30", 7, "Why divide by √head_dim? The largest dot product of two 64-dim vectors with entries 1.0",
            [S("max_dot", "Σ 1·1 over 64 dims", Number(maxDot), $"1·1 + … + 1·1 = {Format(maxDot)}"),
             S("scaled", "64 / √64", Number(maxDot / Math.Sqrt(64)), $"64 / 8 = {Format(maxDot / 8)}")],
            $"Scores that large make softmax one-hot (softmax([64, 0, 0, 0]) puts {Format(saturated[0])} on the first key), where its gradient diag(p) − ppᵀ is ~0 and learning stalls; " +
            "dividing by √head_dim keeps the scores' variance near 1 at any width (attnlab attention --grad shows it).",
            [new("max_dot", Number(8), "gave √64: that is the scale, not the dot product")]));
        list.Add(new("Q31", 7, "Expected initial loss for vocab_size 200,000",
            [S("loss", "−ln(1/V) = ln V", Number(lnVocab), $"an untrained model guesses about uniformly: −ln(1/200,000) = ln 200,000 = {Format(lnVocab)}")],
            "Random weights give near-uniform predictions, so the loss starts near ln V (attnlab seed-gpt --vocab 200000 --d-model 256 --heads 4 --max-len 256 measures it).",
            [new("loss", Number(Math.Log10(200000)), "used log base 10: cross-entropy uses the natural log"),
             new("loss", Number(1.0 / 200000), "gave the probability of each token; the loss is −ln of it")]));
    }
}
