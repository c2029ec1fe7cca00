using AttentionLab.Attention;
using AttentionLab.Models;
using AttentionLab.Tests.Attention;

namespace AttentionLab.Tests.Models;

/// <summary>
/// The seed materials' GPTModel against PyTorch (seed_gpt.json): logits, loss, every parameter gradient and the
/// parameter counts. Tolerances: logits and loss 1e-5 relative + 1e-6 absolute (float32 forward of a few
/// GEMMs and one softmax); gradients 1e-4 relative + 1e-6 absolute (the gradients here are ~1e-2, and
/// key.bias is exactly 0 in theory, ~1e-18 in the ground truth).
/// </summary>
public class SeedGptTests
{
    private const double ForwardRtol = 1e-5, ForwardAtol = 1e-6, GradRtol = 1e-4, GradAtol = 1e-6;

    private static int[] Ints(string path) =>
        Fixtures.Doubles(Fixtures.Get(Fixtures.Load("seed_gpt.json"), path)).Select(d => (int)d).ToArray();

    public static TheoryData<string> Kernels() => new(TestData.ExactKernels);

    [Theory]
    [MemberData(nameof(Kernels))]
    public void MatchesPyTorch(string kernelName)
    {
        var root = Fixtures.Load("seed_gpt.json");
        var cfg = root.GetProperty("config");
        var config = new SeedGptConfig(cfg.GetProperty("vocab_size").GetInt32(), cfg.GetProperty("d_model").GetInt32(),
            cfg.GetProperty("n_heads").GetInt32(), cfg.GetProperty("max_length").GetInt32());
        var model = new SeedGpt(config, AttentionKernels.Get(kernelName));
        foreach (var name in model.ParameterNames)
            model.SetParameter(name, Fixtures.Floats(Fixtures.Get(root, "params." + name)));

        var ids = Ints("input_ids");
        var targets = Ints("target_ids");
        var logits = model.Forward(ids, 1, ids.Length);
        Assert.Equal([1, 4, 50], logits.Shape);
        Close.Assert(logits.Data, Fixtures.Doubles(root.GetProperty("logits")), ForwardRtol, ForwardAtol, "logits");
        float loss = model.Loss(logits, targets);
        Close.Assert([loss], [root.GetProperty("loss").GetDouble()], ForwardRtol, ForwardAtol, "loss");

        model.Backward();
        int count = 0;
        foreach (var name in model.ParameterNames)
        {
            Close.Assert(model.Gradient(name).Data, Fixtures.Doubles(Fixtures.Get(root, "grads." + name)), GradRtol, GradAtol, $"{kernelName} grad {name}");
            count++;
        }
        Assert.Equal(11, count);
        Assert.Equal(root.GetProperty("param_count").GetInt64(), model.ParameterCount);
        Assert.Equal(config.ParameterCount, model.ParameterCount);
    }

    [Fact]
    public void TheExercisesModelHas102728704Parameters()
    {
        var root = Fixtures.Load("seed_gpt.json");
        long expected = root.GetProperty("param_count_vocab200000_d256_h4_len256").GetInt64();
        Assert.Equal(102_728_704L, expected);
        var config = new SeedGptConfig(VocabSize: 200000, DModel: 256, Heads: 4, MaxLength: 256);
        Assert.Equal(expected, SeedGpt.CountParameters(config));
        Assert.Equal(expected, new SeedGptConfig().ParameterCount);
    }

    [Fact]
    public void GradientsAccumulateUntilZeroed()
    {
        var model = new SeedGpt(new SeedGptConfig(VocabSize: 11, DModel: 4, Heads: 2, MaxLength: 3), seed: 3);
        int[] ids = [1, 2, 3, 4, 5, 6], targets = [2, 3, 4, 5, 6, 7];
        model.Loss(model.Forward(ids, 2, 3), targets);
        model.Backward();
        var once = model.Gradient("attention.value.weight").Data.ToArray();
        model.Loss(model.Forward(ids, 2, 3), targets);
        model.Backward();
        var twice = model.Gradient("attention.value.weight").Data;
        Close.Assert(twice, once.Select(g => 2.0 * g).ToArray(), 1e-6, 1e-7, "accumulated");
        model.ZeroGrad();
        Assert.All(model.ParameterNames, name => Assert.All(model.Gradient(name).Data, g => Assert.Equal(0f, g)));
        Assert.All(model.Gradients.Data, g => Assert.Equal(0f, g));
    }

