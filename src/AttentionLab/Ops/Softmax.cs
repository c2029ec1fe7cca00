using System.Numerics.Tensors;

namespace AttentionLab.Ops;

/// <summary>
/// Row softmax, forward and backward, over a (rows, cols) row-major matrix:
/// <c>y[r, j] = exp(x[r, j] − max_r) / Σ_j' exp(x[r, j'] − max_r)</c>.
/// Subtracting the row max changes nothing mathematically (softmax is shift-invariant) but keeps every
/// exponent ≤ 0, so exp cannot overflow. −∞ entries get probability 0; a row that is −∞ everywhere
/// (nothing to attend to) gets all zeros rather than 0/0 = NaN.
/// Each operation has a plain reference (double accumulation, loops) and a TensorPrimitives path.
/// </summary>
public static class Softmax
{
    /// <param name="x">(rows, cols) input scores</param>
    /// <param name="y">(rows, cols) probabilities; may be the same memory as x</param>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, int rows, int cols)
    {
        Check(x.Length, y.Length, rows, cols, "x", "y");
        for (int r = 0; r < rows; r++)
        {
            var row = y.Slice(r * cols, cols);
            x.Slice(r * cols, cols).CopyTo(row);
            ForwardInPlace(row);
        }
    }

    /// <summary>Softmax of one row in place, vectorized (TensorPrimitives). All −∞ gives all 0.</summary>
    public static void ForwardInPlace(Span<float> row)
    {
        if (row.IsEmpty) return;
        float max = TensorPrimitives.Max(row);
        if (float.IsNegativeInfinity(max)) { row.Clear(); return; } // fully masked row
        TensorPrimitives.Subtract(row, max, row);
        TensorPrimitives.Exp(row, row);
        float sum = TensorPrimitives.Sum(row); // ≥ 1: the max element contributes exp(0)
        TensorPrimitives.Multiply(row, 1f / sum, row);
    }

    /// <summary>The same as <see cref="Forward"/>, as plain loops with double accumulation.</summary>
    public static void ForwardReference(ReadOnlySpan<float> x, Span<float> y, int rows, int cols)
    {
        Check(x.Length, y.Length, rows, cols, "x", "y");
        for (int r = 0; r < rows; r++)
        {
            int o = r * cols;
            double max = double.NegativeInfinity;
            for (int j = 0; j < cols; j++) max = Math.Max(max, x[o + j]);
            if (double.IsNegativeInfinity(max)) { y.Slice(o, cols).Clear(); continue; }
            double sum = 0;
            for (int j = 0; j < cols; j++) sum += Math.Exp(x[o + j] - max);
            for (int j = 0; j < cols; j++) y[o + j] = (float)(Math.Exp(x[o + j] - max) / sum);
        }
    }

    /// <summary>
    /// dx = y ⊙ (dy − rowsum(dy ⊙ y)): the Jacobian of softmax is diag(y) − y·yᵀ, applied to dy
    /// (derivation in docs/attention.md). Overwrites dx; dx may be the same memory as dy.
    /// </summary>
    /// <param name="y">(rows, cols) the forward output</param>
    /// <param name="dy">(rows, cols) dL/dy</param>
    /// <param name="dx">(rows, cols) dL/dx</param>
    public static void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int rows, int cols)
    {
        Check(y.Length, dx.Length, rows, cols, "y", "dx");
        Check(dy.Length, dx.Length, rows, cols, "dy", "dx");
        for (int r = 0; r < rows; r++)
        {
            var yr = y.Slice(r * cols, cols);
            var dxr = dx.Slice(r * cols, cols);
            float rowDot = TensorPrimitives.Dot(dy.Slice(r * cols, cols), yr);
            TensorPrimitives.Subtract(dy.Slice(r * cols, cols), rowDot, dxr);
            TensorPrimitives.Multiply(dxr, yr, dxr);
        }
    }

    /// <summary>The same as <see cref="Backward"/>, as plain loops with double accumulation.</summary>
    public static void BackwardReference(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int rows, int cols)
    {
        Check(y.Length, dx.Length, rows, cols, "y", "dx");
        Check(dy.Length, dx.Length, rows, cols, "dy", "dx");
        for (int r = 0; r < rows; r++)
        {
            int o = r * cols;
            double rowDot = 0;
            for (int j = 0; j < cols; j++) rowDot += (double)dy[o + j] * y[o + j];
            for (int j = 0; j < cols; j++) dx[o + j] = (float)(y[o + j] * (dy[o + j] - rowDot));
        }
    }

    private static void Check(int inLength, int outLength, int rows, int cols, string inName, string outName)
    {
        if (rows < 0 || cols < 0) throw new ArgumentOutOfRangeException(nameof(rows), $"softmax sizes must be non-negative, got ({rows}, {cols})");
        long n = (long)rows * cols;
        if (inLength != n) throw new ArgumentException($"{inName} has {inLength} elements; (rows, cols) = ({rows}, {cols}) needs {n}");
        if (outLength != n) throw new ArgumentException($"{outName} has {outLength} elements; (rows, cols) = ({rows}, {cols}) needs {n}");
    }
}
