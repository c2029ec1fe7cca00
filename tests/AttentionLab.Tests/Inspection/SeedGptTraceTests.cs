using AttentionLab.Inspection;
using AttentionLab.Models;
using AttentionLab.Ops;

namespace AttentionLab.Tests.Inspection;

/// <summary>
/// <see cref="SeedGptTrace"/> on PyTorch's weights (fixtures/seed_gpt.json: vocab 50, d_model 8, 2 heads, max_len 4,
/// input_ids [7, 12, 3, 25]). Tolerances: looked-up rows exact (copies); logits 1e-5 relative + 1e-6 absolute, as in
/// SeedGptTests (float32 GEMMs); the shifted loss against a float64 cross-entropy of PyTorch's logits, 1e-5.
/// </summary>
public class SeedGptTraceTests
{
    private static (SeedGpt Model, int[] Ids, int[] Targets, System.Text.Json.JsonElement Root) FixtureModel()
    {
        var root = Fixtures.Load("seed_gpt.json");
        var cfg = root.GetProperty("config");
        var model = new SeedGpt(new SeedGptConfig(cfg.GetProperty("vocab_size").GetInt32(), cfg.GetProperty("d_model").GetInt32(),
            cfg.GetProperty("n_heads").GetInt32(), cfg.GetProperty("max_length").GetInt32()));
        foreach (var name in model.ParameterNames)
            model.SetParameter(name, Fixtures.Floats(Fixtures.Get(root, "params." + name)));
        int[] Ints(string path) => Fixtures.Doubles(root.GetProperty(path)).Select(d => (int)d).ToArray();
        return (model, Ints("input_ids"), Ints("target_ids"), root);
    }

    [Fact]
    public void EveryStepMatchesPyTorchWeights()
    {
        var (model, ids, targets, root) = FixtureModel();
        Assert.Equal([7, 12, 3, 25], ids);
        var t = SeedGptTrace.Run(model, ids);
        int T = 4, C = 8, V = 50;

        var table = Fixtures.Floats(Fixtures.Get(root, "params.token_embedding.weight"));
        var positions = Fixtures.Floats(Fixtures.Get(root, "params.position_embedding.weight"));
        for (int i = 0; i < T; i++)
            for (int c = 0; c < C; c++)
            {
                Assert.Equal(table[ids[i] * C + c], t.TokenRows[i, c]);                 // row ids[i] of the table
                Assert.Equal(positions[i * C + c], t.PositionRows[i, c]);
                Assert.Equal(table[ids[i] * C + c] + positions[i * C + c], t.Embedded[i, c]);
            }

        Assert.Equal([1, T, V], t.Logits.Shape);
        var logits = Fixtures.Doubles(root.GetProperty("logits"));
        Close.Assert(t.Logits.Data, logits, 1e-5, 1e-6, "logits");
        Assert.Equal((float)t.Logits[0, 2, 7], t.ExampleLogit.Value);
        Assert.Equal((2, 7), (t.ExampleLogit.Position, t.ExampleLogit.Token));

        // the fixture's targets are the next ids (then one more); the trace predicts ids[1..] from positions 0..T-2
        Assert.Equal(ids[1..], targets[..3]);
        Assert.Equal(ids[1..], t.Targets);
        var expected = new double[3];
        for (int i = 0; i < 3; i++)
        {
            var row = logits.AsSpan(i * V, V).ToArray();
            double max = row.Max(), lse = max + Math.Log(row.Sum(x => Math.Exp(x - max)));
            expected[i] = lse - row[ids[i + 1]];                                        // −ln softmax(row)[target]
        }
        Close.Assert(t.PositionLosses, expected, 1e-5, 1e-6, "per-position loss");
        Close.Assert([t.Loss], [expected.Average()], 1e-5, 1e-6, "loss");
        Assert.Equal(Math.Log(50), t.LnVocab);
        Assert.Equal(1120, t.Parameters);
    }

    [Fact]
    public void HeadsAreCausalDistributionsAndWOTurnsTheConcatIntoTheOutput()
    {
        var (model, ids, _, _) = FixtureModel();
        var t = SeedGptTrace.Run(model, ids);
        Assert.Equal([2, 4, 4], t.Weights.Shape);
        for (int h = 0; h < 2; h++)
            for (int i = 0; i < 4; i++)
            {
                double sum = 0;
                for (int j = 0; j < 4; j++)
                {
                    sum += t.Weights[h, i, j];
                    if (j > i) Assert.Equal(0f, t.Weights[h, i, j]);                      // no weight on the future
                }
                Assert.InRange(sum, 1 - 1e-6, 1 + 1e-6);
            }
        // attended = concat·W_Oᵀ + b_O, recomputed in double: 1e-5 for float32 sums of 8 products
        var w = model.Parameter("attention.out.weight"); var b = model.Parameter("attention.out.bias");   // (out, in), (out)
        var expected = new double[4 * 8];
        for (int i = 0; i < 4; i++)
            for (int o = 0; o < 8; o++)
            {
                double acc = b[o];
                for (int c = 0; c < 8; c++) acc += (double)t.Concat[i, c] * w[o, c];
                expected[i * 8 + o] = acc;
            }
        Close.Assert(t.Attended.Data, expected, 1e-5, 1e-6, "attended");
    }

