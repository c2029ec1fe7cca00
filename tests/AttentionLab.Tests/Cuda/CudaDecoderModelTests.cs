using AttentionLab.Cuda;
using AttentionLab.Models;
using AttentionLab.Text;
using AttentionLab.Training;

namespace AttentionLab.Tests.Cuda;

/// <summary>
/// The device-resident GPT-2 against the CPU model on a tiny config: the loss (1e-5 relative), every gradient by
/// Hugging Face name (1e-4 relative to that tensor's largest magnitude), and three steps of <see cref="Trainer"/> on a
/// <see cref="CudaTrainingBackend"/> against the CPU backend (losses equal to float32 rounding: 1e-5 relative).
/// </summary>
[Collection("Gpu")]
public class CudaDecoderModelTests(GpuFixture gpu)
{
    private static readonly DecoderConfig Config = new() { VocabSize = 23, ContextLength = 8, Layers = 2, Channels = 16, Heads = 2 };

    [Theory]
    [InlineData("naive")]
    [InlineData("flash")]
    public void LossAndEveryGradient_MatchTheCpuModel(string attention)
    {
        var cpu = new DecoderModel(Config);
        cpu.InitializeWeights(7);
        int batch = 2, t = Config.ContextLength;
        var random = new Random(3);
        var tokens = Enumerable.Range(0, batch * t).Select(_ => random.Next(Config.VocabSize)).ToArray();
        var targets = Enumerable.Range(0, batch * t).Select(_ => random.Next(Config.VocabSize)).ToArray();
        cpu.ZeroGrad();
        float expected = cpu.Forward(tokens, batch, t, targets);
        cpu.Backward();

        using var device = new CudaDecoderModel(gpu.Gpu, Config, attention);
        device.UploadParameters(cpu.Parameters);
        device.ZeroGrad();
        float loss = device.Forward(tokens, batch, t, targets);
        Assert.True(Math.Abs(loss - expected) <= 1e-5 * Math.Abs(expected), $"loss {loss} vs CPU {expected}");
        device.Backward();
        var grads = new ParameterArena(cpu.Layout);
        device.DownloadGradients(grads);
        foreach (var view in cpu.Layout.All)
            GpuCheck.Close(grads[view], cpu.Gradients[view], 1e-4, view.Name);
    }

    [Fact]
    public void ThreeTrainingSteps_FollowTheCpuTrainer()
    {
        var text = string.Concat(Enumerable.Repeat("to be or not to be, that is the question. ", 8));
        var tokenizer = CharTokenizer.FromCorpus(text);
        var corpus = Corpus.FromText(text, tokenizer);
        var config = Config with { VocabSize = tokenizer.VocabSize };
        var options = new TrainingOptions { BatchSize = 2, Steps = 3, WarmupSteps = 1, LearningRate = 1e-2, MinLearningRate = 1e-3, EvalEvery = 100, EvalBatches = 1, GradientClip = 0.5 };
        var cpuModel = new DecoderModel(config);
        cpuModel.InitializeWeights(11);
        var gpuHost = new DecoderModel(config, AttentionLab.Attention.AttentionKernels.Parse("flash"));
        cpuModel.Parameters.Data.CopyTo(gpuHost.Parameters.Data, 0);
        var cpu = new Trainer(new DecoderLanguageModel(cpuModel), corpus, options);
        using var backend = new CudaTrainingBackend(gpu.Gpu, gpuHost, Trainer.CreateOptimizer(new DecoderLanguageModel(gpuHost), options));
        var trainer = new Trainer(backend, corpus, options);
        for (int s = 0; s < 3; s++)
        {
            var a = cpu.Step(); var b = trainer.Step();
            Assert.True(Math.Abs(a.Loss - b.Loss) <= 1e-5 * Math.Abs(a.Loss), $"step {s + 1}: loss {b.Loss} vs CPU {a.Loss}");
            Assert.True(Math.Abs(a.GradientNorm - b.GradientNorm) <= 1e-4 * a.GradientNorm, $"step {s + 1}: norm {b.GradientNorm} vs CPU {a.GradientNorm}");
        }
        trainer.SynchronizeHost();
        Assert.Equal(3, trainer.Optimizer.StepCount);
        GpuCheck.Close(gpuHost.Parameters.Data, cpuModel.Parameters.Data, 1e-4, "weights after three steps");
        GpuCheck.Close(trainer.Optimizer.FirstMoment.Span, cpu.Optimizer.FirstMoment.Span, 1e-4, "first moments after three steps");
        GpuCheck.Close(trainer.Optimizer.SecondMoment.Span, cpu.Optimizer.SecondMoment.Span, 1e-4, "second moments after three steps");
    }
}
