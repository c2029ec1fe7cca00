using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using AttentionLab.Kernels;
using AttentionLab.Tensors;

namespace AttentionLab.Ops;

/// <summary>
/// A fully connected layer, PyTorch's <c>nn.Linear</c>: <c>y = x·Wᵀ + b</c> with W stored (out, in) and
/// b (out). Every leading dimension of x is flattened into rows, so x (B, T, in) is (B·T, in) here.
/// The static <see cref="Forward(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int)"/>
/// and <see cref="Backward(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float}, int, int, int, bool)"/>
/// are the kernels; an instance owns a weight, an optional bias and their gradients.
/// </summary>
public sealed class Linear
{
    public int InFeatures { get; }
    public int OutFeatures { get; }

    /// <summary>(out, in)</summary>
    public Tensor Weight { get; }

    /// <summary>(out), or null for <c>bias=False</c></summary>
    public Tensor? Bias { get; }

    /// <summary>(out, in) dL/dW, accumulated by <see cref="Backward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, bool)"/>.</summary>
    public Tensor WeightGrad { get; }

    /// <summary>(out) dL/db, or null without bias.</summary>
    public Tensor? BiasGrad { get; }

    /// <summary>
    /// A layer initialised like PyTorch: W and b uniform in ±1/√in (Kaiming-uniform with a = √5 reduces to that).
    /// </summary>
    public Linear(int inFeatures, int outFeatures, bool bias = true, Random? random = null)
        : this(inFeatures, outFeatures, bias)
    {
        random ??= new Random(0);
        float bound = 1f / MathF.Sqrt(inFeatures);
        foreach (var t in Bias is null ? [Weight] : new[] { Weight, Bias })
            SequentialInit.Uniform(random, t.Data, bound);
    }

    /// <summary>
    /// The same distribution, U(±1/√in), drawn by <see cref="ParameterInit.Uniform(float[], float, ulong)"/> (parallel, seeded streams):
    /// for big layers such as a 200,000-token output head, where <see cref="Random"/> takes seconds.
    /// </summary>
    public Linear(int inFeatures, int outFeatures, bool bias, ulong seed)
        : this(inFeatures, outFeatures, bias)
    {
        float bound = 1f / MathF.Sqrt(inFeatures);
        ParameterInit.Uniform(Weight.Data, bound, seed);
        if (Bias is not null) ParameterInit.Uniform(Bias.Data, bound, seed + 1);
    }

