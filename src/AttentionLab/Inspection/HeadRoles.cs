using System.Numerics.Tensors;

namespace AttentionLab.Inspection;

/// <summary>One role score of a head: the mean attention mass on one kind of key, and the shift it was found at.</summary>
/// <param name="Role">one of <see cref="HeadRoles.SelfRoles"/>, <see cref="HeadRoles.Induction"/> or
/// <see cref="HeadRoles.CrossRoles"/></param>
/// <param name="Score">in [0, 1]; null when no query of the map has such a key</param>
/// <param name="Shift">the best shift d in [−<see cref="HeadRoles.MaxShift"/>, +<see cref="HeadRoles.MaxShift"/>]
/// (cross-attention roles); null for self-attention roles, which take none</param>
public sealed record RoleScore(string Role, double? Score, int? Shift = null);

/// <summary>
/// What one head of any model does on one input (<see cref="HeadRoles"/>): its mean row entropy, its mean row maximum
/// and its role scores, in the order of <see cref="HeadRoles.RolesOf"/> (then induction, when the input's ids were given).
/// </summary>
/// <param name="Kind">one of <see cref="AttentionKinds"/></param>
/// <param name="Entropy">mean row entropy in nats (<see cref="HeadEntropy.Mean"/>): 0 = every query on one key</param>
/// <param name="RowMax">mean over queries of the largest weight in the row: 1 = every query on one key</param>
public sealed record HeadRoleScores(string Kind, int Layer, int Head, double Entropy, double RowMax, IReadOnlyList<RoleScore> Roles)
{
    /// <summary>The score of <paramref name="role"/> (null when the map has no such key or the kind has no such role).</summary>
    public double? Score(string role)
    {
        foreach (var r in Roles) if (r.Role == role) return r.Score;
        return null;
    }

    /// <summary>The shift of <paramref name="role"/>'s best score (cross-attention), or null.</summary>
    public int? Shift(string role) => Roles.FirstOrDefault(r => r.Role == role)?.Shift;

    /// <summary>The previous-token score; 0 when no query has a previous key (a one-token input).</summary>
    public double Previous => Score(HeadRoles.Previous) ?? 0;

    /// <summary>The first-token (attention-sink) score; 0 when no query is scored.</summary>
    public double First => Score(HeadRoles.First) ?? 0;

    /// <summary>The self score; 0 when no query is scored.</summary>
    public double Self => Score(HeadRoles.Self) ?? 0;

    /// <summary>The induction score; null when no token of the input repeats or no ids were given.</summary>
    public double? Induction => Score(HeadRoles.Induction);

    /// <summary>True when the head puts at least <see cref="HeadRoles.SinkThreshold"/> of its mass on the first key.</summary>
    public bool IsSink => First >= HeadRoles.SinkThreshold;

    /// <summary>The role with the highest score (the first in order on a tie), or null when no role has a score.</summary>
    public RoleScore? Strongest
    {
        get
        {
            RoleScore? best = null;
            foreach (var r in Roles)
                if (r.Score is double s && (best is null || s > best.Score)) best = r;
            return best;
        }
    }

    /// <summary>Equal when every field and every role score is equal (the roles compared by value, in order).</summary>
    public bool Equals(HeadRoleScores? other) =>
        other is not null && Kind == other.Kind && Layer == other.Layer && Head == other.Head && Entropy.Equals(other.Entropy)
        && RowMax.Equals(other.RowMax) && Roles.SequenceEqual(other.Roles);

    public override int GetHashCode() => HashCode.Combine(Kind, Layer, Head, Entropy, RowMax, Roles.Count);
}

/// <summary>
/// Role scores of the heads of any attention map — a decoder's causal self-attention (GPT-2, the Llama family, a
/// seq2seq decoder), an encoder's (BERT, ViT, a seq2seq encoder) or a cross-attention — the checks interpretability
/// papers use to say "heads specialize". Each role names one key κ(i) for each query i, and its score is the mean
/// attention mass the queries put on it:
/// <code>
/// score = (1/|R|) Σ_{i ∈ R} A[i, κ(i)],   R = { i : i ≥ i₀, 0 ≤ κ(i) &lt; Tk },   null when R is empty
///
/// self-attention (encoder_self, decoder_self):
///   previous       κ(i) = i − 1          the key before (a positional head, Voita et al. 2019)
///   next           κ(i) = i + 1          the key after (an encoder sees both sides; 0 under a causal mask)
///   self           κ(i) = i              the query's own position
///   first          κ(i) = 0              the first key: [CLS] for BERT and ViT, an attention sink (Xiao et al. 2023)
///   induction      mean_{i ∈ R'} Σ_{j+1 &lt; i, x_j = x_i} A[i, j+1]   the token after an earlier copy of the current
///                  one (Olsson et al. 2022), when the input's ids are given; R' = queries whose token occurred earlier
///                  (at j with j + 1 &lt; i); null when no token repeats
/// cross-attention (decoder query i over encoder key j), each at its best shift d ∈ [−2, 2]:
///   diagonal       κ(i) = i + d          reads the source in order (copying, translation with monotone alignment)
///   anti_diagonal  κ(i) = Tk − 1 − i + d reads the source from its end (what reversing needs)
///   best: max_d score(d); on a tie the smaller |d| wins, then the negative one (d = 0, −1, +1, −2, +2)
/// and for every map:
///   row max        (1/Tq) Σ_i max_j A[i, j]
///   entropy        −(1/Tq) Σ_i Σ_j A[i, j] ln A[i, j]   (<see cref="HeadEntropy"/>)
/// </code>
/// i₀ = 1 for a causal map (<see cref="AttentionKinds.DecoderSelf"/>): its row 0 can only see key 0, so it would add
/// 1/|R| to first and self for every head; i₀ = 0 otherwise. The shift exists because decoder query i holds the token
/// written at step i − 1, so a head that reads the source in step with its output looks one key ahead or behind of i.
/// A head is flagged as an attention sink when its first-key score is <see cref="SinkThreshold"/> or more.
/// </summary>
public static class HeadRoles
{
    public const string Previous = "previous", Next = "next", Self = "self", First = "first", Induction = "induction";
    public const string Diagonal = "diagonal", AntiDiagonal = "anti_diagonal";

