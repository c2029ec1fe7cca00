using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AttentionLab.Training;

/// <summary>Hyper-parameters of <see cref="AdamW"/>, defaults as <c>torch.optim.AdamW</c> except the weight decay (0 here).</summary>
public sealed record AdamWOptions
{
    public float LearningRate { get; init; } = 1e-3f;
    public float Beta1 { get; init; } = 0.9f;
    public float Beta2 { get; init; } = 0.999f;
    public float Epsilon { get; init; } = 1e-8f;
    /// <summary>Decoupled weight decay (Loshchilov and Hutter 2019): p ← p − lr·wd·p, applied before the Adam update.</summary>
    public float WeightDecay { get; init; }
}

/// <summary>
/// AdamW with PyTorch's exact update order (torch/optim/adamw.py, single-tensor path):
/// <code>
/// t += 1
/// p ← p·(1 − lr·wd)
/// m ← β1·m + (1 − β1)·g
/// v ← β2·v + (1 − β2)·g²
/// p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + eps)
/// </code>
/// The moments live in one arena of the parameters' length, created once.
/// </summary>
public sealed class AdamW
{
    private readonly float[] _m;
    private readonly float[] _v;
    private readonly (int Offset, int Length)[]? _decayed;

    /// <param name="parameterCount">length of the parameter arena</param>
    /// <param name="options">hyper-parameters (the learning rate can be overridden per step)</param>
    /// <param name="decayed">ranges of the arena that receive weight decay (nanoGPT decays only matrices and
    /// embeddings); null means every parameter</param>
    public AdamW(int parameterCount, AdamWOptions? options = null, IEnumerable<(int Offset, int Length)>? decayed = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(parameterCount);
        Options = options ?? new AdamWOptions();
        _m = new float[parameterCount];
        _v = new float[parameterCount];
        if (decayed is not null)
        {
            _decayed = decayed.OrderBy(r => r.Offset).ToArray();
            foreach (var (o, l) in _decayed)
                if (o < 0 || l < 0 || (long)o + l > parameterCount) throw new ArgumentOutOfRangeException(nameof(decayed), $"range ({o}, {l}) is outside the {parameterCount} parameters");
        }
    }

    public AdamWOptions Options { get; set; }

    /// <summary>Steps taken so far (PyTorch's <c>state["step"]</c>).</summary>
    public int StepCount { get; private set; }

    /// <summary>First moments, same layout as the parameters.</summary>
    public ReadOnlyMemory<float> FirstMoment => _m;

    /// <summary>Second moments, same layout as the parameters.</summary>
    public ReadOnlyMemory<float> SecondMoment => _v;

    /// <summary>
    /// Puts saved optimizer state back (exact resume from a checkpoint): both moments and the step count, which
    /// sets the bias corrections of the next step.
    /// </summary>
    /// <param name="firstMoment">(P) PyTorch's exp_avg</param>
    /// <param name="secondMoment">(P) PyTorch's exp_avg_sq</param>
    /// <param name="stepCount">steps taken when the state was saved (≥ 0)</param>
    public void Restore(ReadOnlySpan<float> firstMoment, ReadOnlySpan<float> secondMoment, int stepCount)
    {
        if (firstMoment.Length != _m.Length || secondMoment.Length != _v.Length)
            throw new ArgumentException($"saved moments have {firstMoment.Length} and {secondMoment.Length} elements; this optimizer has {_m.Length}");
        ArgumentOutOfRangeException.ThrowIfNegative(stepCount);
        firstMoment.CopyTo(_m);
        secondMoment.CopyTo(_v);
        StepCount = stepCount;
    }

