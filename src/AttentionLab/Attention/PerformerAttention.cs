using System.Buffers;
using System.Collections.Concurrent;
using System.Numerics.Tensors;
using AttentionLab.Kernels;

namespace AttentionLab.Attention;

/// <summary>
/// Performer's FAVOR+ (Choromanski et al. 2021, "Rethinking Attention with Performers"): softmax attention
/// approximated with F positive orthogonal random features, in O(T·F·D) time and O(T·F) memory — the (Tq, Tk)
/// matrix is never formed. Written <c>performer:F[,seed:S]</c>. The derivation, forward and backward, is in
/// docs/attention.md §11.
/// <code>
/// x̃ = x·√scale                                   so that q̃·k̃ = q·k·scale
/// φ(x) = exp(W·x̃ − |x̃|²/2) / √F                 (F) positive features; E[φ(q)·φ(k)] = exp(q̃·k̃)
/// bidirectional:  o_i = φ(q_i)ᵀ·S / φ(q_i)ᵀ·z,   S = Σ_j φ(k_j)·v_jᵀ (F, D),  z = Σ_j φ(k_j) (F)
/// causal:         the same with prefix sums S_p, z_p over keys j ≤ p = i + Tk − Tq (bottom-right, KV-cache decode)
/// </code>
/// W (F, D) is drawn once per head dimension from the seed: blocks of D Gaussian rows made orthonormal by
/// Gram–Schmidt, each row then rescaled to the norm of an independent Gaussian vector (chi-distributed with D degrees of
/// freedom), so every row is marginally N(0, I) as the unbiased estimator needs, while rows within a block are exactly
/// orthogonal (lower variance). Every head and batch element uses the same W.
/// <para>
/// Masks it honours: causal (with <see cref="AttentionOptions.PrefixLength"/>: each query still sees a prefix of the
/// keys) and key padding (padded keys leave the sums). A sliding window, global tokens, a boolean or an additive mask
/// would need the individual scores, which FAVOR+ never forms: those throw <see cref="ArgumentException"/>.
/// The scale must be positive (√scale). Saves nothing for backward: the features are recomputed (cheap, O(T·F·D)).
/// </para>
/// Stabilizers: φ(q_i) is computed as exp(u − max_f u) and φ(k_j) as exp(u − max over the head's keys), as in the
/// reference implementation. Both factors cancel between numerator and denominator, so they change neither the output
/// nor its gradient and backward treats them as constants.
/// </summary>
public sealed class PerformerAttention : IAttentionKernel
{
    /// <summary>Seed of the random features when none is given.</summary>
    public const int DefaultSeed = 0;

    private readonly ConcurrentDictionary<int, float[]> _projections = new();
    private readonly float[]? _fixedProjection;
    private readonly int _fixedHeadDim;

    /// <param name="features">F ≥ 1 random features</param>
    /// <param name="seed">seed of the random projection (same seed, same features, same results)</param>
    public PerformerAttention(int features, int seed = DefaultSeed)
    {
        if (features < 1) throw new ArgumentOutOfRangeException(nameof(features), $"the number of Performer features must be at least 1, got {features}");
        (Features, Seed) = (features, seed);
    }

    /// <summary>A kernel with a given projection (F, D), e.g. the one a PyTorch fixture stores.</summary>
    /// <param name="projection">(F, D) row-major: row f is the random direction w_f</param>
    internal PerformerAttention(float[] projection, int features, int headDim) : this(features)
    {
        ArgumentNullException.ThrowIfNull(projection);
        if (projection.Length != features * headDim) throw new ArgumentException($"projection has {projection.Length} elements; (F, D) = ({features}, {headDim}) needs {features * headDim}");
        (_fixedProjection, _fixedHeadDim) = (projection, headDim);
    }

    /// <summary>F, the number of random features.</summary>
    public int Features { get; }

    /// <summary>The seed of the random projection.</summary>
    public int Seed { get; }

    /// <summary>The kernel for a spec such as <c>performer:256</c> or <c>performer:64,seed:7</c>.</summary>
    internal static PerformerAttention FromSpec(AttentionKernelSpec spec)
    {
        spec.OnlyOptions("seed");
        int f = spec.MainInt("the number of random features F", 1, 1 << 16);
        int seed = spec.OptionInt("seed", int.MinValue, int.MaxValue, DefaultSeed);
        return new PerformerAttention(f, seed);
    }

