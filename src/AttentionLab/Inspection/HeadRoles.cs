namespace AttentionLab.Inspection;

/// <summary>
/// What one attention head does on one input, as scores in [0, 1] (the mean attention mass a query puts on a kind
/// of key) — the checks interpretability papers use to say "heads specialize":
/// <code>
/// previous  = mean_{i ≥ 1} A[i, i−1]                     previous-token head (Voita et al. 2019: "positional")
/// first     = mean_{i ≥ 1} A[i, 0]                       first-token / attention-sink head (Xiao et al. 2023)
/// self      = mean_{i ≥ 1} A[i, i]                       attends to itself
/// induction = mean_{i ∈ R} Σ_{j+1 &lt; i, x_j = x_i} A[i, j+1]  the token after an earlier copy of the current one
///             (Olsson et al. 2022); R = queries whose token occurred earlier; null when no token repeats
/// </code>
/// Row 0 is left out of previous, first and self: under a causal mask it can only attend to itself, so it would
/// count for every head. The sink flag is <see cref="HeadRoles.SinkThreshold"/> or more of the mass on the first token.
/// </summary>
/// <param name="Entropy">mean row entropy in nats (from the inspection report)</param>
public sealed record HeadRoleScores(int Layer, int Head, double Entropy, double Previous, double First, double Self, double? Induction)
{
    /// <summary>True when the head puts at least <see cref="HeadRoles.SinkThreshold"/> of its mass on the first token.</summary>
    public bool IsSink => First >= HeadRoles.SinkThreshold;

    /// <summary>The strongest role ("previous", "first", "self" or "induction") and its score.</summary>
    public (string Role, double Score) Strongest
    {
        get
        {
            var best = ("previous", Previous);
            if (First > best.Item2) best = ("first", First);
            if (Self > best.Item2) best = ("self", Self);
            if (Induction is double ind && ind > best.Item2) best = ("induction", ind);
            return best;
        }
    }
}

/// <summary>Computes <see cref="HeadRoleScores"/> for every head of an <see cref="InspectionReport"/>.</summary>
public static class HeadRoles
{
    /// <summary>A head is flagged as an attention sink when its queries put this much of their mass on token 0.</summary>
    public const double SinkThreshold = 0.5;

    /// <summary>Scores of every head, layer-major (index l·H + h).</summary>
    public static HeadRoleScores[] Compute(InspectionReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var scores = new HeadRoleScores[report.Layers * report.Heads];
        for (int l = 0; l < report.Layers; l++)
            for (int h = 0; h < report.Heads; h++)
                scores[l * report.Heads + h] = Compute(report.Map(l, h), report.Ids, l, h, report.Entropy[l * report.Heads + h]);
        return scores;
    }

    /// <summary>Scores of one (T, T) map.</summary>
    /// <param name="map">(T, T) attention, row = query, column = key</param>
    /// <param name="ids">(T) the input's token ids (for induction)</param>
    public static HeadRoleScores Compute(ReadOnlySpan<float> map, IReadOnlyList<int> ids, int layer = 0, int head = 0, double entropy = double.NaN)
    {
        ArgumentNullException.ThrowIfNull(ids);
        int T = ids.Count;
        if (map.Length != T * T) throw new ArgumentException($"the map has {map.Length} entries; (T, T) for {T} tokens needs {T * T}");
        double previous = 0, first = 0, self = 0;
        for (int i = 1; i < T; i++)
        {
            previous += map[i * T + i - 1];
            first += map[i * T];
            self += map[i * T + i];
        }
        int rows = Math.Max(T - 1, 1);
        double induction = 0;
        int inductionRows = 0;
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
                inductionRows++;
            }
            earlier.Add(i);
        }
        return new HeadRoleScores(layer, head, entropy, previous / rows, first / rows, self / rows,
            inductionRows == 0 ? null : induction / inductionRows);
    }
}
