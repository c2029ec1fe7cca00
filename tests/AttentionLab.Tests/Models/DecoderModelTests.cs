using AttentionLab.Attention;
using AttentionLab.Models;

namespace AttentionLab.Tests.Models;

public class DecoderModelTests
{
    [Fact]
    public void PresetParameterCounts()
    {
        Assert.Equal(124_439_808, DecoderConfig.Preset("gpt2-124m").ParameterCount);
        Assert.Equal(124_439_808, new DecoderLayout(DecoderConfig.Gpt2_124M).Count);
        var c = DecoderConfig.Preset("char");
        Assert.Equal((65, 64, 4, 128, 4), (c.VocabSize, c.ContextLength, c.Layers, c.Channels, c.Heads));
        Assert.Throws<ArgumentException>(() => DecoderConfig.Preset("gpt5"));
    }

    /// <summary>Exercise Q31: with N(0, 0.02) weights every logit is near 0, so the prediction is near uniform and the
    /// loss near ln V.</summary>
    [Fact]
    public void UntrainedLossIsNearLogVocab()
    {
        var config = DecoderConfig.ShakespeareChar;
        var model = new DecoderModel(config, AttentionKernels.Reference);
        model.InitializeWeights(seed: 1337);
        var r = new Random(3);
        int b = 2, t = 32;
        var x = Enumerable.Range(0, b * t).Select(_ => r.Next(config.VocabSize)).ToArray();
        var y = Enumerable.Range(0, b * t).Select(_ => r.Next(config.VocabSize)).ToArray();
        float loss = model.Forward(x, b, t, y);
        Assert.InRange(loss, Math.Log(65) - 0.05, Math.Log(65) + 0.05);
    }

    [Fact]
    public void InitializationIsSeededAndScalesResidualProjections()
    {
        var a = new DecoderModel(DecoderConfig.ShakespeareChar, AttentionKernels.Reference);
        var b = new DecoderModel(DecoderConfig.ShakespeareChar, AttentionKernels.Reference);
        a.InitializeWeights(5); b.InitializeWeights(5);
        Assert.Equal(a.Parameters.Data, b.Parameters.Data);
        static double Std(ReadOnlySpan<float> s) { double q = 0; foreach (var v in s) q += v * v; return Math.Sqrt(q / s.Length); }
        var blocks = a.Layout.Blocks[0];
        Assert.Equal(0.02, Std(a.Parameters[blocks.MlpWeight]), 0.002);
        Assert.Equal(0.02 / Math.Sqrt(8), Std(a.Parameters[blocks.MlpProjectionWeight]), 0.001);
        Assert.All(a.Parameters[blocks.Norm1Weight].ToArray(), v => Assert.Equal(1f, v));
        Assert.All(a.Parameters[blocks.AttentionBias!].ToArray(), v => Assert.Equal(0f, v));
    }

    /// <summary>Central differences of the loss (float32 forward, h = 1e-2) against the analytic gradient on a few
    /// parameters of every kind; tolerance 2e-3 absolute + 5% relative covers float32 forward noise.</summary>
    [Fact]
    public void GradientsMatchFiniteDifferences()
    {
        var config = new DecoderConfig { VocabSize = 11, ContextLength = 6, Layers = 2, Channels = 8, Heads = 2 };
        var model = new DecoderModel(config, AttentionKernels.Reference);
        model.InitializeWeights(9);
        // larger weights than 0.02 so every path carries gradient
        var rnd = new Random(4);
        var p = model.Parameters.Data;
        for (int i = 0; i < p.Length; i++) p[i] += (float)(rnd.NextDouble() - 0.5) * 0.4f;
        int b = 2, t = 5;
        var x = Enumerable.Range(0, b * t).Select(_ => rnd.Next(11)).ToArray();
        var y = Enumerable.Range(0, b * t).Select(_ => rnd.Next(11)).ToArray();
        model.ZeroGrad();
        model.Forward(x, b, t, y);
        model.Backward();
        var g = (float[])model.Gradients.Data.Clone();
        foreach (var view in model.Layout.All)
        {
            for (int probe = 0; probe < 3; probe++)
            {
                int i = view.Offset + rnd.Next(view.Length);
                if (view.Name.Contains("wpe") && (i - view.Offset) / config.Channels >= t) continue; // positions not used
                float saved = p[i];
                const float h = 1e-2f;
                p[i] = saved + h; double plus = model.Forward(x, b, t, y);
                p[i] = saved - h; double minus = model.Forward(x, b, t, y);
                p[i] = saved;
                double numeric = (plus - minus) / (2 * h);
                Assert.True(Math.Abs(numeric - g[i]) <= 2e-3 + 0.05 * Math.Abs(numeric),
                    $"{view.Name}[{i - view.Offset}]: analytic {g[i]:G6}, numeric {numeric:G6}");
            }
        }
    }

