using AttentionLab.Inspection;
using AttentionLab.Tests.Generation;

namespace AttentionLab.Tests.Inspection;

public class HeadRolesTests
{
    /// <summary>A (T, T) map where query i puts all its mass on key pick(i).</summary>
    private static float[] OneHot(int T, Func<int, int> pick)
    {
        var m = new float[T * T];
        for (int i = 0; i < T; i++) m[i * T + pick(i)] = 1f;
        return m;
    }

    [Fact]
    public void A_previous_token_head_scores_one_on_previous_and_zero_on_first_and_self()
    {
        int[] ids = [5, 6, 7, 8, 9];
        var s = HeadRoles.Compute(OneHot(5, i => Math.Max(0, i - 1)), ids);
        Assert.Equal(1.0, s.Previous, 12);
        Assert.Equal(0.25, s.First, 12);          // row 1's previous token is token 0
        Assert.Equal(0.0, s.Self, 12);
        Assert.Null(s.Induction);                 // no token repeats
        Assert.Equal("previous", s.Strongest!.Role);
    }

    [Fact]
    public void A_sink_head_is_flagged_and_a_self_head_is_not()
    {
        int[] ids = [1, 2, 3, 4];
        var sink = HeadRoles.Compute(OneHot(4, _ => 0), ids);
        Assert.Equal(1.0, sink.First, 12);
        Assert.True(sink.IsSink);
        var self = HeadRoles.Compute(OneHot(4, i => i), ids);
        Assert.Equal(1.0, self.Self, 12);
        Assert.False(self.IsSink);
    }

    [Fact]
    public void An_induction_head_attends_to_the_token_after_the_earlier_copy()
    {
        // A B C D A B C D: query at the second A (4) should look at B (1), second B (5) at C (2), and so on
        int[] ids = [10, 11, 12, 13, 10, 11, 12, 13];
        int T = ids.Length;
        var s = HeadRoles.Compute(OneHot(T, i => i >= 4 ? i - 3 : 0), ids);
        Assert.Equal(1.0, s.Induction!.Value, 12);
        Assert.Equal("induction", s.Strongest!.Role);
        // a previous-token head on the same text scores 0 on induction
        var prev = HeadRoles.Compute(OneHot(T, i => Math.Max(0, i - 1)), ids);
        Assert.Equal(0.0, prev.Induction!.Value, 12);
    }

    [Fact]
    public void Uniform_causal_attention_gives_the_harmonic_shares()
    {
        int T = 4;
        var m = new float[T * T];
        for (int i = 0; i < T; i++) for (int j = 0; j <= i; j++) m[i * T + j] = 1f / (i + 1);
        var s = HeadRoles.Compute(m, [1, 2, 3, 4]);
        double expected = (1 / 2.0 + 1 / 3.0 + 1 / 4.0) / 3;   // rows 1..3 each put 1/(i+1) on any one key
        Assert.Equal(expected, s.Previous, 6);
        Assert.Equal(expected, s.First, 6);
        Assert.Equal(expected, s.Self, 6);
    }

    /// <summary>Every head of a real report scores in [0, 1], and its entropy and previous-token score are the
    /// definitions worked from its map here in double: H = −(1/T) Σ_i Σ_j p ln p, previous = mean_{i ≥ 1} A[i, i−1].</summary>
    [Fact]
    public void Every_head_of_a_real_report_scores_within_zero_and_one()
    {
        var model = TinyGpt2.Load();
        int[] ids = [1, 2, 3, 1, 2, 3, 1, 2];
        int T = ids.Length;
        var report = DecoderInspector.Inspect(model, null, ids);
        var roles = HeadRoles.Compute(report);
        Assert.Equal(report.Layers * report.Heads, roles.Length);
        foreach (var r in roles)
        {
            foreach (var v in new[] { r.Previous, r.First, r.Self, r.Induction!.Value })
                Assert.InRange(v, 0.0, 1.0 + 1e-6);
            var map = report.Map(r.Layer, r.Head).ToArray();
            double entropy = 0, previous = 0;
            for (int i = 0; i < T; i++)
                for (int j = 0; j < T; j++)
                    if (map[i * T + j] > 0) entropy -= map[i * T + j] * Math.Log(map[i * T + j]) / T;
            for (int i = 1; i < T; i++) previous += map[i * T + i - 1] / (T - 1.0);
            Assert.Equal(entropy, r.Entropy, 5);
            Assert.Equal(previous, r.Previous, 12);
        }
    }

    /// <summary>The entropy the roles carry is the map's mean row entropy, on a hand-made map: uniform causal rows over
    /// 1, 2, 3 and 4 keys have entropies ln 1, ln 2, ln 3, ln 4.</summary>
    [Fact]
    public void The_entropy_of_uniform_causal_rows_is_the_mean_of_their_logs()
    {
        int T = 4;
        var m = new float[T * T];
        for (int i = 0; i < T; i++) for (int j = 0; j <= i; j++) m[i * T + j] = 1f / (i + 1);
        var report = new InspectionReport([1, 2, 3, 4], ["a", "b", "c", "d"], 1, 1, T, 5, m, [HeadEntropy.Mean(m, T, T)], [], [],
            "naive", true, true, null, null);
        var s = Assert.Single(HeadRoles.Compute(report));
        Assert.Equal((0 + Math.Log(2) + Math.Log(3) + Math.Log(4)) / 4, s.Entropy, 6);
    }

    [Fact]
    public void A_map_of_the_wrong_size_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => HeadRoles.Compute(new float[10], [1, 2, 3]));
        Assert.Contains("(T, T)", e.Message);
    }

    /// <summary>One scorer for every map: a decoder's (T, T) map scored with its ids has the self-attention roles of any
    /// causal map (the same numbers as without ids), "next" is 0 under the causal mask, and induction comes last.</summary>
    [Fact]
    public void A_decoder_map_has_the_roles_of_any_causal_map_plus_induction()
    {
        int[] ids = [10, 11, 12, 10, 11, 12];
        int T = ids.Length;
        var m = OneHot(T, i => i >= 3 ? i - 2 : Math.Max(0, i - 1));
        var withIds = HeadRoles.Compute(m, ids);
        var without = HeadRoles.Compute(m, T, T, AttentionKinds.DecoderSelf);
        Assert.Equal(["previous", "next", "self", "first", "induction"], withIds.Roles.Select(r => r.Role));
        Assert.Equal(without.Roles, withIds.Roles.Take(4));
        Assert.Equal(0.0, withIds.Score("next")!.Value, 12);
        Assert.Equal(1.0, withIds.Induction!.Value, 12);
        Assert.Null(without.Induction);
        Assert.Equal(1.0, withIds.RowMax, 12);
    }
}
