using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AttentionLab.Ops;

/// <summary>
/// GELU in the tanh form GPT-2 uses (Hendrycks and Gimpel 2016; HF "gelu_new", torch approximate="tanh"):
/// <c>gelu(x) = ½·x·(1 + tanh(u))</c>, <c>u = √(2/π)·(x + 0.044715·x³)</c>.
/// The fast path uses the identity ½(1 + tanh u) = σ(2u) = 1/(1 + e^(−2u)), one exponential per element.
/// </summary>
public static class Gelu
{
    private const float Sqrt2OverPi = 0.7978845608028654f;
    private const float Cubic = 0.044715f;

    /// <summary>Fast forward. <paramref name="output"/> may be the same memory as <paramref name="input"/>.</summary>
    /// <param name="input">(N)</param>
    /// <param name="output">(N), overwritten</param>
    public static void Forward(ReadOnlySpan<float> input, Span<float> output)
    {
        if (input.Length != output.Length) throw new ArgumentException($"input has {input.Length} elements, output {output.Length}");
        int n = input.Length, i = 0;
        if (n == 0) return;
        ref float px = ref Unsafe.AsRef(in input[0]);
        ref float py = ref output[0];
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - 16; i += 16)
            {
                var x = Vector512.LoadUnsafe(ref px, (nuint)i);
                var u2 = (x + Vector512.Create(Cubic) * x * x * x) * Vector512.Create(-2f * Sqrt2OverPi);
                (x / (Vector512<float>.One + Vector512.Exp(u2))).StoreUnsafe(ref py, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 8; i += 8)
            {
                var x = Vector256.LoadUnsafe(ref px, (nuint)i);
                var u2 = (x + Vector256.Create(Cubic) * x * x * x) * Vector256.Create(-2f * Sqrt2OverPi);
                (x / (Vector256<float>.One + Vector256.Exp(u2))).StoreUnsafe(ref py, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float x = Unsafe.Add(ref px, i);
            Unsafe.Add(ref py, i) = x / (1f + MathF.Exp(-2f * Sqrt2OverPi * (x + Cubic * x * x * x)));
        }
    }

    /// <summary>The definition, element by element. Same contract as <see cref="Forward"/>.</summary>
    public static void ForwardReference(ReadOnlySpan<float> input, Span<float> output)
    {
        if (input.Length != output.Length) throw new ArgumentException($"input has {input.Length} elements, output {output.Length}");
        for (int i = 0; i < input.Length; i++)
        {
            double x = input[i];
            output[i] = (float)(0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + Cubic * x * x * x))));
        }
    }

    /// <summary>
    /// Fast backward: <c>dInput = gelu′(input) · dOutput</c>, overwritten (dInput may be the same memory as dOutput).
    /// With s = σ(2u): gelu′(x) = s + 2·x·s·(1 − s)·u′, u′ = √(2/π)·(1 + 3·0.044715·x²).
    /// </summary>
    /// <param name="input">(N) the forward input</param>
    /// <param name="dOutput">(N)</param>
    /// <param name="dInput">(N)</param>
    public static void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> dOutput, Span<float> dInput)
    {
        if (input.Length != dOutput.Length || input.Length != dInput.Length)
            throw new ArgumentException($"input, dOutput and dInput need the same length, got {input.Length}, {dOutput.Length}, {dInput.Length}");
        int n = input.Length, i = 0;
        if (n == 0) return;
        ref float px = ref Unsafe.AsRef(in input[0]);
        ref float pdy = ref Unsafe.AsRef(in dOutput[0]);
        ref float pdx = ref dInput[0];
        if (Vector512.IsHardwareAccelerated)
        {
            var one = Vector512<float>.One;
            for (; i <= n - 16; i += 16)
            {
                var x = Vector512.LoadUnsafe(ref px, (nuint)i);
                var x2 = x * x;
                var u2 = (x + Vector512.Create(Cubic) * x2 * x) * Vector512.Create(-2f * Sqrt2OverPi);
                var s = one / (one + Vector512.Exp(u2));
                var du = Vector512.Create(2f * Sqrt2OverPi) * (one + Vector512.Create(3f * Cubic) * x2);
                var grad = s + x * s * (one - s) * du;
                (grad * Vector512.LoadUnsafe(ref pdy, (nuint)i)).StoreUnsafe(ref pdx, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var one = Vector256<float>.One;
            for (; i <= n - 8; i += 8)
            {
                var x = Vector256.LoadUnsafe(ref px, (nuint)i);
                var x2 = x * x;
                var u2 = (x + Vector256.Create(Cubic) * x2 * x) * Vector256.Create(-2f * Sqrt2OverPi);
                var s = one / (one + Vector256.Exp(u2));
                var du = Vector256.Create(2f * Sqrt2OverPi) * (one + Vector256.Create(3f * Cubic) * x2);
                var grad = s + x * s * (one - s) * du;
                (grad * Vector256.LoadUnsafe(ref pdy, (nuint)i)).StoreUnsafe(ref pdx, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float x = Unsafe.Add(ref px, i);
            float s = 1f / (1f + MathF.Exp(-2f * Sqrt2OverPi * (x + Cubic * x * x * x)));
            float du = 2f * Sqrt2OverPi * (1f + 3f * Cubic * x * x);
            Unsafe.Add(ref pdx, i) = (s + x * s * (1f - s) * du) * Unsafe.Add(ref pdy, i);
        }
    }

    /// <summary>The derivative of the tanh form written out. Same contract as <see cref="Backward"/>.</summary>
    public static void BackwardReference(ReadOnlySpan<float> input, ReadOnlySpan<float> dOutput, Span<float> dInput)
    {
        if (input.Length != dOutput.Length || input.Length != dInput.Length)
            throw new ArgumentException($"input, dOutput and dInput need the same length, got {input.Length}, {dOutput.Length}, {dInput.Length}");
        for (int i = 0; i < input.Length; i++)
        {
            double x = input[i];
            double t = Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + Cubic * x * x * x));
            double du = Math.Sqrt(2 / Math.PI) * (1 + 3 * Cubic * x * x);
            dInput[i] = (float)((0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du) * dOutput[i]);
        }
    }
}
