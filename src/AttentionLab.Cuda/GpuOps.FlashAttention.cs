using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace AttentionLab.Cuda;

/// <summary>
/// FlashAttention (Dao et al. 2022; the loop order of FlashAttention-2) on the device. A group of 64 threads owns 64
/// query rows, one each, and walks the visible keys in tiles of 64 staged in shared memory (on-chip SRAM); each row
/// keeps a running maximum m, sum l and unnormalized output o (online softmax), so the (T, T) scores never exist in
/// global memory (HBM): memory O(T). Forward saves only lse = m + log l per row. Backward recomputes
/// p = exp(s − lse) tile by tile: one pass per key tile for dK, dV (its 64 keys against every query tile that sees
/// them) and one per query tile for dQ, with D = rowsum(dO ⊙ O) computed first. No atomics: deterministic.
/// Head dimension at most <see cref="FlashMaxHeadDim"/>.
/// </summary>
public sealed partial class GpuOps
{
    /// <summary>Rows per tile (queries per group, keys per staged tile).</summary>
    internal const int FlashTile = 64;

    /// <summary>The largest head dimension the Flash kernels hold per thread (GPT-2 uses 64).</summary>
    public const int FlashMaxHeadDim = 64;

    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, AttentionArgs>? _flashForward;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>? _flashRowDot;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, AttentionArgs>? _flashKeyValue;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, AttentionArgs>? _flashQuery;

    /// <param name="output">(B, H, Tq, D)</param>
    /// <param name="logSumExp">(B, H, Tq), saved for backward (+∞ for a row that sees no key)</param>
    internal void FlashAttentionForward(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, AttentionArgs a, ArrayView<int> padding,
        ArrayView<float> output, ArrayView<float> logSumExp)
    {
        _flashForward ??= _accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, AttentionArgs>(FlashForwardKernel);
        _flashForward(new KernelConfig(new Index2D(Groups(a.QueryLength, FlashTile), a.Batch * a.Heads), new Index2D(FlashTile, 1)),
            q, k, v, padding, output, logSumExp, a);
    }

    /// <param name="rowDot">(B, H, Tq) scratch for D = rowsum(dO ⊙ O)</param>
    internal void FlashAttentionBackward(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> output,
        ArrayView<float> logSumExp, ArrayView<float> dOutput, AttentionArgs a, ArrayView<int> padding, ArrayView<float> rowDot,
        ArrayView<float> dq, ArrayView<float> dk, ArrayView<float> dv)
    {
        _flashRowDot ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(FlashRowDotKernel);
        _flashKeyValue ??= _accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, AttentionArgs>(FlashKeyValueKernel);
        _flashQuery ??= _accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, AttentionArgs>(FlashQueryKernel);
        int bh = a.Batch * a.Heads;
        if (a.QueryLength > 0) _flashRowDot(bh * a.QueryLength, dOutput, output, rowDot, a.HeadDim);
        _flashKeyValue(new KernelConfig(new Index2D(Groups(a.KeyLength, FlashTile), bh), new Index2D(FlashTile, 1)),
            q, k, v, dOutput, logSumExp, rowDot, padding, dk, dv, a);
        _flashQuery(new KernelConfig(new Index2D(Groups(a.QueryLength, FlashTile), bh), new Index2D(FlashTile, 1)),
            q, k, v, dOutput, logSumExp, rowDot, padding, dq, a);
    }

    /// <summary>Visible keys [start, end) for queries [i0, i1] (causal and window; padding acts inside). Query i sits at
    /// key position i + shift (Attention.AttentionOptions.AlignedPosition, repeated inline for the ILGPU kernels).</summary>
    private static void KeySpan(AttentionArgs a, int i0, int i1, out int start, out int end)
    {
        int shift = a.KeyLength - a.QueryLength;
        start = 0; end = a.KeyLength;
        if (a.Causal != 0) end = XMath.Min(end, i1 + shift + 1);
        if (a.WindowBefore >= 0)
        {
            start = XMath.Max(start, i0 + shift - a.WindowBefore);
            end = XMath.Min(end, i1 + shift + a.WindowAfter + 1);
        }
        if (start < 0) start = 0;
        if (end < start) end = start;
    }

