using AttentionLab.Inspection;
using AttentionLab.Models;
using static AttentionLab.Inspection.HeadRoles;

namespace AttentionLab.Tests.Inspection;

/// <summary>
/// <see cref="HeadRoles"/> on hand-built one-hot maps, where every score is a count of rows divided by a
/// count of rows, so the expected values are exact fractions (checked to 1e-12: the sums are of 0s and 1s, and the
/// one division is the only rounding).
/// </summary>
public class HeadRolesOfEncoderMapsTests
{
    private const int Exact = 12;

    /// <summary>A (Tq, Tk) map where query i puts all its mass on key pick(i).</summary>
    private static float[] OneHot(int queries, int keys, Func<int, int> pick)
    {
        var m = new float[queries * keys];
        for (int i = 0; i < queries; i++) m[i * keys + pick(i)] = 1f;
        return m;
    }

    private static HeadRoleScores Score(float[] map, int queries, int keys, string kind) => Compute(map, queries, keys, kind);

    [Fact]
    public void A_perfect_diagonal_cross_head_scores_one_at_shift_zero()
    {
        var s = Score(OneHot(5, 5, i => i), 5, 5, AttentionKinds.Cross);
        Assert.Equal(1.0, s.Score(Diagonal)!.Value, Exact);
        Assert.Equal(0, s.Shift(Diagonal));
        // the anti-diagonal j = 4 − i + d meets the diagonal j = i only at row (4 + d)/2: rows 2 (d = 0), 1 and 3 (d = ±2)
        // rows counted: 5 at d = 0, 4 at d = ±1, 3 at d = ±2; best 1/3 at d = −2 (the first of the tie in [0, −1, +1, −2, +2])
        Assert.Equal(1.0 / 3, s.Score(AntiDiagonal)!.Value, Exact);
        Assert.Equal(-2, s.Shift(AntiDiagonal));
        Assert.Equal(Diagonal, s.Strongest!.Role);
        Assert.Equal(1.0, s.RowMax, Exact);
        Assert.Equal(0.0, s.Entropy, Exact);
        Assert.Null(s.Score(Previous));                                   // a cross map has no self-attention roles
    }

    [Fact]
    public void An_anti_diagonal_cross_head_scores_one_on_the_anti_diagonal()
    {
        // 4 decoder queries over 6 encoder keys: query i reads key 5 − i (the source from its end)
        var s = Score(OneHot(4, 6, i => 5 - i), 4, 6, AttentionKinds.Cross);
        Assert.Equal(1.0, s.Score(AntiDiagonal)!.Value, Exact);
        Assert.Equal(0, s.Shift(AntiDiagonal));
        // the diagonal j = i + d meets j = 5 − i where 2i = 5 − d: at d = +1 (row 2 of the 4 with key i + 1) and at
        // d = −1 (row 3 of the 3 with key i − 1, rows 1..3), so the best is 1/3 at d = −1
        Assert.Equal(1.0 / 3, s.Score(Diagonal)!.Value, Exact);
        Assert.Equal(-1, s.Shift(Diagonal));
        Assert.Equal(AntiDiagonal, s.Strongest!.Role);
    }

    [Fact]
    public void A_shifted_diagonal_is_found_at_its_shift_and_counts_only_rows_that_have_the_key()
    {
        // decoder query i looks at source key i + 1 (it holds the token written at step i − 1); 5 queries, 5 keys:
        // the last query's key i + 1 = 5 is off the map, so it is left out (R has 4 rows)
        var s = Score(OneHot(5, 5, i => Math.Min(i + 1, 4)), 5, 5, AttentionKinds.Cross);
        Assert.Equal(1.0, s.Score(Diagonal)!.Value, Exact);
        Assert.Equal(1, s.Shift(Diagonal));
        var back = Score(OneHot(6, 4, i => Math.Max(i - 2, 0)), 6, 4, AttentionKinds.Cross);
        Assert.Equal(1.0, back.Score(Diagonal)!.Value, Exact);         // rows 2..5 have key i − 2 and hold all their mass there
        Assert.Equal(-2, back.Shift(Diagonal));
    }

    [Fact]
    public void A_previous_token_head_scores_one_on_previous()
    {
        // encoder self-attention, query i on key i − 1 (row 0 on itself: it has no previous key and is left out of previous)
        var s = Score(OneHot(5, 5, i => Math.Max(i - 1, 0)), 5, 5, AttentionKinds.EncoderSelf);
        Assert.Equal(1.0, s.Score(Previous)!.Value, Exact);            // rows 1..4
        Assert.Equal(0.0, s.Score(Next)!.Value, Exact);                // rows 0..3
        Assert.Equal(1.0 / 5, s.Score(Self)!.Value, Exact);            // row 0 only, of 5
        Assert.Equal(2.0 / 5, s.Score(First)!.Value, Exact);           // rows 0 and 1, of 5
        Assert.Equal(Previous, s.Strongest!.Role);
        Assert.Null(s.Shift(Previous));
    }

    [Fact]
    public void A_next_token_head_scores_one_on_next_in_a_bidirectional_encoder()
    {
        var s = Score(OneHot(5, 5, i => Math.Min(i + 1, 4)), 5, 5, AttentionKinds.EncoderSelf);
        Assert.Equal(1.0, s.Score(Next)!.Value, Exact);                // rows 0..3; row 4 has no next key
        Assert.Equal(0.0, s.Score(Previous)!.Value, Exact);            // rows 1..4; row 4 looks at itself, not at 3
        Assert.Equal(1.0 / 5, s.Score(Self)!.Value, Exact);            // row 4
        Assert.Equal(0.0, s.Score(First)!.Value, Exact);
        Assert.Equal(Next, s.Strongest!.Role);
    }

