using AttentionLab.Ops;
using static AttentionLab.Tests.Ops.OpsTestUtil;

namespace AttentionLab.Tests.Ops;

/// <summary>Cross-entropy against PyTorch (attention_ops.json "cross_entropy", mean over B·T): loss 1e-6 relative,
/// dlogits 1e-4 relative + 1e-7 absolute.</summary>
public class CrossEntropyTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MatchesPyTorch(bool fast)
    {
        var root = Fixtures.Get(Fixtures.Load("attention_ops.json"), "cross_entropy");
        var logits = Fixtures.Floats(Fixtures.Get(root, "logits"));
        var targets = Fixtures.Floats(Fixtures.Get(root, "targets")).Select(t => (int)t).ToArray();
        int v = Fixtures.Shape(Fixtures.Get(root, "logits"))[^1], n = targets.Length;
        var losses = new float[n]; var lse = new float[n];
        float loss = fast ? CrossEntropy.Forward(logits, targets, v, losses, lse) : CrossEntropy.ForwardReference(logits, targets, v, losses, lse);
        Assert.Equal(Fixtures.Get(root, "loss").GetDouble(), loss, 1e-5);
        var d = new float[logits.Length];
        if (fast) CrossEntropy.Backward(logits, lse, targets, v, 1f / n, d); else CrossEntropy.BackwardReference(logits, lse, targets, v, 1f / n, d);
        Close.Assert(d, Fixtures.Doubles(Fixtures.Get(root, "dlogits")), 1e-4, 1e-7, "dlogits");
        // in place, as the model does it
        var inPlace = (float[])logits.Clone();
        CrossEntropy.Backward(inPlace, lse, targets, v, 1f / n, inPlace);
        Close.Assert(inPlace, d, 1e-6, 1e-8, "in place");
    }

    [Fact]
    public void BackwardMatchesFiniteDifferences()
    {
        int n = 3, v = 7;
        var logits = Random(n * v, 21, 3);
        int[] targets = [2, 6, 0];
        double Loss() { var l = new float[n]; return CrossEntropy.ForwardReference(logits, targets, v, l, default); }
        var losses = new float[n]; var lse = new float[n];
        CrossEntropy.Forward(logits, targets, v, losses, lse);
        var d = new float[n * v];
        CrossEntropy.Backward(logits, lse, targets, v, 1f / n, d);
        for (int i = 0; i < logits.Length; i++) Assert.Equal(Numeric(logits, i, Loss, 1e-2f), d[i], 1e-4);
    }

    [Fact]
    public void LargeLogitsStayFinite()
    {
        float[] logits = [1000f, -1000f, 999f];
        var losses = new float[1]; var lse = new float[1];
        float loss = CrossEntropy.Forward(logits, [0], 3, losses, lse);
        Assert.Equal(Math.Log(1 + Math.Exp(-1)), loss, 1e-4); // float32 spacing at 1000 is 6e-5
    }

    [Theory]
    [Trait("Category", "Simd")]
    [MemberData(nameof(OpsTestUtil.SimdLengths), MemberType = typeof(OpsTestUtil))]
    public void FastMatchesReferenceAtEveryWidth(int v)
    {
        if (v == 0) return;
        int n = 2;
        var logits = Random(n * v, v, 5);
        int[] targets = [v - 1, v / 2];
        var l1 = new float[n]; var l2 = new float[n]; var s1 = new float[n]; var s2 = new float[n];
        float a = CrossEntropy.ForwardReference(logits, targets, v, l1, s1);
        float b = CrossEntropy.Forward(logits, targets, v, l2, s2);
        Assert.Equal(a, b, 1e-5);
        var d1 = new float[n * v]; var d2 = new float[n * v];
        CrossEntropy.BackwardReference(logits, s1, targets, v, 0.5f, d1);
        CrossEntropy.Backward(logits, s1, targets, v, 0.5f, d2);
        Close.Assert(d2, d1, 1e-5, 1e-7, "dlogits");
    }
}
