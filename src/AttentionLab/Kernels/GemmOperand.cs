namespace AttentionLab.Kernels;

/// <summary>
/// A read-only strided view of a matrix operand: element (row, col) lives at
/// <c>Data[row·RowStride + col·ColStride]</c>. Both transpose forms of a row-major buffer are views:
/// X (r×c) is (c, 1); Xᵀ of a buffer stored c×r is (1, r). Packing reads through it, so one micro-kernel
/// serves NN, NT, TN and TT.
/// </summary>
internal readonly unsafe struct GemmOperand(float* data, nint rowStride, nint colStride)
{
    public readonly float* Data = data;
    public readonly nint RowStride = rowStride;
    public readonly nint ColStride = colStride;

    /// <summary>The view of the same matrix starting at (row, col).</summary>
    public GemmOperand At(int row, int col) => new(Data + row * RowStride + col * ColStride, RowStride, ColStride);

    /// <summary>op(X) for a row-major buffer: X stored rows×cols, or Xᵀ when X is stored cols×rows.</summary>
    public static GemmOperand RowMajor(float* data, int rows, int cols, bool transpose) =>
        transpose ? new(data, 1, rows) : new(data, cols, 1);
}