    /// <summary>A head is flagged as an attention sink when its queries put this much of their mass on key 0.</summary>
    public const double SinkThreshold = 0.5;

    /// <summary>Shifts d of the cross-attention roles are in [−MaxShift, +MaxShift].</summary>
    public const int MaxShift = 2;

    /// <summary>The roles of a self-attention map, in display order (induction follows when ids are given).</summary>
    public static IReadOnlyList<string> SelfRoles { get; } = [Previous, Next, Self, First];

    /// <summary>The roles of a cross-attention map, in display order.</summary>
    public static IReadOnlyList<string> CrossRoles { get; } = [Diagonal, AntiDiagonal];

    /// <summary>The roles scored for maps of <paramref name="kind"/> (<see cref="AttentionKinds"/>).</summary>
    public static IReadOnlyList<string> RolesOf(string kind) => kind == AttentionKinds.Cross ? CrossRoles : SelfRoles;

    /// <summary>Shifts in the order they are tried, so that a tie keeps the smallest |d|.</summary>
    private static readonly int[] ShiftOrder = [0, -1, 1, -2, 2];

    /// <summary>Scores of every head of a decoder's report, layer-major (index l·H + h), with induction from its ids
    /// and the entropies it already holds.</summary>
    public static HeadRoleScores[] Compute(InspectionReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var scores = new HeadRoleScores[report.Layers * report.Heads];
        for (int l = 0; l < report.Layers; l++)
            for (int h = 0; h < report.Heads; h++)
                scores[l * report.Heads + h] = Compute(report.Map(l, h), report.Ids, l, h, report.Entropy[l * report.Heads + h]);
        return scores;
    }

    /// <summary>Scores of every head of one layer's map, by head; <paramref name="ids"/> (Tq = Tk tokens) adds induction.</summary>
    public static HeadRoleScores[] Compute(AttentionMap map, IReadOnlyList<int>? ids = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        var scores = new HeadRoleScores[map.Heads];
        for (int h = 0; h < map.Heads; h++)
            scores[h] = Compute(map.Head(h), map.QueryLength, map.KeyLength, map.Kind, ids, map.Layer, h);
        return scores;
    }

    /// <summary>Scores of one (T, T) map of a decoder's causal self-attention, with induction.</summary>
    /// <param name="map">(T, T) attention, row = query, column = key</param>
    /// <param name="ids">(T) the input's token ids</param>
    /// <param name="entropy">the map's mean row entropy when the caller has it; NaN: computed here</param>
    public static HeadRoleScores Compute(ReadOnlySpan<float> map, IReadOnlyList<int> ids, int layer = 0, int head = 0, double entropy = double.NaN)
    {
        ArgumentNullException.ThrowIfNull(ids);
        int T = ids.Count;
        if (map.Length != T * T) throw new ArgumentException($"the map has {map.Length} entries; (T, T) for {T} tokens needs {T * T}");
        return Compute(map, T, T, AttentionKinds.DecoderSelf, ids, layer, head, entropy);
    }

