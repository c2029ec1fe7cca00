using AttentionLab.Inspection;

namespace AttentionLab.Tests.Inspection;

/// <summary><see cref="ShapeTrace"/> against the answers of seed 004, Parts 1, 4 and 5.</summary>
public class ShapeTraceTests
{
    private static int[] Shape(IReadOnlyList<ShapeStep> steps, string name) =>
        steps.Single(s => s.Name == name).Shape;

    [Fact]
    public void Part1_Shapes_Q1_To_Q5()
    {
        // d_model 8, 2 heads, seq_len 4, batch 1, vocab 50
        var steps = ShapeTrace.SeedGpt(batch: 1, seqLength: 4, dModel: 8, heads: 2, vocab: 50);
        Assert.Equal([1, 4, 8], Shape(steps, "x = tok_emb + pos_emb"));          // Q2 input
        Assert.Equal([1, 4, 8], Shape(steps, "q = attention.query(x)"));         // Q2
        Assert.Equal([1, 4, 2, 4], Shape(steps, "q.view(B, T, H, D)"));          // Q1: head_dim 4
        Assert.Equal([1, 2, 4, 4], Shape(steps, "q.transpose(1, 2)"));           // Q3
        Assert.Equal([1, 2, 4, 4], Shape(steps, "scores = q @ kᵀ / √D"));        // Q4: (B, H, T, T)
        Assert.Equal([1, 4, 50], Shape(steps, "logits = output_head(x)"));       // Q5
    }

    [Fact]
    public void Part4_MultiHead_Q15_Q16()
    {
        var steps = ShapeTrace.SeedGpt(batch: 1, seqLength: 3, dModel: 8, heads: 2, vocab: 50);
        Assert.Equal([1, 3, 8], Shape(steps, "q = attention.query(x)"));
        Assert.Equal([1, 3, 2, 4], Shape(steps, "q.view(B, T, H, D)"));
        Assert.Equal([1, 2, 3, 4], Shape(steps, "q.transpose(1, 2)"));
        Assert.Equal([1, 2, 3, 4], Shape(steps, "out = weights @ v"));
        Assert.Equal([1, 3, 2, 4], Shape(steps, "out.transpose(1, 2)"));
        Assert.Equal([1, 3, 8], Shape(steps, "out.contiguous().view(B, T, C)"));
    }

    [Fact]
    public void Part5_ForwardTrace_Q18_To_Q21()
    {
        var steps = ShapeTrace.SeedGpt(batch: 1, seqLength: 3, dModel: 4, heads: 2, vocab: 50);
        Assert.Equal([1, 3], Shape(steps, "input_ids"));
        Assert.Equal([50, 4], Shape(steps, "token_embedding.weight"));
        Assert.Equal([1, 3, 4], Shape(steps, "tok_emb = token_embedding(input_ids)"));  // Q18
        Assert.Equal([3], Shape(steps, "pos_indices = arange(T)"));
        Assert.Equal([3, 4], Shape(steps, "position_embedding.weight"));
        Assert.Equal([3, 4], Shape(steps, "pos_emb = position_embedding(pos_indices)")); // Q19
        Assert.Equal([1, 3, 4], Shape(steps, "x = tok_emb + pos_emb"));                // Q20
        Assert.Equal([1, 3, 50], Shape(steps, "logits = output_head(x)"));             // Q21
    }

    [Fact]
    public void EveryStep_HasLettersOfTheSameRank_AndAMeaning()
    {
        foreach (var s in ShapeTrace.SeedGpt(2, 5, 12, 3, 7, maxLength: 9))
        {
            Assert.Equal(s.Shape.Length, s.Letters.Split(',').Length);
            Assert.False(string.IsNullOrWhiteSpace(s.Meaning));
        }
    }

    [Fact]
    public void Rejects_HeadsNotDividingDModel_NonPositiveSizes_AndSeqLongerThanTable()
    {
        var e = Assert.Throws<ArgumentException>(() => ShapeTrace.SeedGpt(1, 4, 8, 3, 50));
        Assert.Contains("divide", e.Message);
        Assert.Throws<ArgumentException>(() => ShapeTrace.SeedGpt(0, 4, 8, 2, 50));
        Assert.Throws<ArgumentException>(() => ShapeTrace.SeedGpt(1, 4, -8, 2, 50));
        Assert.Throws<ArgumentException>(() => ShapeTrace.SeedGpt(1, 5, 8, 2, 50, maxLength: 4));
    }
}