    [Fact]
    public void BackwardMatchesFiniteDifferences()
    {
        // token 4 appears three times, so its embedding row must collect three gradients
        var model = new SeedGpt(new SeedGptConfig(VocabSize: 11, DModel: 4, Heads: 2, MaxLength: 4), seed: 5);
        int[] ids = [4, 2, 4, 9, 4, 1], targets = [2, 4, 9, 3, 1, 0];
        model.Loss(model.Forward(ids, 2, 3), targets);
        model.Backward();
        foreach (var name in model.ParameterNames)
        {
            // perturb the state_dict entry (PyTorch's layout) and write it back into the fused arena each time:
            // checks the backward of the one stack's layers and the (out, in) ↔ fused (in, out) mapping together
            var value = model.Parameter(name).Data;
            double Loss()
            {
                model.SetParameter(name, value);
                return model.Loss(model.Forward(ids, 2, 3), targets);
            }
            AttentionLab.Tests.Attention.TestData.GradCheck(value, model.Gradient(name).Data, Loss, name);
            model.SetParameter(name, value);
        }
    }
    [Fact]
    public void InitialisationDrawsTheSameNumbersAsThePyTorchStyleModules()
    {
        // the order of the seed's module tree from one Random(seed): two seeds for the N(0, 1) tables, then query,
        // key, value, out as nn.Linear(C, C) (W then b), then the head's seed; the arena holds exactly those numbers
        var config = new SeedGptConfig(VocabSize: 11, DModel: 4, Heads: 2, MaxLength: 3);
        var model = new SeedGpt(config, seed: 7);
        var random = new Random(7);
        var tokens = new float[11 * 4];
        AttentionLab.Ops.ParameterInit.Normal(tokens, (ulong)random.NextInt64());
        var positions = new float[3 * 4];
        AttentionLab.Ops.ParameterInit.Normal(positions, (ulong)random.NextInt64());
        Assert.Equal(tokens, model.Parameter("token_embedding.weight").Data);
        Assert.Equal(positions, model.Parameter("position_embedding.weight").Data);
        foreach (var name in (string[])["query", "key", "value", "out"])
        {
            var linear = new AttentionLab.Ops.Linear(4, 4, bias: true, random);
            Assert.Equal(linear.Weight.Data, model.Parameter($"attention.{name}.weight").Data);
            Assert.Equal(linear.Bias!.Data, model.Parameter($"attention.{name}.bias").Data);
        }
        var head = new AttentionLab.Ops.Linear(4, 11, bias: false, seed: (ulong)random.NextInt64());
        Assert.Equal(head.Weight.Data, model.Parameter("output_head.weight").Data);
        Assert.Equal(config.ParameterCount, model.Parameters.Data.Length);
    }

    [Fact]
    public void StateDictNamesMapOntoTheFusedArena()
    {
        var model = new SeedGpt(new SeedGptConfig(VocabSize: 11, DModel: 4, Heads: 2, MaxLength: 3));
        Assert.Equal(11, model.ParameterNames.Count);
        var w = Enumerable.Range(0, 16).Select(i => (float)i).ToArray();                 // (out, in)
        model.SetParameter("attention.key.weight", w);
        Assert.Equal(w, model.Parameter("attention.key.weight").Data);
        // W_k[o, i] sits at (in i, column C + o) of the fused (C, 3C) matrix
        Assert.Equal(w[2 * 4 + 1], model.Parameters[model.Layout.AttentionWeight][1 * 12 + 4 + 2]);
        Assert.Equal([4, 4], model.Gradient("attention.out.weight").Shape);
        Assert.Contains("known:", Assert.Throws<ArgumentException>(() => model.Parameter("attention.proj.weight")).Message);
        Assert.Throws<ArgumentException>(() => model.SetParameter("attention.out.bias", new float[3]));
        Assert.Throws<InvalidOperationException>(() => model.Backward());
    }
    [Fact]
    public void HooksReadTheAttentionWithoutChangingThePassAndEditorsRefuseBackward()
    {
        var model = new SeedGpt(new SeedGptConfig(VocabSize: 11, DModel: 4, Heads: 2, MaxLength: 4), seed: 2);
        int[] ids = [1, 5, 3, 9];
        var plain = model.Forward(ids, 1, 4).Data;
        var (recorder, cache) = AttentionLab.Hooks.ActivationCache.Recorder(n => n.StartsWith("blocks.0.attn.", StringComparison.Ordinal));
        var hooked = model.Forward(ids, 1, 4, new ForwardOptions { Hooks = recorder }).Data;
        Assert.Equal(plain, hooked);
        Assert.Equal([1, 2, 4, 4], cache["blocks.0.attn.hook_pattern"].Shape);                 // (B, H, T, T)
        Assert.Equal([1, 4, 2, 2], cache["blocks.0.attn.hook_z"].Shape);                       // (B, T, H, D)
        var editor = new AttentionLab.Hooks.HookSet().Edit("blocks.0.attn.hook_z", (_, z) => z.Span.Clear());
        var logits = model.Forward(ids, 1, 4, new ForwardOptions { Hooks = editor });
        model.Loss(logits, [5, 3, 9, 0]);
        Assert.Throws<InvalidOperationException>(() => model.Backward());
    }
}