    private Linear(int inFeatures, int outFeatures, bool bias)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = new Tensor(outFeatures, inFeatures);
        WeightGrad = new Tensor(outFeatures, inFeatures);
        if (bias)
        {
            Bias = new Tensor(outFeatures);
            BiasGrad = new Tensor(outFeatures);
        }
    }

    /// <summary>Parameter names as PyTorch's <c>state_dict</c> spells them, with a prefix such as "query.".</summary>
    public IEnumerable<(string Name, Tensor Value, Tensor Grad)> NamedParameters(string prefix)
    {
        yield return (prefix + "weight", Weight, WeightGrad);
        if (Bias is not null) yield return (prefix + "bias", Bias, BiasGrad!);
    }

    /// <param name="x">(rows, in)</param>
    /// <param name="y">(rows, out), overwritten</param>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int rows) =>
        Forward(x, Weight.Data, Bias is null ? default : Bias.Data, y, rows, InFeatures, OutFeatures);

    /// <summary>
    /// Adds this batch's dL/dW and dL/db to <see cref="WeightGrad"/> and <see cref="BiasGrad"/> (PyTorch's
    /// <c>.grad</c> semantics: clear them with <see cref="ZeroGrad"/>) and writes dL/dx.
    /// </summary>
    /// <param name="x">(rows, in) the forward input</param>
    /// <param name="dy">(rows, out)</param>
    /// <param name="dx">(rows, in); empty to skip it</param>
    /// <param name="accumulateDx">add to dx instead of overwriting it (for an input that feeds several layers)</param>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int rows, bool accumulateDx = false)
    {
        if (!dx.IsEmpty)
            Backward(x, Weight.Data, dy, dx, default, default, rows, InFeatures, OutFeatures, accumulateDx);
        Backward(x, Weight.Data, dy, default, WeightGrad.Data, BiasGrad is null ? default : BiasGrad.Data,
            rows, InFeatures, OutFeatures, accumulate: true);
    }

    public void ZeroGrad()
    {
        WeightGrad.Span.Clear();
        BiasGrad?.Span.Clear();
    }

    /// <summary>y = x·Wᵀ + b.</summary>
    /// <param name="x">(rows, in)</param>
    /// <param name="weight">(out, in)</param>
    /// <param name="bias">(out), or empty for no bias</param>
    /// <param name="y">(rows, out), overwritten</param>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y,
        int rows, int inFeatures, int outFeatures)
    {
        Check(x.Length, weight.Length, bias.Length, y.Length, rows, inFeatures, outFeatures, "y");
        Gemm.Multiply(x, weight, y, rows, outFeatures, inFeatures, transposeB: true); // (rows, in)·(in, out)
        if (!bias.IsEmpty)
            for (int r = 0; r < rows; r++)
            {
                var row = y.Slice(r * outFeatures, outFeatures);
                TensorPrimitives.Add(row, bias, row);
            }
    }

    /// <summary>
    /// The three gradients of y = x·Wᵀ + b:
    /// <code>
    /// dx = dy·W          (rows, out)·(out, in)
    /// dW = dyᵀ·x         (out, rows)·(rows, in)
    /// db = Σ_rows dy     (out)
    /// </code>
    /// Each output may be empty to skip it. With <paramref name="accumulate"/> every output that is given is
    /// added to (gradient accumulation, shared inputs); without it every output is overwritten.
    /// </summary>
    /// <param name="x">(rows, in) the forward input</param>
    /// <param name="weight">(out, in)</param>
    /// <param name="dy">(rows, out)</param>
    /// <param name="dx">(rows, in) or empty</param>
    /// <param name="dWeight">(out, in) or empty</param>
    /// <param name="dBias">(out) or empty</param>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> dy,
        Span<float> dx, Span<float> dWeight, Span<float> dBias, int rows, int inFeatures, int outFeatures, bool accumulate)
    {
        Check(x.Length, weight.Length, dBias.Length, dy.Length, rows, inFeatures, outFeatures, "dy");
        if (!dx.IsEmpty && dx.Length != rows * inFeatures)
            throw new ArgumentException($"dx has {dx.Length} elements; (rows, in) = ({rows}, {inFeatures}) needs {rows * inFeatures}");
        if (!dWeight.IsEmpty && dWeight.Length != outFeatures * inFeatures)
            throw new ArgumentException($"dWeight has {dWeight.Length} elements; (out, in) = ({outFeatures}, {inFeatures}) needs {outFeatures * inFeatures}");

        if (!dx.IsEmpty) Gemm.Multiply(dy, weight, dx, rows, inFeatures, outFeatures, accumulate: accumulate);
        if (!dWeight.IsEmpty) Gemm.Multiply(dy, x, dWeight, outFeatures, inFeatures, rows, transposeA: true, accumulate: accumulate);
        if (!dBias.IsEmpty)
        {
            if (!accumulate) dBias.Clear();
            for (int r = 0; r < rows; r++) TensorPrimitives.Add(dBias, dy.Slice(r * outFeatures, outFeatures), dBias);
        }
    }

    private static void Check(int x, int w, int b, int y, int rows, int inFeatures, int outFeatures, string yName)
    {
        if (rows < 0 || inFeatures < 0 || outFeatures < 0)
            throw new ArgumentOutOfRangeException(nameof(rows), $"linear sizes must be non-negative, got rows {rows}, in {inFeatures}, out {outFeatures}");
        if (x != rows * inFeatures) throw new ArgumentException($"x has {x} elements; (rows, in) = ({rows}, {inFeatures}) needs {rows * inFeatures}");
        if (w != outFeatures * inFeatures) throw new ArgumentException($"weight has {w} elements; (out, in) = ({outFeatures}, {inFeatures}) needs {outFeatures * inFeatures}");
        if (b != 0 && b != outFeatures) throw new ArgumentException($"bias has {b} elements; it must be (out) = ({outFeatures}) or empty");
        if (y != rows * outFeatures) throw new ArgumentException($"{yName} has {y} elements; (rows, out) = ({rows}, {outFeatures}) needs {rows * outFeatures}");
    }
}
