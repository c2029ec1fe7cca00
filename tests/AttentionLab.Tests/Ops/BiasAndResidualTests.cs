using AttentionLab.Ops;
using static AttentionLab.Tests.Ops.OpsTestUtil;

namespace AttentionLab.Tests.Ops;

public class BiasAndResidualTests
{
    [Fact]
    public void BiasBroadcastsOverRowsAndItsGradientIsTheColumnSum()
    {
        int n = 3, c = 5;
        var b = Random(c, 1); var r = Random(n * c, 2);
        var y = new float[n * c];
        Bias.Fill(b, y);
        for (int i = 0; i < n * c; i++) Assert.Equal(b[i % c], y[i]);
        Bias.AddTo(r, b, y);
        for (int i = 0; i < n * c; i++) Assert.Equal(r[i] + b[i % c], y[i]);
        var dy = Random(n * c, 3); var db = new float[c];
        Bias.Backward(dy, db);
        for (int j = 0; j < c; j++) Assert.Equal(dy[j] + dy[c + j] + dy[2 * c + j], db[j], 5);
    }

    [Fact]
    public void ResidualGradientFlowsToBothInputs()
    {
        var a = Random(7, 1); var b = Random(7, 2); var y = new float[7];
        Residual.Forward(a, b, y);
        for (int i = 0; i < 7; i++) Assert.Equal(a[i] + b[i], y[i]);
        var dy = Random(7, 3); var da = new float[7]; var dbr = new float[7];
        Residual.Backward(dy, da, dbr);
        Assert.Equal(dy, da); Assert.Equal(dy, dbr);
    }
}