    /// <summary>Every gradient is cleared, including the tail past the last whole 64K block the clear is split by
    /// (the char model has 809,856 parameters, not a multiple of 65,536).</summary>
    [Fact]
    public void ZeroGradClearsEveryGradient()
    {
        var model = new DecoderModel(DecoderConfig.ShakespeareChar);
        model.Gradients.Data.AsSpan().Fill(1f);
        model.ZeroGrad();
        Assert.Equal(-1, model.Gradients.Data.AsSpan().IndexOfAnyExcept(0f));
    }

    [Fact]
    public void AttentionWeightsAreCausalRowsSummingToOne()
    {
        var model = new DecoderModel(DecoderConfig.Tiny, AttentionKernels.Reference);
        model.InitializeWeights(2);
        int b = 2, t = 7;
        model.Forward(Enumerable.Range(0, b * t).Select(i => i % 65).ToArray(), b, t);
        for (int l = 0; l < 2; l++)
        {
            var w = model.AttentionWeights(l);
            Assert.Equal(b * 4 * t * t, w.Length);
            for (int row = 0; row < b * 4 * t; row++)
            {
                int i = row % t;
                double sum = 0;
                for (int j = 0; j < t; j++) { if (j > i) Assert.Equal(0f, w[row * t + j]); sum += w[row * t + j]; }
                Assert.Equal(1.0, sum, 5);
            }
        }
    }

    [Fact]
    public void ChangingBatchShapeReallocatesAndStillAgrees()
    {
        var model = new DecoderModel(DecoderConfig.Tiny, AttentionKernels.Reference);
        model.InitializeWeights(3);
        int[] x = [1, 2, 3, 4, 5, 6, 7, 8];
        model.Forward(x, 2, 4);
        var two = model.Logits.ToArray();
        model.Forward(x[..4], 1, 4);
        Close.Assert(model.Logits, two.AsSpan(0, 4 * 65), 1e-6, 1e-6, "first row of the batch alone");
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(new int[17], 1, 17));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward([65], 1, 1));
        Assert.Throws<InvalidOperationException>(() => model.Backward()); // no targets
    }

    /// <summary>Style rule 7: after the first step of a shape, a training step allocates no arrays — only the
    /// ~2 KB per fork/join that Parallel.For costs in the GEMM, attention and row-parallel ops (about 200 KB per
    /// step here; bound 1 MB, against 2.4 MB for one step's logits alone and ~30 MB of activations). Counted on
    /// this thread, because tests run in parallel.</summary>
    [Fact]
    public void TrainingStepDoesNotAllocateArrays()
    {
        var model = new DecoderModel(DecoderConfig.ShakespeareChar);
        model.InitializeWeights(1);
        var optimizer = new AttentionLab.Training.AdamW(model.Layout.Count);
        int b = 4, t = 64;
        var x = Enumerable.Range(0, b * t).Select(i => i % 65).ToArray();
        var y = Enumerable.Range(0, b * t).Select(i => (i * 7) % 65).ToArray();
        void Step()
        {
            model.Forward(x, b, t, y);
            model.Backward();
            optimizer.Step(model.Parameters.Data, model.Gradients.Data, clearGradients: true);
        }
        Step(); Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Step();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1 << 20, $"a training step allocated {allocated} bytes");
    }
}
