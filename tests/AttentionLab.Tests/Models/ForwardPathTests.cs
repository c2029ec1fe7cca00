using AttentionLab.Attention;
using AttentionLab.Kernels;
using AttentionLab.Models;

namespace AttentionLab.Tests.Models;

/// <summary>
/// The model's seams: GEMMs go through its <see cref="ComputeDevice"/>, attention through its kernel, and what the
/// kernel saves for backward is the kernel's choice (the model no longer stores B·H·T² weights per layer by itself).
/// </summary>
public class ForwardPathTests
{
    /// <summary>A device that counts the products it runs, then runs them on the CPU.</summary>
    private sealed class CountingDevice : ComputeDevice
    {
        public int Calls;
        public override string Name => "counting";
        public override string Description => "the CPU, counted";
        public override void MatMul(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k,
            bool transposeA = false, bool transposeB = false, bool accumulate = false, int maxThreads = 0)
        {
            Interlocked.Increment(ref Calls);
            Cpu.MatMul(a, b, c, m, n, k, transposeA, transposeB, accumulate, maxThreads);
        }
    }

    /// <summary>The naive kernel with nothing saved: backward recomputes the weights (the trade Flash makes).</summary>
    private sealed class SavesNothing : IAttentionKernel
    {
        private static readonly IAttentionKernel Inner = AttentionKernels.Reference;
        public string Name => "naive";
        public bool IsExact => true;
        public long SavedLength(AttentionShape shape) => 0;
        public void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, AttentionShape shape,
            AttentionOptions options, Span<float> output, Span<float> saved) => Inner.Forward(q, k, v, shape, options, output, default);
        public void Backward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> output,
            ReadOnlySpan<float> saved, ReadOnlySpan<float> dOutput, AttentionShape shape, AttentionOptions options,
            Span<float> dq, Span<float> dk, Span<float> dv) => Inner.Backward(q, k, v, output, default, dOutput, shape, options, dq, dk, dv);
        public void Weights(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, AttentionShape shape,
            AttentionOptions options, Span<float> weights) => Inner.Weights(q, k, v, shape, options, weights);
    }

    private static (int[] X, int[] Y) Batch(int b, int t)
    {
        var random = new Random(4);
        var x = Enumerable.Range(0, b * t).Select(_ => random.Next(65)).ToArray();
        var y = Enumerable.Range(0, b * t).Select(_ => random.Next(65)).ToArray();
        return (x, y);
    }

    [Fact]
    public void EveryMatrixProductGoesThroughTheDevice()
    {
        var device = new CountingDevice();
        var model = new DecoderModel(DecoderConfig.Tiny, AttentionKernels.Reference) { Device = device };
        model.InitializeWeights(1);
        var (x, y) = Batch(2, 8);
        model.Forward(x, 2, 8, y);
        // per block: qkv, attention projection, fc, fc projection; then the head
        Assert.Equal(4 * 2 + 1, device.Calls);
        device.Calls = 0;
        model.Backward();
        // per block: dX and dW of 4 linear layers; the head's two
        Assert.Equal(8 * 2 + 2, device.Calls);
    }

    [Fact]
    public void TheKernelDecidesWhatIsSavedAndGradientsDoNotChange()
    {
        var (x, y) = Batch(2, 16);
        var saving = new DecoderModel(DecoderConfig.Tiny, AttentionKernels.Reference);
        var recomputing = new DecoderModel(DecoderConfig.Tiny, new SavesNothing());
        saving.InitializeWeights(2);
        recomputing.InitializeWeights(2);
        float a = saving.Forward(x, 2, 16, y);
        float b = recomputing.Forward(x, 2, 16, y);
        Assert.Equal(a, b);
        // the saving kernel keeps (B, H, T, T) weights per layer; the other keeps nothing
        Assert.Equal(2L * 2 * 4 * 16 * 16, saving.ActivationFloats - recomputing.ActivationFloats);
        saving.ZeroGrad(); recomputing.ZeroGrad();
        saving.Backward(); recomputing.Backward();
        Assert.Equal(saving.Gradients.Data, recomputing.Gradients.Data);
        // inspection still gets the weights, materialized on request
        Assert.Equal(saving.AttentionWeights(1), recomputing.AttentionWeights(1));
    }

    [Fact]
    public void InferenceAllocatesNoGradientsAndNoBackwardState()
    {
        var (x, _) = Batch(2, 16);
        var training = new DecoderModel(DecoderConfig.Tiny, AttentionKernels.Fast);
        var inference = new DecoderModel(DecoderConfig.Tiny, AttentionKernels.Fast, training: false);
        training.Forward(x, 2, 16);
        inference.Forward(x, 2, 16);
        Assert.Throws<InvalidOperationException>(() => inference.Gradients);
        // training adds, per layer, the kernel's saved weights (B, H, T, T), and once the backward scratch:
        // dResidual, dNorm, dQkv (3), dQ, dK, dV, dAttention, dMerged (N, C each) and dFc (N, 4C), plus the per-core
        // LayerNorm partials (workers, 2, C)
        int n = 2 * 16, c = 32;
        long saved = 2L * (2 * 4 * 16 * 16), scratch = 14L * n * c + 2L * c * Math.Max(1, Environment.ProcessorCount);
        Assert.Equal(saved + scratch, training.ActivationFloats - inference.ActivationFloats);
    }

    [Fact]
    public void AnInferenceViewSharesTheWeights()
    {
        var model = new DecoderModel(DecoderConfig.Tiny);
        model.InitializeWeights(3);
        var view = model.InferenceView();
        Assert.Same(model.Parameters, view.Parameters);
        Assert.False(view.IsTraining);
    }

    [Fact]
    public void TheConfigNamesTheKernelAndCausality()
    {
        var model = new DecoderModel(DecoderConfig.Tiny with { Attention = "naive", IsCausal = false }, training: false);
        Assert.Equal("naive", model.Attention.Name);
        Assert.False(model.AttentionOptions.IsCausal);
        Assert.Throws<InvalidOperationException>(() => model.ForwardCached([1], model.CreateCache()));
        var e = Assert.Throws<ArgumentException>(() => new DecoderModel(DecoderConfig.Tiny with { Attention = "bogus" }));
        Assert.Contains("known kernels", e.Message);
    }
}