    [Fact]
    public void A_first_token_head_scores_one_on_first_and_a_decoder_leaves_its_first_row_out()
    {
        var encoder = Score(OneHot(4, 4, _ => 0), 4, 4, AttentionKinds.EncoderSelf);
        Assert.Equal(1.0, encoder.Score(First)!.Value, Exact);
        Assert.Equal(1.0 / 3, encoder.Score(Previous)!.Value, Exact);  // row 1's previous key is key 0
        Assert.Equal(1.0 / 4, encoder.Score(Self)!.Value, Exact);      // row 0 is its own first key
        Assert.Equal(First, encoder.Strongest!.Role);

        // a causal self-attention head (a decoder) on its first key: row 0 can only see key 0 and is left out
        var decoder = Score(OneHot(4, 4, _ => 0), 4, 4, AttentionKinds.DecoderSelf);
        Assert.Equal(1.0, decoder.Score(First)!.Value, Exact);
        Assert.Equal(0.0, decoder.Score(Self)!.Value, Exact);          // rows 1..3 (the encoder counted row 0: 1/4)
        Assert.Equal(1.0 / 3, decoder.Score(Previous)!.Value, Exact);
        Assert.Equal(0.0, decoder.Score(Next)!.Value, Exact);          // masked under causal attention
        // a causal self head: each row on itself; row 0 would add 1 to every head's first score if it counted
        var self = Score(OneHot(4, 4, i => i), 4, 4, AttentionKinds.DecoderSelf);
        Assert.Equal(1.0, self.Score(Self)!.Value, Exact);
        Assert.Equal(0.0, self.Score(First)!.Value, Exact);
    }

    [Fact]
    public void Uniform_attention_spreads_every_score_to_one_over_the_keys()
    {
        int Tq = 3, Tk = 4;
        var m = Enumerable.Repeat(0.25f, Tq * Tk).ToArray();
        var cross = Score(m, Tq, Tk, AttentionKinds.Cross);
        Assert.Equal(0.25, cross.Score(Diagonal)!.Value, Exact);
        Assert.Equal(0, cross.Shift(Diagonal));                          // every shift ties; the smallest |d| is kept
        Assert.Equal(0.25, cross.Score(AntiDiagonal)!.Value, Exact);
        Assert.Equal(0, cross.Shift(AntiDiagonal));
        Assert.Equal(0.25, cross.RowMax, Exact);
        Assert.Equal(Math.Log(4), cross.Entropy, 6);                     // HeadEntropy sums in float per row: 1e-6

        var n = Enumerable.Repeat(0.25f, 16).ToArray();
        var self = Score(n, 4, 4, AttentionKinds.EncoderSelf);
        foreach (var role in SelfRoles) Assert.Equal(0.25, self.Score(role)!.Value, Exact);
        Assert.Equal(Previous, self.Strongest!.Role);                    // a tie: the first role in order
    }

    [Fact]
    public void A_role_no_query_has_a_key_for_is_null()
    {
        // one query, one key: no previous or next key, and a cross map of one key has both diagonals only at d = 0
        var s = Score([1f], 1, 1, AttentionKinds.EncoderSelf);
        Assert.Null(s.Score(Previous));
        Assert.Null(s.Score(Next));
        Assert.Equal(1.0, s.Score(Self)!.Value, Exact);
        var decoder = Score([1f], 1, 1, AttentionKinds.DecoderSelf);     // its only row is left out
        Assert.All(decoder.Roles, r => Assert.Null(r.Score));
        Assert.Null(decoder.Strongest);
    }

    [Fact]
    public void Every_head_of_a_real_seq2seq_model_scores_within_zero_and_one()
    {
        var model = new Seq2SeqModel(new Seq2SeqConfig { Channels = 16, Heads = 2, EncoderLayers = 1, DecoderLayers = 1 });
        var report = model.Inspect("abcd");
        foreach (var map in report.Maps)
        {
            var scores = Compute(map);
            Assert.Equal(map.Heads, scores.Length);
            for (int h = 0; h < map.Heads; h++)
            {
                Assert.Equal((map.Kind, map.Layer, h), (scores[h].Kind, scores[h].Layer, scores[h].Head));
                Assert.Equal(RolesOf(map.Kind), scores[h].Roles.Select(r => r.Role).ToArray());
                foreach (var r in scores[h].Roles)
                    if (r.Score is double v) Assert.InRange(v, 0.0, 1.0 + 1e-6);    // null only for a decoder of one query
                Assert.InRange(scores[h].RowMax, 1.0 / map.KeyLength - 1e-6, 1.0 + 1e-6);
                Assert.Equal(HeadEntropy.Mean(map.Head(h), map.QueryLength, map.KeyLength), scores[h].Entropy);
            }
        }
    }

    [Fact]
    public void A_map_of_the_wrong_size_or_an_unknown_kind_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => Compute(new float[10], 3, 3, AttentionKinds.Cross));
        Assert.Contains("(Tq, Tk) = (3, 3)", e.Message);
        var k = Assert.Throws<ArgumentException>(() => Compute(new float[9], 3, 3, "sideways"));
        Assert.Contains("unknown attention kind 'sideways'", k.Message);
    }
}
