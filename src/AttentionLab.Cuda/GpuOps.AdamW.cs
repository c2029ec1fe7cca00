using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace AttentionLab.Cuda;

/// <summary>Constants of one AdamW update, as <see cref="Training.AdamW"/> computes them on the host.</summary>
internal readonly record struct AdamWArgs(float Beta1, float Beta2, float Epsilon, float StepSize, float InvSqrtBc2, float Decay);

/// <summary>
/// The optimizer on the device: the global gradient norm (<c>clip_grad_norm_</c>), then AdamW with the clip
/// coefficient applied to each gradient as it is read, so parameters, gradients and both moments never leave the GPU.
/// The norm stays on the device too; the host reads it (one float) only to report it.
/// </summary>
public sealed partial class GpuOps
{
    private const int NormGroups = 256;

    private Action<KernelConfig, ArrayView<float>, ArrayView<double>>? _normPartials;
    private Action<KernelConfig, ArrayView<double>, ArrayView<float>, float>? _normFinish;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamWArgs>? _adamW;

    /// <summary>
    /// norm[0] = ‖gradients‖₂ (float64 partial sums), norm[1] = the clip coefficient min(1, maxNorm / (norm + 1e-6)).
    /// </summary>
    /// <param name="partials">(256) float64 scratch</param>
    /// <param name="norm">(2)</param>
    public void GradientNorm(ArrayView<float> gradients, ArrayView<double> partials, float maxNorm, ArrayView<float> norm)
    {
        _normPartials ??= _accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<double>>(NormPartialsKernel);
        _normFinish ??= _accelerator.LoadStreamKernel<ArrayView<double>, ArrayView<float>, float>(NormFinishKernel);
        _normPartials(new KernelConfig(NormGroups, RowThreads), gradients, partials);
        _normFinish(new KernelConfig(1, RowThreads), partials, norm, maxNorm);
    }

    /// <summary>
    /// One AdamW update of a range of the arena (PyTorch's order: decay, moments, bias-corrected step), each gradient
    /// first multiplied by clip[1]. The Decay of the args is 1 − lr·wd for decayed ranges, 1 for the others.
    /// </summary>
    internal void AdamWStep(ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> m, ArrayView<float> v,
        ArrayView<float> clip, AdamWArgs args)
    {
        _adamW ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamWArgs>(AdamWKernel);
        if (parameters.Length > 0) _adamW((int)parameters.Length, parameters, gradients, m, v, clip, args);
    }

    private static void NormPartialsKernel(ArrayView<float> g, ArrayView<double> partials)
    {
        var shared = SharedMemory.Allocate<double>(RowGroup);
        int t = Group.IdxX;
        long n = g.Length, stride = (long)NormGroups * Group.DimX;
        double sum = 0;
        for (long i = (long)Grid.IdxX * Group.DimX + t; i < n; i += stride) { double x = g[i]; sum += x * x; }
        shared[t] = sum;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (t < s) shared[t] += shared[t + s];
            Group.Barrier();
        }
        if (t == 0) partials[Grid.IdxX] = shared[0];
    }

    private static void NormFinishKernel(ArrayView<double> partials, ArrayView<float> norm, float maxNorm)
    {
        if (Group.IdxX != 0) return;
        double sum = 0;
        for (int i = 0; i < NormGroups; i++) sum += partials[i];
        float n = (float)XMath.Sqrt(sum);
        float coefficient = maxNorm / (n + 1e-6f);
        norm[0] = n;
        norm[1] = coefficient < 1f ? coefficient : 1f;
    }

    private static void AdamWKernel(Index1D i, ArrayView<float> p, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v,
        ArrayView<float> clip, AdamWArgs k)
    {
        float gi = g[i] * clip[1];
        g[i] = gi;
        float mi = k.Beta1 * m[i] + (1f - k.Beta1) * gi;
        float vi = k.Beta2 * v[i] + (1f - k.Beta2) * (gi * gi);
        float pi = p[i] * k.Decay;
        p[i] = pi - k.StepSize * mi / (XMath.Sqrt(vi) * k.InvSqrtBc2 + k.Epsilon);
        m[i] = mi;
        v[i] = vi;
    }
}