    /// <summary>Queries [start, end) that can see some key in [j0, j1] (the inverse of <see cref="KeySpan"/>: query i at key
    /// position i + shift, Attention.AttentionOptions.AlignedPosition).</summary>
    private static void QuerySpan(AttentionArgs a, int j0, int j1, out int start, out int end)
    {
        int shift = a.KeyLength - a.QueryLength;
        start = 0; end = a.QueryLength;
        if (a.Causal != 0) start = XMath.Max(start, j0 - shift);
        if (a.WindowBefore >= 0)
        {
            start = XMath.Max(start, j0 - a.WindowAfter - shift);
            end = XMath.Min(end, j1 + a.WindowBefore - shift + 1);
        }
        if (start < 0) start = 0;
        if (end < start) end = start;
    }

    /// <summary>
    /// The tile set-up the three kernels share: thread t of the group copies row <paramref name="first"/> + t of two
    /// (rows, D) operands that start at <paramref name="baseOffset"/> into its row of two shared tiles (row stride
    /// <see cref="FlashMaxHeadDim"/>), zeros past <paramref name="end"/>. The caller runs the barrier. Inlined into each
    /// kernel (ILGPU honours AggressiveInlining), so the kernels compile to the same code as when it was written out.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StageTiles(ArrayView<float> x, ArrayView<float> y, long baseOffset, int first, int end, int d,
        ArrayView<float> xTile, ArrayView<float> yTile)
    {
        int t = Group.IdxX, row = first + t;
        long offset = baseOffset + (long)row * d;
        for (int c = 0; c < d; c++)
        {
            xTile[t * FlashMaxHeadDim + c] = row < end ? x[offset + c] : 0f;
            yTile[t * FlashMaxHeadDim + c] = row < end ? y[offset + c] : 0f;
        }
    }

    /// <summary>This thread's own row of two operands into local memory (zeros for a thread past the last row), and a
    /// third local row cleared for the accumulation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadRows(ArrayView<float> x, ArrayView<float> y, long offset, bool active, int d,
        ArrayView<float> xRow, ArrayView<float> yRow, ArrayView<float> accumulator)
    {
        for (int c = 0; c < d; c++)
        {
            xRow[c] = active ? x[offset + c] : 0f;
            yRow[c] = active ? y[offset + c] : 0f;
            accumulator[c] = 0f;
        }
    }

    private static void FlashForwardKernel(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> padding,
        ArrayView<float> o, ArrayView<float> lse, AttentionArgs a)
    {
        var kTile = SharedMemory.Allocate<float>(FlashTile * FlashMaxHeadDim);
        var vTile = SharedMemory.Allocate<float>(FlashTile * FlashMaxHeadDim);
        var qRow = LocalMemory.Allocate<float>(FlashMaxHeadDim);
        var acc = LocalMemory.Allocate<float>(FlashMaxHeadDim);
        var s = LocalMemory.Allocate<float>(FlashTile);
        int t = Group.IdxX, z = Grid.IdxY, b = z / a.Heads, d = a.HeadDim;
        int i0 = Grid.IdxX * FlashTile, i = i0 + t;
        bool active = i < a.QueryLength;
        long qBase = ((long)z * a.QueryLength + i) * d, kBase = (long)z * a.KeyLength * d;
        for (int x = 0; x < d; x++) { qRow[x] = active ? q[qBase + x] : 0f; acc[x] = 0f; }
        float m = float.NegativeInfinity, l = 0f;
        KeySpan(a, i0, XMath.Min(i0 + FlashTile, a.QueryLength) - 1, out int start, out int end);
        for (int j0 = start; j0 < end; j0 += FlashTile)
        {
            StageTiles(k, v, kBase, j0, end, d, kTile, vTile);       // 64 keys and values: thread t copies row j0 + t
            Group.Barrier();
            if (active)
            {
                float tileMax = float.NegativeInfinity;
                for (int c = 0; c < FlashTile; c++)
                {
                    int j = j0 + c;
                    float score = float.NegativeInfinity;
                    if (j < end && a.Allows(padding, b, i, j))
                    {
                        float dot = 0f;
                        for (int x = 0; x < d; x++) dot += qRow[x] * kTile[c * FlashMaxHeadDim + x];
                        score = dot * a.Scale;
                    }
                    s[c] = score;
                    tileMax = XMath.Max(tileMax, score);
                }
                if (tileMax > float.NegativeInfinity)
                {
                    // online softmax: rescale what was summed under the old maximum, then add this tile
                    float mNew = XMath.Max(m, tileMax);
                    float correction = m == float.NegativeInfinity ? 0f : XMath.Exp(m - mNew);
                    l *= correction;
                    for (int x = 0; x < d; x++) acc[x] *= correction;
                    for (int c = 0; c < FlashTile; c++)
                    {
                        if (s[c] == float.NegativeInfinity) continue;
                        float p = XMath.Exp(s[c] - mNew);
                        l += p;
                        for (int x = 0; x < d; x++) acc[x] += p * vTile[c * FlashMaxHeadDim + x];
                    }
                    m = mNew;
                }
            }
            Group.Barrier();
        }
        if (!active) return;
        float inv = l > 0f ? 1f / l : 0f;
        for (int x = 0; x < d; x++) o[qBase + x] = acc[x] * inv;
        lse[(long)z * a.QueryLength + i] = l > 0f ? m + XMath.Log(l) : float.PositiveInfinity;
    }

    private static void FlashRowDotKernel(Index1D row, ArrayView<float> dO, ArrayView<float> o, ArrayView<float> rowDot, int d)
    {
        float sum = 0f;
        long b = (long)(int)row * d;
        for (int x = 0; x < d; x++) sum += dO[b + x] * o[b + x];
        rowDot[row] = sum;
    }

    private static void FlashKeyValueKernel(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> dO,
        ArrayView<float> lse, ArrayView<float> rowDot, ArrayView<int> padding, ArrayView<float> dk, ArrayView<float> dv, AttentionArgs a)
    {
        var qTile = SharedMemory.Allocate<float>(FlashTile * FlashMaxHeadDim);
        var dOTile = SharedMemory.Allocate<float>(FlashTile * FlashMaxHeadDim);
        var lseTile = SharedMemory.Allocate<float>(FlashTile);
        var dotTile = SharedMemory.Allocate<float>(FlashTile);
        var kRow = LocalMemory.Allocate<float>(FlashMaxHeadDim);
        var vRow = LocalMemory.Allocate<float>(FlashMaxHeadDim);
        var dkRow = LocalMemory.Allocate<float>(FlashMaxHeadDim);
        var dvRow = LocalMemory.Allocate<float>(FlashMaxHeadDim);
        int t = Group.IdxX, z = Grid.IdxY, b = z / a.Heads, d = a.HeadDim;
        int j0 = Grid.IdxX * FlashTile, j = j0 + t;
        bool active = j < a.KeyLength;
        long kOffset = ((long)z * a.KeyLength + j) * d, qBase = (long)z * a.QueryLength * d;
        LoadRows(k, v, kOffset, active, d, kRow, vRow, dkRow);
        for (int x = 0; x < d; x++) dvRow[x] = 0f;
        QuerySpan(a, j0, XMath.Min(j0 + FlashTile, a.KeyLength) - 1, out int start, out int end);
        for (int i0 = start; i0 < end; i0 += FlashTile)
        {
            StageTiles(q, dO, qBase, i0, end, d, qTile, dOTile);
            int it = i0 + t;
            lseTile[t] = it < end ? lse[(long)z * a.QueryLength + it] : float.PositiveInfinity;
            dotTile[t] = it < end ? rowDot[(long)z * a.QueryLength + it] : 0f;
            Group.Barrier();
            if (active)
            {
                for (int r = 0; r < FlashTile; r++)
                {
                    int i = i0 + r;
                    if (i >= end || !a.Allows(padding, b, i, j)) continue;
                    float dot = 0f, dp = 0f;
                    for (int x = 0; x < d; x++)
                    {
                        dot += qTile[r * FlashMaxHeadDim + x] * kRow[x];
                        dp += dOTile[r * FlashMaxHeadDim + x] * vRow[x];
                    }
                    float p = XMath.Exp(dot * a.Scale - lseTile[r]);         // the forward's probability, recomputed
                    float ds = p * (dp - dotTile[r]);                         // softmax backward: P ⊙ (dP − D)
                    for (int x = 0; x < d; x++)
                    {
                        dvRow[x] += p * dOTile[r * FlashMaxHeadDim + x];
                        dkRow[x] += ds * a.Scale * qTile[r * FlashMaxHeadDim + x];
                    }
                }
            }
            Group.Barrier();
        }
        if (!active) return;
        for (int x = 0; x < d; x++) { dk[kOffset + x] = dkRow[x]; dv[kOffset + x] = dvRow[x]; }
    }

    private static void FlashQueryKernel(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> dO,
        ArrayView<float> lse, ArrayView<float> rowDot, ArrayView<int> padding, ArrayView<float> dq, AttentionArgs a)
    {
        var kTile = SharedMemory.Allocate<float>(FlashTile * FlashMaxHeadDim);
        var vTile = SharedMemory.Allocate<float>(FlashTile * FlashMaxHeadDim);
        var qRow = LocalMemory.Allocate<float>(FlashMaxHeadDim);
        var dORow = LocalMemory.Allocate<float>(FlashMaxHeadDim);
        var dqRow = LocalMemory.Allocate<float>(FlashMaxHeadDim);
        int t = Group.IdxX, z = Grid.IdxY, b = z / a.Heads, d = a.HeadDim;
        int i0 = Grid.IdxX * FlashTile, i = i0 + t;
        bool active = i < a.QueryLength;
        long qOffset = ((long)z * a.QueryLength + i) * d, kBase = (long)z * a.KeyLength * d;
        LoadRows(q, dO, qOffset, active, d, qRow, dORow, dqRow);
        float rowLse = active ? lse[(long)z * a.QueryLength + i] : float.PositiveInfinity;
        float rowD = active ? rowDot[(long)z * a.QueryLength + i] : 0f;
        KeySpan(a, i0, XMath.Min(i0 + FlashTile, a.QueryLength) - 1, out int start, out int end);
        for (int j0 = start; j0 < end; j0 += FlashTile)
        {
            StageTiles(k, v, kBase, j0, end, d, kTile, vTile);
            Group.Barrier();
            if (active)
            {
                for (int c = 0; c < FlashTile; c++)
                {
                    int j = j0 + c;
                    if (j >= end || !a.Allows(padding, b, i, j)) continue;
                    float dot = 0f, dp = 0f;
                    for (int x = 0; x < d; x++)
                    {
                        dot += qRow[x] * kTile[c * FlashMaxHeadDim + x];
                        dp += dORow[x] * vTile[c * FlashMaxHeadDim + x];
                    }
                    float ds = XMath.Exp(dot * a.Scale - rowLse) * (dp - rowD);
                    for (int x = 0; x < d; x++) dqRow[x] += ds * a.Scale * kTile[c * FlashMaxHeadDim + x];
                }
            }
            Group.Barrier();
        }
        if (!active) return;
        for (int x = 0; x < d; x++) dq[qOffset + x] = dqRow[x];
    }
}