    public string Name => $"performer:{Features}" + (Seed != DefaultSeed ? $",seed:{Seed}" : "");

    public bool IsExact => false;

    /// <summary>No state is kept between calls: heads may run in parallel.</summary>
    public bool CallsMayOverlap => true;

    /// <summary>Nothing: backward recomputes the features.</summary>
    public long SavedLength(AttentionShape shape) => 0;

    /// <summary>W (F, D): the random feature directions for heads of <paramref name="headDim"/> dimensions.</summary>
    public ReadOnlySpan<float> Projection(int headDim)
    {
        if (_fixedProjection is not null)
            return headDim == _fixedHeadDim ? _fixedProjection
                : throw new ArgumentException($"this Performer kernel was built for D = {_fixedHeadDim}, not {headDim}");
        return _projections.GetOrAdd(headDim, d => OrthogonalGaussian(Features, d, Seed));
    }

    /// <summary>
    /// F rows of D: blocks of D Gaussian rows orthonormalized by Gram–Schmidt, each row scaled to the norm of an
    /// independent Gaussian D-vector (FAVOR+'s "regularized" orthogonal random features; the last block keeps only
    /// the rows it needs).
    /// </summary>
    public static float[] OrthogonalGaussian(int features, int headDim, int seed)
    {
        var random = new Random(seed);
        double Gaussian()
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        }
        int D = headDim;
        var w = new float[features * D];
        var block = new double[D * D];
        for (int f0 = 0; f0 < features; f0 += D)
        {
            for (int e = 0; e < block.Length; e++) block[e] = Gaussian();
            for (int r = 0; r < D; r++)
            {
                var row = block.AsSpan(r * D, D);
                for (int prev = 0; prev < r; prev++) // remove the components along the rows already made orthonormal
                {
                    var p = block.AsSpan(prev * D, D);
                    double dot = 0;
                    for (int d = 0; d < D; d++) dot += row[d] * p[d];
                    for (int d = 0; d < D; d++) row[d] -= dot * p[d];
                }
                double norm = 0;
                for (int d = 0; d < D; d++) norm += row[d] * row[d];
                norm = Math.Sqrt(norm);
                for (int d = 0; d < D; d++) row[d] /= norm;
            }
            for (int r = 0; r < D && f0 + r < features; r++)
            {
                double chi = 0; // |g| for g ~ N(0, I_D): chi-distributed with D degrees of freedom
                for (int d = 0; d < D; d++) { double g = Gaussian(); chi += g * g; }
                chi = Math.Sqrt(chi);
                for (int d = 0; d < D; d++) w[(f0 + r) * D + d] = (float)(block[r * D + d] * chi);
            }
        }
        return w;
    }

    /// <summary>Refuses the masks FAVOR+ cannot apply, with a message that says why.</summary>
    private void CheckSupported(AttentionOptions options, int headDim)
    {
        string why = "FAVOR+ never forms the individual scores; use an exact kernel (naive, fast, flash) for it";
        if (options.Window is not null) throw new ArgumentException($"attention kernel '{Name}' cannot apply a sliding window: {why}");
        if (options.BooleanMask is not null) throw new ArgumentException($"attention kernel '{Name}' cannot apply a boolean mask: {why}");
        if (options.AdditiveMask is not null) throw new ArgumentException($"attention kernel '{Name}' cannot apply an additive mask: {why}");
        if (options.ScaleFor(headDim) <= 0) throw new ArgumentException($"attention kernel '{Name}' needs a positive scale (it uses √scale), got {options.ScaleFor(headDim)}");
        if (_fixedProjection is not null && headDim != _fixedHeadDim) throw new ArgumentException($"this Performer kernel was built for D = {_fixedHeadDim}, not {headDim}");
    }

    /// <summary>Number of keys query i sees: a prefix [0, e_i) of the keys (causal OR prefix; all when bidirectional).
    /// The end of <see cref="AttentionOptions.KeyRange"/>, which starts at 0 here: Performer takes no window.</summary>
    private static int VisiblePrefix(AttentionOptions options, int i, int Tq, int Tk) => options.KeyRange(i, Tq, Tk).End;

    public unsafe void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        AttentionShape shape, AttentionOptions options, Span<float> output, Span<float> saved)
    {
        AttentionChecks.Forward(q, k, v, shape, options, output, saved, SavedLength(shape));
        CheckSupported(options, shape.HeadDim);
        var (B, H, Tq, Tk, D) = shape;
        if (B * H * Tq == 0) return;
        var w = Projection(D).ToArray();
        fixed (float* qp = q, kp = k, vp = v, op = output)
        {
            var p = new Pointers(qp, kp, vp, op, null, null, null, null);
            Parallel.For(0, B * H, new ParallelOptions { MaxDegreeOfParallelism = B * H == 1 ? 1 : -1 },
                bh => Head(p, shape, options, w, bh, backward: false));
        }
    }

    public unsafe void Backward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> output,
        ReadOnlySpan<float> saved, ReadOnlySpan<float> dOutput, AttentionShape shape, AttentionOptions options,
        Span<float> dq, Span<float> dk, Span<float> dv)
    {
        AttentionChecks.Backward(q, k, v, output, saved, SavedLength(shape), dOutput, shape, options, dq, dk, dv);
        CheckSupported(options, shape.HeadDim);
        var (B, H, _, _, D) = shape;
        dq.Clear(); dk.Clear(); dv.Clear();
        if (B * H == 0) return;
        var w = Projection(D).ToArray();
        fixed (float* qp = q, kp = k, vp = v, op = output, dop = dOutput, dqp = dq, dkp = dk, dvp = dv)
        {
            var p = new Pointers(qp, kp, vp, op, dop, dqp, dkp, dvp);
            Parallel.For(0, B * H, new ParallelOptions { MaxDegreeOfParallelism = B * H == 1 ? 1 : -1 },
                bh => Head(p, shape, options, w, bh, backward: true));
        }
    }

    /// <summary>The approximate weights a_ij / Σ_j a_ij with a_ij = φ(q_i)·φ(k_j) (0 for hidden keys): what FAVOR+
    /// implicitly applies, materialized for inspection.</summary>
    public void Weights(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        AttentionShape shape, AttentionOptions options, Span<float> weights)
    {
        AttentionChecks.Weights(q, k, v, shape, options, weights);
        CheckSupported(options, shape.HeadDim);
        var (B, H, Tq, Tk, D) = shape;
        int F = Features;
        var w = Projection(D);
        float rootScale = MathF.Sqrt(options.ScaleFor(D));
        var qf = new float[Tq * F];
        var kf = new float[Tk * F];
        for (int bh = 0; bh < B * H; bh++)
        {
            FeatureMap(q.Slice(bh * Tq * D, Tq * D), w, Tq, D, F, rootScale, perRow: true, qf);
            FeatureMap(k.Slice(bh * Tk * D, Tk * D), w, Tk, D, F, rootScale, perRow: false, kf);
            for (int i = 0; i < Tq; i++)
            {
                var row = weights.Slice((bh * Tq + i) * Tk, Tk);
                int e = VisiblePrefix(options, i, Tq, Tk);
                double sum = 0;
                for (int j = 0; j < Tk; j++)
                {
                    bool visible = j < e && (options.KeyPaddingMask is not { } pad || pad[bh / H * Tk + j]);
                    row[j] = visible ? TensorPrimitives.Dot(qf.AsSpan(i * F, F), kf.AsSpan(j * F, F)) : 0;
                    sum += row[j];
                }
                if (sum > 0) TensorPrimitives.Multiply(row, (float)(1 / sum), row);
                else row.Clear();
            }
        }
    }

    /// <summary>The pinned buffers of one call (d* are null in forward).</summary>
    private readonly unsafe struct Pointers(float* q, float* k, float* v, float* o, float* dOut, float* dq, float* dk, float* dv)
    {
        public readonly float* Q = q, K = k, V = v, O = o, DO = dOut, DQ = dq, DK = dk, DV = dv;
    }

    /// <summary>
    /// φ(x) for the rows of x (T, D) into phi (T, F): U = x̃·Wᵀ − |x̃|²/2, minus a stabilizer (each row's max for
    /// queries, the max over all rows for keys), then exp and 1/√F.
    /// </summary>
    private static void FeatureMap(ReadOnlySpan<float> x, ReadOnlySpan<float> w, int T, int D, int F, float rootScale, bool perRow, Span<float> phi)
    {
        if (T == 0) return;
        Gemm.Multiply(x, w, phi, T, F, D, transposeB: true, maxThreads: 1);        // (T, F) = x·Wᵀ
        TensorPrimitives.Multiply(phi, rootScale, phi);                             // x̃·Wᵀ
        float globalMax = float.NegativeInfinity;
        for (int t = 0; t < T; t++)
        {
            var xr = x.Slice(t * D, D);
            float half = 0.5f * rootScale * rootScale * TensorPrimitives.Dot(xr, xr); // |x̃|²/2
            var u = phi.Slice(t * F, F);
            TensorPrimitives.Subtract(u, half, u);
            if (perRow) TensorPrimitives.Subtract(u, TensorPrimitives.Max(u), u);
            else globalMax = Math.Max(globalMax, TensorPrimitives.Max(u));
        }
        if (!perRow) TensorPrimitives.Subtract(phi, globalMax, phi);
        TensorPrimitives.Exp(phi, phi);
        TensorPrimitives.Multiply(phi, 1f / MathF.Sqrt(F), phi);
    }

    /// <summary>
    /// Backward of <see cref="FeatureMap"/>: with G = dφ ⊙ φ, dx̃ = G·W − x̃ ⊙ rowsum(G), and dx = dx̃·√scale
    /// (∂φ_f/∂x̃ = φ_f·(w_f − x̃); the stabilizers cancel in the output and get no gradient).
    /// </summary>
    private static void FeaturesBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> phi, Span<float> dPhi,
        int T, int D, int F, float rootScale, Span<float> dx)
    {
        if (T == 0) return;
        TensorPrimitives.Multiply(dPhi, phi, dPhi);                                  // G = dφ ⊙ φ (T, F)
        Gemm.Multiply(dPhi, w, dx, T, D, F, maxThreads: 1);                          // G·W (T, D)
        for (int t = 0; t < T; t++)
        {
            float rowSum = TensorPrimitives.Sum(dPhi.Slice(t * F, F));
            var dxr = dx.Slice(t * D, D);
            // dx̃ = G·W − x̃·rowsum(G);  dx = √scale·dx̃,  x̃ = √scale·x
            TensorPrimitives.MultiplyAdd(x.Slice(t * D, D), -rootScale * rowSum, dxr, dxr);
            TensorPrimitives.Multiply(dxr, rootScale, dxr);
        }
    }

    private unsafe void Head(Pointers p, AttentionShape shape, AttentionOptions options, float[] w, int bh, bool backward)
    {
        var (_, H, Tq, Tk, D) = shape;
        int F = Features, b = bh / H;
        float rootScale = MathF.Sqrt(options.ScaleFor(D));
        var q = new ReadOnlySpan<float>(p.Q + (long)bh * Tq * D, Tq * D);   // (Tq, D)
        var k = new ReadOnlySpan<float>(p.K + (long)bh * Tk * D, Tk * D);   // (Tk, D)
        var v = new ReadOnlySpan<float>(p.V + (long)bh * Tk * D, Tk * D);   // (Tk, D)
        var o = new Span<float>(p.O + (long)bh * Tq * D, Tq * D);           // (Tq, D)

        int scratch = 2 * Tq * F + 2 * Tk * F + 2 * F * D + 2 * F + Tq + Tq * D;
        float[] rented = ArrayPool<float>.Shared.Rent(scratch);
        try
        {
            var all = rented.AsSpan(0, scratch);
            var qf = Take(ref all, Tq * F);      // (Tq, F) φ(q)
            var kf = Take(ref all, Tk * F);      // (Tk, F) φ(k), 0 for padded keys
            var s = Take(ref all, F * D);        // (F, D) Σ φ(k_j)·v_jᵀ
            var z = Take(ref all, F);            // (F) Σ φ(k_j)
            FeatureMap(q, w, Tq, D, F, rootScale, perRow: true, qf);
            FeatureMap(k, w, Tk, D, F, rootScale, perRow: false, kf);
            if (options.KeyPaddingMask is { } pad)
                for (int j = 0; j < Tk; j++) if (!pad[b * Tk + j]) kf.Slice(j * F, F).Clear();
            bool bidirectional = VisiblePrefix(options, 0, Tq, Tk) == Tk; // every query sees every key (prefix sums not needed)

            if (!backward)
            {
                if (bidirectional)
                {
                    Gemm.Multiply(kf, v, s, F, D, Tk, transposeA: true, maxThreads: 1);   // S = φ(K)ᵀ·V (F, D)
                    ColumnSums(kf, Tk, F, z);                                              // z = φ(K)ᵀ·1
                    Gemm.Multiply(qf, s, o, Tq, D, F, maxThreads: 1);                      // N = φ(Q)·S (Tq, D)
                    for (int i = 0; i < Tq; i++) Normalize(o.Slice(i * D, D), TensorPrimitives.Dot(qf.Slice(i * F, F), z));
                }
                else
                {
                    s.Clear(); z.Clear();
                    int j = 0;
                    for (int i = 0; i < Tq; i++)
                    {
                        for (int e = VisiblePrefix(options, i, Tq, Tk); j < e; j++) AddOuter(kf.Slice(j * F, F), v.Slice(j * D, D), s, z);
                        var oi = o.Slice(i * D, D);
                        RowTimes(qf.Slice(i * F, F), s, D, oi);                                // N_i = φ(q_i)ᵀ·S_p
                        Normalize(oi, TensorPrimitives.Dot(qf.Slice(i * F, F), z));
                    }
                }
                return;
            }

            // ---- backward: with N_i = φ(q_i)ᵀ·S, d_i = φ(q_i)·z, o_i = N_i / d_i and g_i = dL/do_i:
            //      dN_i = g_i / d_i,   dd_i = −(g_i · o_i) / d_i
            //      dφ(q_i) = S·dN_i + z·dd_i,   dS = Σ_i φ(q_i)·dN_iᵀ,   dz = Σ_i φ(q_i)·dd_i   (over the queries that see key j)
            //      dφ(k_j) = dS·v_j + dz,       dv_j = dSᵀ·φ(k_j)
            var dOut = new ReadOnlySpan<float>(p.DO + (long)bh * Tq * D, Tq * D);   // (Tq, D)
            var dq = new Span<float>(p.DQ + (long)bh * Tq * D, Tq * D);             // (Tq, D)
            var dk = new Span<float>(p.DK + (long)bh * Tk * D, Tk * D);             // (Tk, D)
            var dv = new Span<float>(p.DV + (long)bh * Tk * D, Tk * D);             // (Tk, D)
            var dqf = Take(ref all, Tq * F);    // (Tq, F) dφ(q)
            var dkf = Take(ref all, Tk * F);    // (Tk, F) dφ(k)
            var ds = Take(ref all, F * D);      // (F, D)
            var dz = Take(ref all, F);          // (F)
            var dd = Take(ref all, Tq);         // (Tq) dd_i
            var dN = Take(ref all, Tq * D);     // (Tq, D) dN_i
            if (bidirectional)
            {
                Gemm.Multiply(kf, v, s, F, D, Tk, transposeA: true, maxThreads: 1);          // S (F, D)
                ColumnSums(kf, Tk, F, z);
                for (int i = 0; i < Tq; i++) Upstream(i, qf, z, dOut, o, dN, dd);
                Gemm.Multiply(dN, s, dqf, Tq, F, D, transposeB: true, maxThreads: 1);        // dφ(Q) = dN·Sᵀ
                for (int i = 0; i < Tq; i++) TensorPrimitives.MultiplyAdd(z, dd[i], dqf.Slice(i * F, F), dqf.Slice(i * F, F)); // + dd_i·z
                Gemm.Multiply(qf, dN, ds, F, D, Tq, transposeA: true, maxThreads: 1);        // dS = φ(Q)ᵀ·dN (F, D)
                dz.Clear();
                for (int i = 0; i < Tq; i++) TensorPrimitives.MultiplyAdd(qf.Slice(i * F, F), dd[i], dz, dz);
                Gemm.Multiply(v, ds, dkf, Tk, F, D, transposeB: true, maxThreads: 1);        // dφ(K) = V·dSᵀ (Tk, F)
                for (int j = 0; j < Tk; j++) TensorPrimitives.Add(dkf.Slice(j * F, F), dz, dkf.Slice(j * F, F));
                Gemm.Multiply(kf, ds, dv, Tk, D, F, maxThreads: 1);                          // dV = φ(K)·dS (Tk, D)
            }
            else
            {
                // forward order: prefix sums S_p, z_p for d_i and dφ(q_i)
                s.Clear(); z.Clear();
                int j = 0;
                for (int i = 0; i < Tq; i++)
                {
                    for (int e = VisiblePrefix(options, i, Tq, Tk); j < e; j++) AddOuter(kf.Slice(j * F, F), v.Slice(j * D, D), s, z);
                    Upstream(i, qf, z, dOut, o, dN, dd);
                    var dqi = dqf.Slice(i * F, F);
                    for (int f = 0; f < F; f++) dqi[f] = TensorPrimitives.Dot(s.Slice(f * D, D), dN.Slice(i * D, D)); // S·dN_i
                    TensorPrimitives.MultiplyAdd(z, dd[i], dqi, dqi);                                                // + z·dd_i
                }
                // reverse order: suffix sums over the queries that see key j (e_i > j)
                ds.Clear(); dz.Clear();
                int next = Tq - 1;
                for (j = Tk - 1; j >= 0; j--)
                {
                    for (; next >= 0 && VisiblePrefix(options, next, Tq, Tk) > j; next--)
                    {
                        AddOuter(qf.Slice(next * F, F), dN.Slice(next * D, D), ds, default);
                        TensorPrimitives.MultiplyAdd(qf.Slice(next * F, F), dd[next], dz, dz);
                    }
                    var dkj = dkf.Slice(j * F, F);
                    for (int f = 0; f < F; f++) dkj[f] = TensorPrimitives.Dot(ds.Slice(f * D, D), v.Slice(j * D, D)) + dz[f]; // dS·v_j + dz
                    RowTimes(kf.Slice(j * F, F), ds, D, dv.Slice(j * D, D));                                                   // dSᵀ·φ(k_j)
                }
            }
            if (options.KeyPaddingMask is { } padded)
                for (int j = 0; j < Tk; j++) if (!padded[b * Tk + j]) { dkf.Slice(j * F, F).Clear(); dv.Slice(j * D, D).Clear(); }
            FeaturesBackward(q, w, qf, dqf, Tq, D, F, rootScale, dq);
            FeaturesBackward(k, w, kf, dkf, Tk, D, F, rootScale, dk);

        }
        finally { ArrayPool<float>.Shared.Return(rented); }
    }

    /// <summary>dN_i = g_i / d_i and dd_i = −(g_i · o_i) / d_i for query i, with d_i = φ(q_i)·z and z the key sum it sees.</summary>
    private static void Upstream(int i, ReadOnlySpan<float> qf, ReadOnlySpan<float> z, ReadOnlySpan<float> dOut, ReadOnlySpan<float> o,
        Span<float> dN, Span<float> dd)
    {
        int F = z.Length, D = dN.Length / dd.Length;
        float d = TensorPrimitives.Dot(qf.Slice(i * F, F), z);
        var dNi = dN.Slice(i * D, D);
        if (d > 0)
        {
            TensorPrimitives.Multiply(dOut.Slice(i * D, D), 1f / d, dNi);
            dd[i] = -TensorPrimitives.Dot(dOut.Slice(i * D, D), o.Slice(i * D, D)) / d;
        }
        else { dNi.Clear(); dd[i] = 0; } // no visible key: output 0 and no gradient
    }

    private static Span<float> Take(ref Span<float> rest, int n)
    {
        var head = rest[..n];
        rest = rest[n..];
        return head;
    }

    /// <summary>s += a ⊗ b (a: F, b: D, s: (F, D)); z += a when z is given.</summary>
    private static void AddOuter(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> s, Span<float> z)
    {
        int D = b.Length;
        for (int f = 0; f < a.Length; f++)
            if (a[f] != 0) TensorPrimitives.MultiplyAdd(b, a[f], s.Slice(f * D, D), s.Slice(f * D, D));
        if (!z.IsEmpty) TensorPrimitives.Add(z, a, z);
    }

    /// <summary>result = aᵀ·s (a: F, s: (F, D), result: D).</summary>
    private static void RowTimes(ReadOnlySpan<float> a, ReadOnlySpan<float> s, int D, Span<float> result)
    {
        result.Clear();
        for (int f = 0; f < a.Length; f++) TensorPrimitives.MultiplyAdd(s.Slice(f * D, D), a[f], result, result);
    }

    private static void ColumnSums(ReadOnlySpan<float> x, int rows, int cols, Span<float> sums)
    {
        sums.Clear();
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(sums, x.Slice(r * cols, cols), sums);
    }

    /// <summary>o = N / d, or 0 when the query sees no key (d = 0).</summary>
    private static void Normalize(Span<float> o, float d)
    {
        if (d > 0) TensorPrimitives.Multiply(o, 1f / d, o);
        else o.Clear();
    }
}