    [Fact]
    public void UntrainedLossIsNearLnV()
    {
        // logits std ≈ 0.3 here, so the loss is ln V + ~var/2: 0.5 is a wide margin for the claim of Q31
        var t = SeedGptTrace.Run(new SeedGptConfig(VocabSize: 1000, DModel: 16, Heads: 2, MaxLength: 8), [1, 2, 3, 4, 5, 6, 7, 8], seed: 3);
        Assert.InRange(t.Loss, t.LnVocab - 0.5, t.LnVocab + 0.5);
        Assert.Equal(7, t.PositionLosses.Length);
    }

    [Fact]
    public void BadInputsAreArgumentErrors()
    {
        var config = new SeedGptConfig(VocabSize: 50, DModel: 8, Heads: 2, MaxLength: 4);
        Assert.Contains("outside the vocabulary", Assert.Throws<ArgumentException>(() => SeedGptTrace.Run(config, [7, 50])).Message);
        Assert.Contains("max_len", Assert.Throws<ArgumentException>(() => SeedGptTrace.Run(config, [1, 2, 3, 4, 5])).Message);
        Assert.Contains("divide", Assert.Throws<ArgumentException>(() => SeedGptTrace.Run(config with { Heads = 3 }, [1])).Message);
        Assert.True(float.IsNaN(SeedGptTrace.Run(config, [7]).Loss));                   // one id: nothing to predict
    }
}

/// <summary>
/// <see cref="ParameterInit"/>: the distributions PyTorch uses (N(0, 1), U(±b)), reproducible from the seed.
/// Over n = 1,000,000 draws the standard error of the mean is 0.001 and of the variance ~0.0014, so 0.01 is ~7σ.
/// </summary>
public class ParameterInitTests
{
    [Fact]
    public void NormalHasMeanZeroVarianceOne()
    {
        var x = new float[1_000_000];
        ParameterInit.Normal(x, 42);
        double mean = x.Average(v => (double)v), variance = x.Average(v => (v - mean) * (v - mean));
        Assert.InRange(mean, -0.01, 0.01);
        Assert.InRange(variance, 0.99, 1.01);
        var again = new float[x.Length];
        ParameterInit.Normal(again, 42);
        Assert.Equal(x, again);                                                          // same seed, same numbers
        ParameterInit.Normal(again, 43);
        Assert.NotEqual(x[..100], again[..100]);
    }

    [Fact]
    public void ARangeOfAnArenaGetsTheNumbersOfTheTableOnItsOwn()
    {
        var alone = new float[70_000];                                                   // more than one block
        ParameterInit.Normal(alone, 9);
        var arena = new float[80_000];
        ParameterInit.Normal(new ArraySegment<float>(arena, 5_000, 70_000), 9);
        Assert.Equal(alone, arena.AsSpan(5_000, 70_000).ToArray());
        Assert.All(arena.AsSpan(0, 5_000).ToArray(), v => Assert.Equal(0f, v));
        Assert.All(arena.AsSpan(75_000).ToArray(), v => Assert.Equal(0f, v));
        ParameterInit.Uniform(alone, 0.5f, 4);
        ParameterInit.Uniform(new ArraySegment<float>(arena, 5_000, 70_000), 0.5f, 4);
        Assert.Equal(alone, arena.AsSpan(5_000, 70_000).ToArray());
    }

    [Fact]
    public void UniformStaysInItsBoundWithVarianceBSquaredOverThree()
    {
        var x = new float[1_000_001];                                                    // an odd length, a partial last block
        ParameterInit.Uniform(x, 0.5f, 7);
        Assert.All(x, v => Assert.InRange(v, -0.5f, 0.5f));
        double mean = x.Average(v => (double)v), variance = x.Average(v => (v - mean) * (v - mean));
        Assert.InRange(mean, -0.01, 0.01);
        Assert.InRange(variance, 0.25 / 3 - 0.01, 0.25 / 3 + 0.01);
    }

    [Fact]
    public void SeededLinearUsesTheSameBound()
    {
        var layer = new Linear(16, 1000, bias: true, seed: 5);
        Assert.All(layer.Weight.Data, v => Assert.InRange(v, -0.25f, 0.25f));           // 1/√16
        Assert.All(layer.Bias!.Data, v => Assert.InRange(v, -0.25f, 0.25f));
        Assert.Equal(layer.Weight.Data, new Linear(16, 1000, bias: true, seed: 5).Weight.Data);
    }
}
