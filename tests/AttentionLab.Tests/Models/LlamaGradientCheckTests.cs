using AttentionLab.Attention;
using AttentionLab.IO;
using AttentionLab.Models;

namespace AttentionLab.Tests.Models;

/// <summary>
/// Finite-difference checks of the Llama family's backward through the whole model (<see cref="ModelGradientCheckTests.Check"/>:
/// the same step and tolerances), one config per piece: RMSNorm, rotary positions with llama3 scaling, SwiGLU,
/// grouped-query and multi-query attention (repeat_kv's summed gradients), q/k/v and o biases, Qwen3's per-head q/k
/// norms with an explicit head_dim (H·D ≠ C), Mistral's sliding window, tied and untied heads, under several kernels.
/// The norm gains are drawn away from 1 so their gradients are not checked only at the identity.
/// </summary>
public class LlamaGradientCheckTests
{
    private static readonly DecoderConfig Base = new()
    {
        VocabSize = 11, ContextLength = 8, Layers = 2, Channels = 8, Heads = 4, KeyValueHeads = 2, HeadDim = 2, IntermediateSize = 12,
        Norm = NormKind.RmsNorm, Activation = MlpActivation.SwiGlu, Positions = PositionEncoding.Rotary, LayerNormEpsilon = 1e-5f,
        QkvBias = false, OutputProjectionBias = false, MlpBias = false, TiedOutput = false,
    };

    public static TheoryData<string, string> Cases => new()
    {
        { "llama3", "naive" }, { "llama3", "fast" }, { "llama3", "flash" },
        { "mqa-biases-tied", "fast" },
        { "qwen3", "naive" }, { "qwen3", "fast" },
        { "mistral", "window:3" }, { "mistral", "fast" },
    };

    private static DecoderConfig Config(string name) => name switch
    {
        "llama3" => Base with { RopeTheta = 10000, RopeScaling = new RopeScaling(8, 1, 4, 16) },
        "mqa-biases-tied" => Base with { KeyValueHeads = 1, QkvBias = true, OutputProjectionBias = true, MlpBias = true, TiedOutput = true },
        "qwen3" => Base with { Heads = 2, KeyValueHeads = 1, HeadDim = 6, QkNorm = true, TiedOutput = true },
        "mistral" => Base with { SlidingWindow = 3 },
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void BackwardMatchesFiniteDifferences(string name, string kernel)
    {
        var config = Config(name);
        var model = new DecoderModel(config, AttentionKernels.Parse(kernel)) { ParallelMinimumWork = 0 };
        model.InitializeWeights(7);
        var random = new Random(13);
        foreach (var view in model.Layout.All.Where(v => v.Shape.Length == 1))
        {
            var p = model.Parameters[view];
            for (int i = 0; i < p.Length; i++) p[i] += (float)(0.3 * (random.NextDouble() - 0.5));
        }
        foreach (var view in model.Layout.Matrices.Where(v => !v.Name.EndsWith("wte.weight", StringComparison.Ordinal)))
        {
            var p = model.Parameters[view];
            for (int i = 0; i < p.Length; i++) p[i] = (float)(0.6 * (random.NextDouble() - 0.5));   // larger than init: attention that is not uniform
        }
        int[] tokens = [1, 5, 2, 9, 3, 3, 7, 0, 4, 10, 6, 8, 2, 2];
        int[] targets = [5, 2, 9, 3, 3, 7, 0, 1, 10, 6, 8, 2, 2, 4];
        ModelGradientCheckTests.Check(model.Parameters, model.Gradients, () => model.Forward(tokens, 2, 7, targets), () => model.Backward(), perTensor: 8);
    }
}

/// <summary>The KV cache holds Hkv heads and grows with the positions used (a 128k-context model must not allocate its
/// whole window up front): past the first allocation the cached tokens are still those of a full recompute.</summary>
public class KvCacheGrowthTests
{
    [Fact]
    public void TheCacheGrowsPastItsFirstAllocationAndGivesTheSameTokens()
    {
        var config = new DecoderConfig
        {
            VocabSize = 13, ContextLength = 400, Layers = 1, Channels = 8, Heads = 4, KeyValueHeads = 1, IntermediateSize = 16,
        }.WithLlamaArchitecture(keyValueHeads: 1);
        var model = new DecoderModel(config, training: false);
        model.InitializeWeights(3);
        var cache = model.CreateCache();
        Assert.Equal(KvCache.InitialPositions, cache.Allocated);
        Assert.Equal(2L * 1 * 1 * 2 * sizeof(float), cache.BytesPerToken);              // 2 · L · Hkv · D · 4 bytes
        var prompt = Enumerable.Range(0, 250).Select(i => (i * 7 + 3) % 13).ToArray();
        var generator = new TextGenerator(model);
        var cached = generator.Greedy(prompt, 20, useKvCache: true);
        Assert.Equal(generator.Greedy(prompt, 20, useKvCache: false), cached);
        model.ForwardCached(prompt, cache);
        model.ForwardCached([1, 2, 3, 4, 5, 6, 7, 8], cache);
        Assert.Equal(258, cache.Length);
        Assert.Equal(400, cache.Allocated);                                                 // doubled, capped at the context
    }

    [Fact]
    public void ALongPromptReservesToThePowerOfTwoSoTheStepsAfterItDoNotRegrow()
    {
        var config = new DecoderConfig { VocabSize = 11, ContextLength = 1024, Layers = 1, Channels = 8, Heads = 2 };
        var model = new DecoderModel(config, training: false);
        model.InitializeWeights(5);
        var cache = model.CreateCache();
        model.ForwardCached(Enumerable.Range(0, 1016).Select(i => i % 11).ToArray(), cache);
        Assert.Equal(1024, cache.Allocated);                                                // 1016 rounds up to 1024, not 1016
        var keys = cache.KeysByLayer[0];
        for (int i = 0; i < 8; i++) model.ForwardCached([i % 11], cache);
        Assert.Equal(1024, cache.Length);
        Assert.Same(keys, cache.KeysByLayer[0]);                                            // the decode steps never copied the cache
        var small = model.CreateCache();
        small.Reserve(300);
        Assert.Equal(512, small.Allocated);                                                 // 300 → 512 (and at least twice 256)
    }
}
