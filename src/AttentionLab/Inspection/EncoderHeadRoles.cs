namespace AttentionLab.Inspection;

/// <summary>One role score of a head: the mean attention mass on one kind of key, and the shift it was found at.</summary>
/// <param name="Role">one of <see cref="EncoderHeadRoles.SelfRoles"/> or <see cref="EncoderHeadRoles.CrossRoles"/></param>
/// <param name="Score">in [0, 1]; null when no query of the map has such a key</param>
/// <param name="Shift">the best shift d in [−<see cref="EncoderHeadRoles.MaxShift"/>, +<see cref="EncoderHeadRoles.MaxShift"/>]
/// (cross-attention roles); null for self-attention roles, which take none</param>
public sealed record RoleScore(string Role, double? Score, int? Shift = null);

/// <summary>
/// What one head of a seq2seq, BERT or ViT layer does on one input (<see cref="EncoderHeadRoles"/>): its mean row
/// entropy, its mean row maximum and its role scores, in the order of <see cref="EncoderHeadRoles.RolesOf"/>.
/// </summary>
/// <param name="Kind">one of <see cref="AttentionKinds"/></param>
/// <param name="Entropy">mean row entropy in nats (<see cref="HeadEntropy.Mean"/>): 0 = every query on one key</param>
/// <param name="RowMax">mean over queries of the largest weight in the row: 1 = every query on one key</param>
public sealed record EncoderHeadRoleScores(string Kind, int Layer, int Head, double Entropy, double RowMax, IReadOnlyList<RoleScore> Roles)
{
    /// <summary>The score of <paramref name="role"/> (null when the map has no such key or the kind has no such role).</summary>
    public double? Score(string role) => Roles.FirstOrDefault(r => r.Role == role)?.Score;

    /// <summary>The shift of <paramref name="role"/>'s best score (cross-attention), or null.</summary>
    public int? Shift(string role) => Roles.FirstOrDefault(r => r.Role == role)?.Shift;

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
}

/// <summary>
/// Role scores of the heads of an encoder, a decoder or a cross-attention layer, for (Tq, Tk) maps (the encoder-side
/// companion of <see cref="HeadRoles"/>, which scores GPT-2's causal heads and adds induction). Each role names one
/// key κ(i) for each query i, and its score is the mean attention mass the queries put on it:
/// <code>
/// score = (1/|R|) Σ_{i ∈ R} A[i, κ(i)],   R = { i : i ≥ i₀, 0 ≤ κ(i) &lt; Tk },   null when R is empty
///
/// self-attention (encoder_self, decoder_self):
///   previous       κ(i) = i − 1          the key before (a positional head, Voita et al. 2019)
///   next           κ(i) = i + 1          the key after (an encoder sees both sides; 0 under a causal mask)
///   self           κ(i) = i              the query's own position
///   first          κ(i) = 0              the first key: [CLS] for BERT and ViT, an attention sink (Xiao et al. 2023)
/// cross-attention (decoder query i over encoder key j), each at its best shift d ∈ [−2, 2]:
///   diagonal       κ(i) = i + d          reads the source in order (copying, translation with monotone alignment)
///   anti_diagonal  κ(i) = Tk − 1 − i + d reads the source from its end (what reversing needs)
///   best: max_d score(d); on a tie the smaller |d| wins, then the negative one (d = 0, −1, +1, −2, +2)
/// and for every map:
///   row max        (1/Tq) Σ_i max_j A[i, j]
///   entropy        −(1/Tq) Σ_i Σ_j A[i, j] ln A[i, j]   (<see cref="HeadEntropy"/>)
/// </code>
/// i₀ = 1 for a causal map (<see cref="AttentionKinds.DecoderSelf"/>): its row 0 can only see key 0, so it would add
/// 1/|R| to first and self for every head (<see cref="HeadRoles"/> leaves it out for the same reason); i₀ = 0
/// otherwise. The shift exists because decoder query i holds the token written at step i − 1, so a head that reads
/// the source in step with its output looks one key ahead or behind of i.
/// </summary>
public static class EncoderHeadRoles
{
    public const string Previous = "previous", Next = "next", Self = "self", First = "first";
    public const string Diagonal = "diagonal", AntiDiagonal = "anti_diagonal";

