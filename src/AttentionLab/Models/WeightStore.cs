using AttentionLab.Kernels;

namespace AttentionLab.Models;

/// <summary>
/// Where an inference model keeps the matrices a token streams when they are 16-bit: one <see cref="HalfMatrix"/> per
/// parameter view, looked up by the view. The layers ask it for their weight through <c>LayerRun</c> and do not care
/// which linear (or head, or token table) they are; a view it does not hold is read from the float32 arena as always.
/// The float32 arena of such a model never has these matrices written into it: they live only here, in 16 bits.
/// </summary>
public sealed class WeightStore
{
    private readonly Dictionary<int, (ParameterView View, IWeightMatrix Matrix)> _byOffset = new();

    public WeightStore(WeightFormat format)
    {
        if (format == WeightFormat.F32) throw new ArgumentException("a WeightStore holds BF16, F16 or Q8_0 matrices", nameof(format));
        Format = format;
    }

    public WeightFormat Format { get; }

    /// <summary>The views whose weights a 16-bit model keeps here: every matrix a forward multiplies by or looks rows
    /// up in (the block linears, the token table, an untied head), not the position table (read one row per position)
    /// nor the vectors (biases, norms).</summary>
    public static IEnumerable<ParameterView> StreamedViews(DecoderLayout layout) =>
        layout.Matrices.Where(v => v != layout.PositionEmbedding);

    /// <summary>Holds <paramref name="matrix"/> as the weights of <paramref name="view"/>.</summary>
    public void Add(ParameterView view, IWeightMatrix matrix)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(matrix);
        if (matrix.Format != Format) throw new ArgumentException($"{view.Name} is {matrix.Format.Name()}, this store holds {Format.Name()}");
        if (view.Shape.Length != 2 || view.Shape[0] != matrix.Rows || view.Shape[1] != matrix.Cols)
            throw new ArgumentException($"{view.Name} is ({string.Join(", ", view.Shape)}), the matrix ({matrix.Rows}, {matrix.Cols})");
        _byOffset[view.Offset] = (view, matrix);
    }

    /// <summary>The 16-bit matrix of <paramref name="view"/>, or null when it is float32.</summary>
    public IWeightMatrix? Find(ParameterView view) =>
        _byOffset.TryGetValue(view.Offset, out var e) && e.View.Length == view.Length ? e.Matrix : null;

    /// <summary>Every held view and its matrix.</summary>
    public IEnumerable<(ParameterView View, IWeightMatrix Matrix)> All => _byOffset.Values.OrderBy(e => e.View.Offset);

    /// <summary>Bytes of all held matrices.</summary>
    public long Bytes => _byOffset.Values.Sum(e => e.Matrix.Bytes);
}