    /// <summary>One update of every parameter. Splits the arena over the cores when it is large.</summary>
    /// <param name="parameters">(P), updated in place</param>
    /// <param name="gradients">(P)</param>
    /// <param name="learningRate">overrides <see cref="AdamWOptions.LearningRate"/> for this step (schedules)</param>
    /// <param name="clearGradients">also set every gradient to zero in the same pass (PyTorch's zero_grad fused in:
    /// one sweep over the arena fewer per step)</param>
    public void Step(float[] parameters, float[] gradients, float? learningRate = null, bool clearGradients = false)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(gradients);
        if (parameters.Length != _m.Length || gradients.Length != _m.Length)
            throw new ArgumentException($"parameters and gradients need {_m.Length} elements, got {parameters.Length} and {gradients.Length}");
        StepCount++;
        var o = Options;
        float lr = learningRate ?? o.LearningRate;
        float bc1 = 1f - MathF.Pow(o.Beta1, StepCount);
        float bc2 = 1f - MathF.Pow(o.Beta2, StepCount);
        var k = new StepConstants(o.Beta1, o.Beta2, o.Epsilon, lr / bc1, 1f / MathF.Sqrt(bc2), 1f - lr * o.WeightDecay, clearGradients);
        int n = parameters.Length;
        const int chunk = 1 << 16;
        int chunks = (n + chunk - 1) / chunk;
        if (chunks <= 1 || Environment.ProcessorCount == 1) { Range(parameters, gradients, 0, n, k); return; }
        int workers = Math.Min(Environment.ProcessorCount, chunks);
        Parallel.For(0, workers, w =>
        {
            long start = (long)n * w / workers, end = (long)n * (w + 1) / workers;
            Range(parameters, gradients, (int)start, (int)(end - start), k);
        });
    }

    /// <summary>The update written out per element, the definition. Same contract as <see cref="Step"/>.</summary>
    public void StepReference(float[] parameters, float[] gradients, float? learningRate = null)
    {
        if (parameters.Length != _m.Length || gradients.Length != _m.Length)
            throw new ArgumentException($"parameters and gradients need {_m.Length} elements");
        StepCount++;
        var o = Options;
        double lr = learningRate ?? o.LearningRate;
        double bc1 = 1 - Math.Pow(o.Beta1, StepCount), bc2 = 1 - Math.Pow(o.Beta2, StepCount);
        for (int i = 0; i < parameters.Length; i++)
        {
            float g = gradients[i];
            if (IsDecayed(i)) parameters[i] *= (float)(1 - lr * o.WeightDecay);
            _m[i] = o.Beta1 * _m[i] + (1 - o.Beta1) * g;
            _v[i] = o.Beta2 * _v[i] + (1 - o.Beta2) * g * g;
            double denom = Math.Sqrt(_v[i]) / Math.Sqrt(bc2) + o.Epsilon;
            parameters[i] = (float)(parameters[i] - lr / bc1 * _m[i] / denom);
        }
    }

    /// <summary>
    /// <c>torch.nn.utils.clip_grad_norm_</c>: if the global L2 norm exceeds <paramref name="maxNorm"/>, scales every
    /// gradient by maxNorm / (norm + 1e-6). Returns the norm before clipping.
    /// </summary>
    public static float ClipGradientNorm(Span<float> gradients, float maxNorm)
    {
        double sum = 0;
        const int block = 4096;
        for (int o = 0; o < gradients.Length; o += block)
        {
            var s = gradients.Slice(o, Math.Min(block, gradients.Length - o));
            sum += System.Numerics.Tensors.TensorPrimitives.Dot(s, s);
        }
        float norm = (float)Math.Sqrt(sum);
        float coefficient = maxNorm / (norm + 1e-6f);
        if (coefficient < 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(gradients, coefficient, gradients);
        return norm;
    }

    private bool IsDecayed(int i)
    {
        if (_decayed is null) return true;
        foreach (var (o, l) in _decayed) if (i >= o && i < o + l) return true;
        return false;
    }

    private readonly record struct StepConstants(float Beta1, float Beta2, float Epsilon, float StepSize, float InvSqrtBc2, float Decay, bool ClearGradients);

    private void Range(float[] p, float[] g, int start, int length, StepConstants k)
    {
        if (_decayed is null) { Update(p, g, start, length, k, k.Decay); return; }
        // walk the range, switching the decay factor at the decayed ranges' edges
        int pos = start, end = start + length;
        foreach (var (o, l) in _decayed)
        {
            int a = Math.Max(o, pos), b = Math.Min(o + l, end);
            if (b <= a) continue;
            if (a > pos) Update(p, g, pos, a - pos, k, 1f);
            Update(p, g, a, b - a, k, k.Decay);
            pos = b;
        }
        if (pos < end) Update(p, g, pos, end - pos, k, 1f);
    }

    private void Update(float[] parameters, float[] gradients, int start, int length, StepConstants k, float decay)
    {
        if (length <= 0) return;
        ref float p = ref parameters[start];
        ref float g = ref gradients[start];
        ref float m = ref _m[start];
        ref float v = ref _v[start];
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var b1 = Vector512.Create(k.Beta1); var c1 = Vector512.Create(1f - k.Beta1);
            var b2 = Vector512.Create(k.Beta2); var c2 = Vector512.Create(1f - k.Beta2);
            var eps = Vector512.Create(k.Epsilon); var step = Vector512.Create(k.StepSize);
            var ib = Vector512.Create(k.InvSqrtBc2); var dec = Vector512.Create(decay);
            for (; i <= length - 16; i += 16)
            {
                var gi = Vector512.LoadUnsafe(ref g, (nuint)i);
                var mi = b1 * Vector512.LoadUnsafe(ref m, (nuint)i) + c1 * gi;
                var vi = b2 * Vector512.LoadUnsafe(ref v, (nuint)i) + c2 * (gi * gi);
                var pi = Vector512.LoadUnsafe(ref p, (nuint)i) * dec;
                var denom = Vector512.Sqrt(vi) * ib + eps;
                (pi - step * mi / denom).StoreUnsafe(ref p, (nuint)i);
                mi.StoreUnsafe(ref m, (nuint)i);
                vi.StoreUnsafe(ref v, (nuint)i);
                if (k.ClearGradients) Vector512<float>.Zero.StoreUnsafe(ref g, (nuint)i);
            }
        }
        for (; i < length; i++)
        {
            float gi = Unsafe.Add(ref g, i);
            float mi = k.Beta1 * Unsafe.Add(ref m, i) + (1f - k.Beta1) * gi;
            float vi = k.Beta2 * Unsafe.Add(ref v, i) + (1f - k.Beta2) * (gi * gi);
            float pi = Unsafe.Add(ref p, i) * decay;
            Unsafe.Add(ref p, i) = pi - k.StepSize * mi / (MathF.Sqrt(vi) * k.InvSqrtBc2 + k.Epsilon);
            Unsafe.Add(ref m, i) = mi;
            Unsafe.Add(ref v, i) = vi;
            if (k.ClearGradients) Unsafe.Add(ref g, i) = 0;
        }
    }
}
