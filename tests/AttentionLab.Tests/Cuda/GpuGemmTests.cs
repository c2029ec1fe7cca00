using AttentionLab.Kernels;

namespace AttentionLab.Tests.Cuda;

/// <summary>The device GEMM (tiled in shared memory) against <see cref="GemmReference"/> on the CPU simulator: every
/// transpose form, accumulate, alpha and batching, at sizes that cross the 64-wide tile and 16-wide slice edges.
/// Tolerance: 1e-5 relative to the output's largest magnitude.</summary>
[Collection("Gpu")]
public class GpuGemmTests(GpuFixture gpu)
{
    private const double Tolerance = 1e-5;

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(5, 7, 3)]
    [InlineData(70, 66, 17)]
    public void EveryTransposeForm_MatchesReference(int m, int n, int k)
    {
        foreach (var (ta, tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
            foreach (bool accumulate in new[] { false, true })
            {
                var a = GpuCheck.Random(m * k, 1); var b = GpuCheck.Random(k * n, 2); var c0 = GpuCheck.Random(m * n, 3);
                var expected = (float[])c0.Clone();
                GemmReference.Multiply(a, b, expected, m, n, k, ta, tb, accumulate);
                using var da = gpu.Upload(a); using var db = gpu.Upload(b); using var dc = gpu.Upload(c0);
                gpu.Ops.MatMul(da.View, db.View, dc.View, m, n, k, ta, tb, accumulate);
                GpuCheck.Close(GpuFixture.Download(dc, m * n), expected, Tolerance, $"m {m} n {n} k {k} tA {ta} tB {tb} acc {accumulate}");
            }
    }

    [Fact]
    public void Batched_WithAlpha_MatchesEachProduct()
    {
        int batch = 3, m = 9, n = 11, k = 8;
        var a = GpuCheck.Random(batch * m * k, 4); var b = GpuCheck.Random(batch * n * k, 5);
        var expected = new float[batch * m * n];
        for (int z = 0; z < batch; z++)
            GemmReference.Multiply(a.AsSpan(z * m * k, m * k), b.AsSpan(z * n * k, n * k), expected.AsSpan(z * m * n, m * n), m, n, k, transposeB: true);
        for (int i = 0; i < expected.Length; i++) expected[i] *= 0.25f;
        using var da = gpu.Upload(a); using var db = gpu.Upload(b); using var dc = gpu.Zeros(expected.Length);
        gpu.Ops.MatMul(da.View, db.View, dc.View, m, n, k, transposeB: true, alpha: 0.25f, batch: batch, strideA: m * k, strideB: n * k, strideC: m * n);
        GpuCheck.Close(GpuFixture.Download(dc, expected.Length), expected, Tolerance, "batched");
    }
}
