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

    /// <summary>A kernel that passes every call to <paramref name="inner"/> and does not say its calls may overlap (so a
    /// cached step runs its heads one after another); the test kernels below change only what they are for.</summary>
    private class Delegating(IAttentionKernel inner) : IAttentionKernel
    {
        public virtual string Name => inner.Name;
        public bool IsExact => inner.IsExact;
        public virtual long SavedLength(AttentionShape shape) => inner.SavedLength(shape);
        public virtual void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, AttentionShape shape,
            AttentionOptions options, Span<float> output, Span<float> saved) => inner.Forward(q, k, v, shape, options, output, saved);
        public virtual void Backward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> output,
            ReadOnlySpan<float> saved, ReadOnlySpan<float> dOutput, AttentionShape shape, AttentionOptions options,
            Span<float> dq, Span<float> dk, Span<float> dv) => inner.Backward(q, k, v, output, saved, dOutput, shape, options, dq, dk, dv);
        public void Weights(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, AttentionShape shape,
            AttentionOptions options, Span<float> weights) => inner.Weights(q, k, v, shape, options, weights);
    }

    /// <summary>The naive kernel with nothing saved: backward recomputes the weights (the trade Flash makes).</summary>
    private sealed class SavesNothing() : Delegating(AttentionKernels.Reference)
    {
        public override string Name => "naive";
        public override long SavedLength(AttentionShape shape) => 0;
        public override void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, AttentionShape shape,
            AttentionOptions options, Span<float> output, Span<float> saved) => base.Forward(q, k, v, shape, options, output, default);
        public override void Backward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> output,
            ReadOnlySpan<float> saved, ReadOnlySpan<float> dOutput, AttentionShape shape, AttentionOptions options,
            Span<float> dq, Span<float> dk, Span<float> dv) => base.Backward(q, k, v, output, default, dOutput, shape, options, dq, dk, dv);
    }

    /// <summary>A kernel that does not say its calls may overlap, so a cached step runs its heads one after another.</summary>
    private sealed class OneCallAtATime(IAttentionKernel inner) : Delegating(inner);

    /// <summary>A cached step with enough work (H·n·Tk·D ≥ 2¹⁶) runs its heads in parallel when the kernel allows it:
    /// each head is the same call as in the serial loop, so the logits are the same bits, grouped heads (GQA, 4 query
    /// heads on 2 KV heads) included, and they agree with a full recompute (to 1e-4).</summary>
    [Fact]
    public void ParallelHeadsInACachedStepGiveTheSerialBits()
    {
        var config = new DecoderConfig
        {
            VocabSize = 29, ContextLength = 300, Layers = 2, Channels = 256, Heads = 4, IntermediateSize = 64,
        }.WithLlamaArchitecture(keyValueHeads: 2);
        var model = new DecoderModel(config, training: false);
        model.InitializeWeights(5);
        Assert.True(model.Attention.CallsMayOverlap);
        var prompt = Enumerable.Range(0, 270).Select(i => (i * 11 + 5) % 29).ToArray();
        var serial = new ForwardOptions { Attention = new OneCallAtATime(model.Attention) };
        var parallelCache = model.CreateCache();
        var serialCache = model.CreateCache();
        model.ForwardCached(prompt, parallelCache);
        model.ForwardCached(prompt, serialCache, serial);
        foreach (int token in new[] { 3, 17, 8 })
        {
            var parallel = model.ForwardCached([token], parallelCache).ToArray();          // 4 · 1 · 271 · 64 ≥ 2¹⁶: parallel
            var oneByOne = model.ForwardCached([token], serialCache, serial).ToArray();
            Assert.Equal(oneByOne.Select(BitConverter.SingleToInt32Bits), parallel.Select(BitConverter.SingleToInt32Bits));
        }
        var all = prompt.Concat(new[] { 3, 17, 8 }).ToArray();
        model.Forward(all, 1, all.Length);
        var full = model.Logits.Slice((all.Length - 1) * config.VocabSize, config.VocabSize).ToArray();
        var last = model.ForwardCached([8], RebuildCache(model, all[..^1])).ToArray();                // the parallel path again
        for (int j = 0; j < full.Length; j++) Assert.Equal(full[j], last[j], 1e-4f);                      // cached vs recomputed, to 1e-4
    }

    private static KvCache RebuildCache(DecoderModel model, int[] tokens)
    {
        var cache = model.CreateCache();
        model.ForwardCached(tokens, cache);
        return cache;
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
