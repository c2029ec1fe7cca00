using AttentionLab.Cuda;
using AttentionLab.Ops;
using AttentionLab.Training;

namespace AttentionLab.Tests.Cuda;

/// <summary>
/// Every device op against its CPU op (src/AttentionLab/Ops) on ILGPU's CPU simulator, at small odd sizes that leave
/// partial groups. Tolerances: outputs 1e-5 and gradients 1e-4, relative to the tensor's largest magnitude.
/// </summary>
[Collection("Gpu")]
public class GpuOpsTests(GpuFixture gpu)
{
    private const double Output = 1e-5, Gradient = 1e-4;

    [Fact]
    public void Gelu_ForwardAndBackward_MatchCpu()
    {
        var x = GpuCheck.Random(301, 1, 4f); var dy = GpuCheck.Random(301, 2);
        var y = new float[x.Length]; var dx = new float[x.Length];
        Gelu.Forward(x, y); Gelu.Backward(x, dy, dx);
        using var dX = gpu.Upload(x); using var dY = gpu.Zeros(x.Length); using var dDy = gpu.Upload(dy);
        gpu.Ops.GeluForward(dX.View, dY.View);
        GpuCheck.Close(GpuFixture.Download(dY, x.Length), y, Output, "gelu");
        gpu.Ops.GeluBackward(dX.View, dDy.View, dDy.View);
        GpuCheck.Close(GpuFixture.Download(dDy, x.Length), dx, Gradient, "gelu backward (in place)");
    }

    [Fact]
    public void LayerNorm_ForwardAndBackward_MatchCpu()
    {
        int n = 7, c = 131;
        var x = GpuCheck.Random(n * c, 3, 3f); var w = GpuCheck.Random(c, 4); var b = GpuCheck.Random(c, 5); var dy = GpuCheck.Random(n * c, 6);
        var y = new float[n * c]; var mean = new float[n]; var rstd = new float[n];
        LayerNorm.Forward(x, w, b, n, c, 1e-5f, y, mean, rstd);
        var dx = GpuCheck.Random(n * c, 7); var dw = GpuCheck.Random(c, 8); var db = GpuCheck.Random(c, 9);
        using var gX = gpu.Upload(x); using var gW = gpu.Upload(w); using var gB = gpu.Upload(b); using var gDy = gpu.Upload(dy);
        using var gY = gpu.Zeros(n * c); using var gMean = gpu.Zeros(n); using var gRstd = gpu.Zeros(n);
        using var gDx = gpu.Upload(dx); using var gDw = gpu.Upload(dw); using var gDb = gpu.Upload(db);
        LayerNorm.Backward(dy, x, w, mean, rstd, n, c, dx, dw, db);   // accumulates onto the random starting values
        gpu.Ops.LayerNormForward(gX.View, gW.View, gB.View, n, c, 1e-5f, gY.View, gMean.View, gRstd.View);
        GpuCheck.Close(GpuFixture.Download(gY, n * c), y, Output, "layernorm");
        GpuCheck.Close(GpuFixture.Download(gRstd, n), rstd, Output, "rstd");
        gpu.Ops.LayerNormBackward(gDy.View, gX.View, gW.View, gMean.View, gRstd.View, n, c, gDx.View, gDw.View, gDb.View);
        GpuCheck.Close(GpuFixture.Download(gDx, n * c), dx, Gradient, "dx");
        GpuCheck.Close(GpuFixture.Download(gDw, c), dw, Gradient, "dweight");
        GpuCheck.Close(GpuFixture.Download(gDb, c), db, Gradient, "dbias");
    }

