using System.Buffers;
using System.Numerics.Tensors;

namespace AttentionLab.Inspection;

/// <summary>
/// Mean row entropy of an attention map, in nats: H = −(1/Tq) Σ_i Σ_j p_ij ln p_ij (0 · ln 0 = 0) — how spread out
/// a head's attention is (ln Tk for uniform rows, 0 for one-hot rows). The fast form of
/// <see cref="Rendering.AttentionHeatmap.MeanEntropy"/> (the double-precision reference, tested against it): each row
/// is one vectorized log and one dot product in float up to its last non-zero weight, summed over rows in
/// double.
/// </summary>
public static class HeadEntropy
{
    /// <summary>Below this a probability counts as 0 (its p·ln p is under 1e-28 either way); keeps ln finite.</summary>
    private const float Floor = 1e-30f;

    /// <param name="map">(Tq, Tk), rows = queries</param>
    /// <param name="queries">Tq</param>
    /// <param name="keys">Tk</param>
    public static double Mean(ReadOnlySpan<float> map, int queries, int keys)
    {
        if (queries < 0 || keys < 0 || map.Length != (long)queries * keys)
            throw new ArgumentException($"the map has {map.Length} entries; ({queries}, {keys}) needs {(long)queries * keys}");
        if (queries == 0) return 0;
        var rented = ArrayPool<float>.Shared.Rent(keys);
        try
        {
            var logs = rented.AsSpan(0, keys);
            double total = 0;
            for (int i = 0; i < queries; i++)
            {
                var row = map.Slice(i * keys, keys);
                int n = row.LastIndexOfAnyExcept(0f) + 1;                    // trailing zeros (a causal row's future) add nothing
                row = row[..n];
                var ln = logs[..n];
                TensorPrimitives.Max(row, Floor, ln);
                TensorPrimitives.Log(ln, ln);
                total -= TensorPrimitives.Dot(row, ln);
            }
            return total / queries;
        }
        finally { ArrayPool<float>.Shared.Return(rented); }
    }
}