    /// <summary>Scores of one head's map.</summary>
    /// <param name="map">(Tq, Tk) attention, row = query, column = key</param>
    /// <param name="queries">Tq</param>
    /// <param name="keys">Tk</param>
    /// <param name="kind">one of <see cref="AttentionKinds"/>: picks the roles, and i₀ = 1 for a causal map</param>
    /// <param name="ids">(T) the input's token ids for a self-attention map (Tq = Tk = T): adds induction; null: no induction</param>
    /// <param name="entropy">the map's mean row entropy when the caller has it; NaN: computed here</param>
    public static HeadRoleScores Compute(ReadOnlySpan<float> map, int queries, int keys, string kind, IReadOnlyList<int>? ids = null,
        int layer = 0, int head = 0, double entropy = double.NaN)
    {
        ArgumentNullException.ThrowIfNull(kind);
        if (kind is not (AttentionKinds.EncoderSelf or AttentionKinds.DecoderSelf or AttentionKinds.Cross))
            throw new ArgumentException($"unknown attention kind '{kind}'; expected {AttentionKinds.EncoderSelf}, {AttentionKinds.DecoderSelf} or {AttentionKinds.Cross}");
        if (queries < 1 || keys < 1 || map.Length != (long)queries * keys)
            throw new ArgumentException($"the map has {map.Length} entries; (Tq, Tk) = ({queries}, {keys}) needs {(long)queries * keys}");
        if (ids is not null && (kind == AttentionKinds.Cross || ids.Count != queries || queries != keys))
            throw new ArgumentException($"ids score induction on a self-attention map of their own length; got {ids.Count} ids for a {kind} map ({queries}, {keys})");
        int T = keys;
        RoleScore[] roles;
        if (kind == AttentionKinds.Cross)
        {
            roles = [BestShift(map, queries, keys, Diagonal, (i, d) => i + d), BestShift(map, queries, keys, AntiDiagonal, (i, d) => T - 1 - i + d)];
        }
        else
        {
            int from = kind == AttentionKinds.DecoderSelf ? 1 : 0;
            var self = new List<RoleScore>(5)
            {
                new(Previous, KeyMass(map, queries, keys, from, i => i - 1)),
                new(Next, KeyMass(map, queries, keys, from, i => i + 1)),
                new(Self, KeyMass(map, queries, keys, from, i => i)),
                new(First, KeyMass(map, queries, keys, from, _ => 0)),
            };
            if (ids is not null) self.Add(new(Induction, InductionMass(map, ids)));
            roles = [.. self];
        }
        if (double.IsNaN(entropy)) entropy = HeadEntropy.Mean(map, queries, keys);
        return new HeadRoleScores(kind, layer, head, entropy, RowMax(map, queries, keys), roles);
    }

    /// <summary>(1/|R|) Σ_{i ∈ R} A[i, key(i)] over R = { i ≥ from : 0 ≤ key(i) &lt; Tk }; null when R is empty.</summary>
    /// <param name="map">(Tq, Tk)</param>
    public static double? KeyMass(ReadOnlySpan<float> map, int queries, int keys, int from, Func<int, int> key)
    {
        ArgumentNullException.ThrowIfNull(key);
        double total = 0;
        int rows = 0;
        for (int i = from; i < queries; i++)
        {
            int j = key(i);
            if (j < 0 || j >= keys) continue;                            // this query has no such key
            total += map[i * keys + j];
            rows++;
        }
        return rows == 0 ? null : total / rows;
    }

    /// <summary>mean_{i ∈ R'} Σ_{j+1 &lt; i, x_j = x_i} A[i, j+1]; null when no query's token occurred earlier at such a j.</summary>
    /// <param name="map">(T, T)</param>
    /// <param name="ids">(T)</param>
    private static double? InductionMass(ReadOnlySpan<float> map, IReadOnlyList<int> ids)
    {
        int T = ids.Count;
        double induction = 0;
        int rows = 0;
        var occurrences = new Dictionary<int, List<int>>();                 // id → its positions, ascending
        for (int i = 0; i < T; i++)
        {
            if (!occurrences.TryGetValue(ids[i], out var earlier)) occurrences[ids[i]] = earlier = [];
            if (i >= 2 && earlier.Count > 0 && earlier[0] + 1 < i)          // an earlier copy j with j + 1 < i
            {
                double mass = 0;
                foreach (int j in earlier)
                {
                    if (j + 1 >= i) break;
                    mass += map[i * T + j + 1];
                }
                induction += mass;
                rows++;
            }
            earlier.Add(i);
        }
        return rows == 0 ? null : induction / rows;
    }

    /// <summary>The best <see cref="KeyMass"/> over the shifts d ∈ [−2, 2], with its d; ties keep the smaller |d|.</summary>
    private static RoleScore BestShift(ReadOnlySpan<float> map, int queries, int keys, string role, Func<int, int, int> key)
    {
        double? best = null;
        int shift = 0;
        foreach (int d in ShiftOrder)
        {
            if (KeyMass(map, queries, keys, 0, i => key(i, d)) is double s && (best is null || s > best))
            {
                best = s;
                shift = d;
            }
        }
        return new RoleScore(role, best, best is null ? null : shift);
    }

    /// <summary>(1/Tq) Σ_i max_j A[i, j].</summary>
    /// <param name="map">(Tq, Tk)</param>
    private static double RowMax(ReadOnlySpan<float> map, int queries, int keys)
    {
        // vectorized: a decoder's overview scores every head of a 1024-token input, and the maximum is exact in any order
        double total = 0;
        for (int i = 0; i < queries; i++) total += Math.Max(0f, TensorPrimitives.Max(map.Slice(i * keys, keys)));
        return total / queries;
    }
}