    [Fact]
    public void BiasAndResidual_MatchCpu()
    {
        int n = 5, w = 67;
        var residual = GpuCheck.Random(n * w, 10); var bias = GpuCheck.Random(w, 11); var dy = GpuCheck.Random(n * w, 12);
        var fill = new float[n * w]; var added = new float[n * w]; var db = GpuCheck.Random(w, 13); var sum = new float[n * w];
        Bias.Fill(bias, fill); Bias.AddTo(residual, bias, added);
        var dbGpuStart = (float[])db.Clone();
        Bias.Backward(dy, db); Residual.Forward(residual, dy, sum);
        using var gR = gpu.Upload(residual); using var gB = gpu.Upload(bias); using var gDy = gpu.Upload(dy); using var gDb = gpu.Upload(dbGpuStart);
        using var gOut = gpu.Zeros(n * w);
        gpu.Ops.BiasAdd(default, gB.View, gOut.View, w);
        GpuCheck.Close(GpuFixture.Download(gOut, n * w), fill, Output, "bias fill");
        gpu.Ops.BiasAdd(gR.View, gB.View, gOut.View, w);
        GpuCheck.Close(GpuFixture.Download(gOut, n * w), added, Output, "bias add");
        gpu.Ops.BiasBackward(gDy.View, gDb.View, n, w);
        GpuCheck.Close(GpuFixture.Download(gDb, w), db, Gradient, "dbias");
        gpu.Ops.Add(gR.View, gDy.View, gOut.View);
        GpuCheck.Close(GpuFixture.Download(gOut, n * w), sum, Output, "residual");
    }