    /// <summary>Shifts d of the cross-attention roles are in [−MaxShift, +MaxShift].</summary>
    public const int MaxShift = 2;

    /// <summary>The roles of a self-attention map, in display order.</summary>
    public static IReadOnlyList<string> SelfRoles { get; } = [Previous, Next, Self, First];

    /// <summary>The roles of a cross-attention map, in display order.</summary>
    public static IReadOnlyList<string> CrossRoles { get; } = [Diagonal, AntiDiagonal];

    /// <summary>The roles scored for maps of <paramref name="kind"/> (<see cref="AttentionKinds"/>).</summary>
    public static IReadOnlyList<string> RolesOf(string kind) => kind == AttentionKinds.Cross ? CrossRoles : SelfRoles;

    /// <summary>Shifts in the order they are tried, so that a tie keeps the smallest |d|.</summary>
    private static readonly int[] ShiftOrder = [0, -1, 1, -2, 2];

    /// <summary>Scores of every head of one layer's map, by head.</summary>
    public static EncoderHeadRoleScores[] Compute(AttentionMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var scores = new EncoderHeadRoleScores[map.Heads];
        for (int h = 0; h < map.Heads; h++)
            scores[h] = Compute(map.Head(h), map.QueryLength, map.KeyLength, map.Kind, map.Layer, h);
        return scores;
    }

    /// <summary>Scores of one head's map.</summary>
    /// <param name="map">(Tq, Tk) attention, row = query, column = key</param>
    /// <param name="queries">Tq</param>
    /// <param name="keys">Tk</param>
    /// <param name="kind">one of <see cref="AttentionKinds"/>: picks the roles, and i₀ = 1 for a causal map</param>
    public static EncoderHeadRoleScores Compute(ReadOnlySpan<float> map, int queries, int keys, string kind, int layer = 0, int head = 0)
    {
        ArgumentNullException.ThrowIfNull(kind);
        if (kind is not (AttentionKinds.EncoderSelf or AttentionKinds.DecoderSelf or AttentionKinds.Cross))
            throw new ArgumentException($"unknown attention kind '{kind}'; expected {AttentionKinds.EncoderSelf}, {AttentionKinds.DecoderSelf} or {AttentionKinds.Cross}");
        if (queries < 1 || keys < 1 || map.Length != (long)queries * keys)
            throw new ArgumentException($"the map has {map.Length} entries; (Tq, Tk) = ({queries}, {keys}) needs {(long)queries * keys}");
        int T = keys;
        RoleScore[] roles;
        if (kind == AttentionKinds.Cross)
        {
            roles = [BestShift(map, queries, keys, Diagonal, (i, d) => i + d), BestShift(map, queries, keys, AntiDiagonal, (i, d) => T - 1 - i + d)];
        }
        else
        {
            int from = kind == AttentionKinds.DecoderSelf ? 1 : 0;
            roles =
            [
                new(Previous, KeyMass(map, queries, keys, from, i => i - 1)),
                new(Next, KeyMass(map, queries, keys, from, i => i + 1)),
                new(Self, KeyMass(map, queries, keys, from, i => i)),
                new(First, KeyMass(map, queries, keys, from, _ => 0)),
            ];
        }
        return new EncoderHeadRoleScores(kind, layer, head, HeadEntropy.Mean(map, queries, keys), RowMax(map, queries, keys), roles);
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
        double total = 0;
        for (int i = 0; i < queries; i++)
        {
            float max = 0;
            foreach (float w in map.Slice(i * keys, keys)) max = Math.Max(max, w);
            total += max;
        }
        return total / queries;
    }
}
