using System.Numerics.Tensors;

namespace AttentionLab.Ops;

/// <summary>
/// The residual connection <c>output = residual + branch</c> (He et al. 2016). Its gradient is the identity
/// into both inputs, which is why the model's backward pass keeps one running dResidual buffer.
/// </summary>
public static class Residual
{
    /// <param name="residual">(N)</param>
    /// <param name="branch">(N)</param>
    /// <param name="output">(N), may alias either input</param>
    public static void Forward(ReadOnlySpan<float> residual, ReadOnlySpan<float> branch, Span<float> output)
    {
        if (residual.Length != branch.Length || residual.Length != output.Length)
            throw new ArgumentException($"residual, branch and output need the same length, got {residual.Length}, {branch.Length}, {output.Length}");
        TensorPrimitives.Add(residual, branch, output);
    }

    /// <summary>dResidual += dOutput and dBranch += dOutput.</summary>
    public static void Backward(ReadOnlySpan<float> dOutput, Span<float> dResidual, Span<float> dBranch)
    {
        if (dOutput.Length != dResidual.Length || dOutput.Length != dBranch.Length)
            throw new ArgumentException("dOutput, dResidual and dBranch need the same length");
        TensorPrimitives.Add(dResidual, dOutput, dResidual);
        TensorPrimitives.Add(dBranch, dOutput, dBranch);
    }
}
