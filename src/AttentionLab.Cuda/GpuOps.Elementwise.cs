using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace AttentionLab.Cuda;

/// <summary>The elementwise ops: GELU (tanh form, as GPT-2), bias, residual, embedding.</summary>
public sealed partial class GpuOps
{
    private const float Sqrt2OverPi = 0.7978845608028654f, Cubic = 0.044715f;

    private Action<Index1D, ArrayView<float>, ArrayView<float>>? _geluForward;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>? _geluBackward, _add;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>? _biasAdd;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int>? _biasBackward;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, EmbeddingArgs>? _embedding;
    private Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int>? _embeddingTokenBackward;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, EmbeddingArgs>? _embeddingPositionBackward;

    /// <summary>y = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    /// <param name="input">(N)</param>
    /// <param name="output">(N)</param>
    public void GeluForward(ArrayView<float> input, ArrayView<float> output)
    {
        _geluForward ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(GeluForwardKernel);
        if (input.Length > 0) _geluForward((int)input.Length, input, output);
    }

    /// <summary>dInput = gelu′(input)·dOutput (dInput may be dOutput).</summary>
    public void GeluBackward(ArrayView<float> input, ArrayView<float> dOutput, ArrayView<float> dInput)
    {
        _geluBackward ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GeluBackwardKernel);
        if (input.Length > 0) _geluBackward((int)input.Length, input, dOutput, dInput);
    }

    /// <summary>output = residual + bias (broadcast over rows); an empty residual means output = bias (a bias fill
    /// before an accumulating GEMM).</summary>
    /// <param name="residual">(N, width) or empty</param>
    /// <param name="bias">(width)</param>
    /// <param name="output">(N, width)</param>
    public void BiasAdd(ArrayView<float> residual, ArrayView<float> bias, ArrayView<float> output, int width)
    {
        _biasAdd ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(BiasAddKernel);
        if (output.Length > 0) _biasAdd((int)output.Length, residual.Length == 0 ? output : residual, bias, output, residual.Length == 0 ? 0 : 1);
    }

    /// <summary>dBias += Σ over rows of dOutput, one thread per column (a fixed order: deterministic).</summary>
    /// <param name="dOutput">(N, width)</param>
    /// <param name="dBias">(width), accumulated</param>
    public void BiasBackward(ArrayView<float> dOutput, ArrayView<float> dBias, int rows, int width)
    {
        _biasBackward ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(BiasBackwardKernel);
        _biasBackward(width, dOutput, dBias, rows, width);
    }

    /// <summary>output = a + b (the residual connection).</summary>
    public void Add(ArrayView<float> a, ArrayView<float> b, ArrayView<float> output)
    {
        _add ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(AddKernel);
        if (output.Length > 0) _add((int)output.Length, a, b, output);
    }

    /// <summary>x[b, t] = wte[tokens[b, t]] + wpe[start + t].</summary>
    /// <param name="tokenTable">(V, C)</param>
    /// <param name="positionTable">(Tmax, C)</param>
    /// <param name="tokens">(B, T)</param>
    /// <param name="output">(B, T, C)</param>
    public void EmbeddingForward(ArrayView<float> tokenTable, ArrayView<float> positionTable, ArrayView<int> tokens,
        int length, int channels, int start, ArrayView<float> output)
    {
        _embedding ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, EmbeddingArgs>(EmbeddingKernel);
        _embedding((int)output.Length, tokenTable, positionTable, tokens, output, new EmbeddingArgs(length, channels, start, (int)(tokens.Length / length)));
    }

    /// <summary>dwte[token] += dx (atomic scatter-add: tokens repeat); dwpe[t] += Σ_b dx[b, t] (one thread per element,
    /// deterministic).</summary>
    /// <param name="dOutput">(B, T, C)</param>
    public void EmbeddingBackward(ArrayView<float> dOutput, ArrayView<int> tokens, int length, int channels,
        ArrayView<float> dTokenTable, ArrayView<float> dPositionTable)
    {
        _embeddingTokenBackward ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int>(EmbeddingTokenBackwardKernel);
        _embeddingPositionBackward ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, EmbeddingArgs>(EmbeddingPositionBackwardKernel);
        _embeddingTokenBackward((int)dOutput.Length, dOutput, tokens, dTokenTable, channels);
        _embeddingPositionBackward(length * channels, dOutput, dPositionTable, new EmbeddingArgs(length, channels, 0, (int)(tokens.Length / length)));
    }

    private static void GeluForwardKernel(Index1D i, ArrayView<float> x, ArrayView<float> y)
    {
        float v = x[i];
        y[i] = 0.5f * v * (1f + XMath.Tanh(Sqrt2OverPi * (v + Cubic * v * v * v)));
    }

    private static void GeluBackwardKernel(Index1D i, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx)
    {
        float v = x[i];
        float t = XMath.Tanh(Sqrt2OverPi * (v + Cubic * v * v * v));
        float du = Sqrt2OverPi * (1f + 3f * Cubic * v * v);
        dx[i] = (0.5f * (1f + t) + 0.5f * v * (1f - t * t) * du) * dy[i];
    }

    private static void BiasAddKernel(Index1D i, ArrayView<float> residual, ArrayView<float> bias, ArrayView<float> output, int hasResidual)
    {
        float b = bias[i % (int)bias.Length];
        output[i] = hasResidual != 0 ? residual[i] + b : b;
    }

    private static void BiasBackwardKernel(Index1D j, ArrayView<float> dy, ArrayView<float> db, int rows, int width)
    {
        float sum = 0;
        for (int r = 0; r < rows; r++) sum += dy[(long)r * width + j];
        db[j] += sum;
    }

    private static void AddKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y) => y[i] = a[i] + b[i];

    private static void EmbeddingKernel(Index1D i, ArrayView<float> wte, ArrayView<float> wpe, ArrayView<int> tokens, ArrayView<float> x, EmbeddingArgs e)
    {
        int row = i / e.Channels, c = i % e.Channels, t = row % e.Length;
        x[i] = wte[(long)tokens[row] * e.Channels + c] + wpe[(long)(e.Start + t) * e.Channels + c];
    }

    private static void EmbeddingTokenBackwardKernel(Index1D i, ArrayView<float> dx, ArrayView<int> tokens, ArrayView<float> dwte, int channels)
    {
        int row = i / channels, c = i % channels;
        Atomic.Add(ref dwte[(long)tokens[row] * channels + c], dx[i]);
    }

    private static void EmbeddingPositionBackwardKernel(Index1D i, ArrayView<float> dx, ArrayView<float> dwpe, EmbeddingArgs e)
    {
        float sum = 0;
        for (int b = 0; b < e.Batch; b++) sum += dx[(long)b * e.Length * e.Channels + i];
        dwpe[i] += sum;
    }
}

/// <summary>Sizes of an embedding launch.</summary>
internal readonly record struct EmbeddingArgs(int Length, int Channels, int Start, int Batch);
