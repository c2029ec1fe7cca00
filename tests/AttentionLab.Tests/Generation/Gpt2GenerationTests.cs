using AttentionLab.Attention;
using AttentionLab.Cli.Commands;
using AttentionLab.IO;
using AttentionLab.Models;
using AttentionLab.Training;

namespace AttentionLab.Tests.Generation;

public class Gpt2GenerationTests
{
    [Fact]
    public void KvCacheDecoderAgreesWithTheModelsFullForwardPastTheContext()
    {
        // the fixture model (16 positions) read by the model's loader; 40 greedy tokens slide the window 29 times
        var model = Gpt2ModelDirectory.Load(Path.Combine(Fixtures.Directory, "gpt2_tiny"), AttentionKernels.Default);
        var generator = Gpt2LanguageModel.Generator(model);
        int[] prompt = [47, 43, 18, 46, 37];
        var cached = generator.Generate(prompt, 40, SamplingOptions.Greedy).ToArray();
        var full = GenerateBenchmark.ModelForwardGreedy(model, prompt, 40);
        Assert.Equal(full, cached);
    }

    [Fact]
    public void DecoderLogitsMatchTheModelsLogits()
    {
        var model = Gpt2ModelDirectory.Load(Path.Combine(Fixtures.Directory, "gpt2_tiny"), AttentionKernels.Default);
        var generator = Gpt2LanguageModel.Generator(model);
        int[] tokens = [3, 14, 15, 9, 2, 6, 5, 35, 8, 9, 7, 9, 3, 2, 38, 4];
        var all = new float[16 * 65];
        generator.Forward(tokens, all);
        model.Forward(tokens, 1, 16);
        Close.Assert(all, model.Logits, rtol: 1e-4, atol: 1e-5, what: "generator vs model logits");
    }
}