    [Fact]
    public void Embedding_ForwardAndBackward_MatchCpu()
    {
        int vocab = 11, t = 6, batch = 2, c = 9, n = batch * t;
        var wte = GpuCheck.Random(vocab * c, 14); var wpe = GpuCheck.Random(8 * c, 15); var dx = GpuCheck.Random(n * c, 16);
        int[] tokens = [1, 3, 3, 0, 10, 3, 5, 5, 1, 2, 9, 3]; // repeats: the scatter-add must sum them
        var x = new float[n * c];
        Embedding.Forward(wte, tokens, c, x);
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < t * c; i++) x[b * t * c + i] += wpe[c + i]; // positions start at 1 here
        var dwte = new float[vocab * c]; var dwpe = new float[8 * c];
        Embedding.Backward(dx, tokens, c, dwte);
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < t * c; i++) dwpe[i] += dx[b * t * c + i];
        using var gWte = gpu.Upload(wte); using var gWpe = gpu.Upload(wpe); using var gTok = gpu.Upload(tokens); using var gX = gpu.Zeros(n * c);
        using var gDx = gpu.Upload(dx); using var gDwte = gpu.Zeros(vocab * c); using var gDwpe = gpu.Zeros(8 * c);
        gpu.Ops.EmbeddingForward(gWte.View, gWpe.View, gTok.View.SubView(0, n), t, c, 1, gX.View.SubView(0, n * c));
        GpuCheck.Close(GpuFixture.Download(gX, n * c), x, Output, "embedding");
        gpu.Ops.EmbeddingBackward(gDx.View.SubView(0, n * c), gTok.View.SubView(0, n), t, c, gDwte.View, gDwpe.View);
        GpuCheck.Close(GpuFixture.Download(gDwte, vocab * c), dwte, Gradient, "dwte");
        GpuCheck.Close(GpuFixture.Download(gDwpe, 8 * c), dwpe, Gradient, "dwpe");
    }

    [Fact]
    public void Softmax_ForwardAndBackward_MatchCpu_AllMaskedRowGivesZeros()
    {
        int rows = 4, cols = 150;
        var x = GpuCheck.Random(rows * cols, 17, 5f); var dy = GpuCheck.Random(rows * cols, 18);
        for (int j = 0; j < cols; j++) x[2 * cols + j] = float.NegativeInfinity;
        var y = new float[x.Length]; var dx = new float[x.Length];
        Softmax.Forward(x, y, rows, cols); Softmax.Backward(y, dy, dx, rows, cols);
        using var gX = gpu.Upload(x); using var gY = gpu.Zeros(x.Length); using var gDy = gpu.Upload(dy);
        gpu.Ops.SoftmaxForward(gX.View, gY.View, rows, cols);
        var yGpu = GpuFixture.Download(gY, x.Length);
        GpuCheck.Close(yGpu, y, Output, "softmax");
        Assert.All(yGpu.AsSpan(2 * cols, cols).ToArray(), p => Assert.Equal(0f, p));
        gpu.Ops.SoftmaxBackward(gY.View, gDy.View, gDy.View, rows, cols);
        GpuCheck.Close(GpuFixture.Download(gDy, x.Length), dx, Gradient, "softmax backward");
    }

    [Fact]
    public void CrossEntropy_ForwardBackwardAndMean_MatchCpu()
    {
        int n = 6, v = 203;
        var logits = GpuCheck.Random(n * v, 19, 4f); int[] targets = [0, 202, 17, 17, 100, 5];
        var losses = new float[n]; var lse = new float[n]; var dLogits = new float[n * v];
        float mean = CrossEntropy.Forward(logits, targets, v, losses, lse);
        CrossEntropy.Backward(logits, lse, targets, v, 1f / n, dLogits);
        using var gL = gpu.Upload(logits); using var gT = gpu.Upload(targets); using var gLoss = gpu.Zeros(n); using var gLse = gpu.Zeros(n); using var gMean = gpu.Zeros(1);
        gpu.Ops.CrossEntropyForward(gL.View, gT.View.SubView(0, n), v, gLoss.View, gLse.View);
        GpuCheck.Close(GpuFixture.Download(gLoss, n), losses, Output, "losses");
        gpu.Ops.Mean(gLoss.View, gMean.View);
        GpuCheck.Close(GpuFixture.Download(gMean, 1), [mean], Output, "mean loss");
        gpu.Ops.CrossEntropyBackward(gL.View, gLse.View, gT.View.SubView(0, n), v, 1f / n);
        GpuCheck.Close(GpuFixture.Download(gL, n * v), dLogits, Gradient, "dlogits");
    }

    [Fact]
    public void HeadSplitAndMerge_AreInverse_AndMatchTheLayout()
    {
        int batch = 2, t = 3, h = 2, d = 4, c = h * d;
        var qkv = GpuCheck.Random(batch * t * 3 * c, 20);
        using var gQkv = gpu.Upload(qkv); using var q = gpu.Zeros(batch * t * c); using var k = gpu.Zeros(batch * t * c); using var v = gpu.Zeros(batch * t * c);
        using var back = gpu.Zeros(qkv.Length);
        gpu.Ops.SplitQkv(gQkv.View, batch, t, h, d, q.View, k.View, v.View);
        var kHost = GpuFixture.Download(k, batch * t * c);
        // k of (b 1, head 1, t 2, d 3) sits at qkv[(1·T + 2)·3C + C + 1·D + 3]
        Assert.Equal(qkv[(1 * t + 2) * 3 * c + c + d + 3], kHost[((1 * h + 1) * t + 2) * d + 3]);
        gpu.Ops.MergeQkv(q.View, k.View, v.View, batch, t, h, d, back.View);
        Assert.Equal(qkv, GpuFixture.Download(back, qkv.Length));
        using var merged = gpu.Zeros(batch * t * c); using var split = gpu.Zeros(batch * t * c);
        gpu.Ops.MergeHeads(k.View, batch, t, h, d, merged.View);
        gpu.Ops.SplitHeads(merged.View, batch, t, h, d, split.View);
        Assert.Equal(kHost, GpuFixture.Download(split, batch * t * c));
    }

    [Theory]
    [InlineData(0.5f)]   // clipped: the norm of these gradients is about 10
    [InlineData(1000f)]  // not clipped
    public void ClipAndAdamW_MatchCpu_OverThreeSteps(float maxNorm)
    {
        int n = 1000;
        var p = GpuCheck.Random(n, 21); var decayed = new[] { (0, 300), (700, 200) };
        var options = new AdamWOptions { LearningRate = 1e-2f, Beta1 = 0.9f, Beta2 = 0.99f, WeightDecay = 0.1f };
        var cpu = new AdamW(n, options, decayed);
        var device = new GpuAdamW(gpu.Ops, n, options, decayed);
        using var gP = gpu.Upload(p); using var gG = gpu.Zeros(n);
        var pCpu = (float[])p.Clone();
        for (int step = 0; step < 3; step++)
        {
            var g = GpuCheck.Random(n, 30 + step, 0.6f);
            GpuOps.Upload(g, gG.View);
            float norm = AdamW.ClipGradientNorm(g, maxNorm);
            cpu.Step(pCpu, g, 1e-2f);
            float normGpu = device.Step(gP.View, gG.View, maxNorm, 1e-2f);
            Assert.True(Math.Abs(normGpu - norm) <= 1e-5 * norm, $"norm {normGpu} vs {norm}");
            GpuCheck.Close(GpuFixture.Download(gP, n), pCpu, Output, $"parameters after step {step + 1}");
        }
        Assert.Equal(3, device.StepCount);
        var m = new float[n]; device.DownloadMoments(m, new float[n]);
        GpuCheck.Close(m, cpu.FirstMoment.Span, Gradient, "first moment");
        device.Dispose();
    }
}
