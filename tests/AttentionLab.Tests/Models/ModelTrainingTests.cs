using AttentionLab.Datasets;
using AttentionLab.Models;
using AttentionLab.Text;
using AttentionLab.Training;

namespace AttentionLab.Tests.Models;

/// <summary>
/// Short training runs of tiny configs that check the claimed direction in seconds (the full-size figures are in
/// docs/seq2seq.md, docs/bert.md, docs/vit.md), save/reload round trips, and the padding masks' promise: a sequence's
/// result does not depend on the longer sequences it is batched with.
/// </summary>
public class ModelTrainingTests
{
    private static TrainingOptions Options(int steps) => TrainingOptions.TaskDefaults with { Steps = steps, LearningRate = 3e-3, MinLearningRate = 3e-4, WarmupSteps = 10 };

    [Fact]
    public void ReversalAccuracyRisesFarAboveChanceAndCrossAttentionIsAnAntiDiagonal()
    {
        // chance of reversing a 3–6 letter string exactly is < 1/26³; after 200 steps of a 1+1-layer model most are right
        var run = new Seq2SeqTrainingRun(new ReverseTask(3, 6), new Seq2SeqConfig { Channels = 32, Heads = 2, EncoderLayers = 1, DecoderLayers = 1 },
            Options(200), batchSize: 32, heldOut: 200);
        double before = run.Evaluate();
        while (!run.Trainer.IsFinished) run.Trainer.Step();
        double after = run.Evaluate();
        Assert.True(before < 0.01, $"untrained accuracy {before}");
        Assert.True(after > 0.5, $"accuracy after 200 steps {after}");
        Assert.True(run.Trainer.State.TrainLosses[^1].Loss < run.Trainer.State.TrainLosses[0].Loss / 3, "the loss should fall by more than 3×");

        // decoder position i (having written i characters) must produce source[n − 1 − i]: some layer's cross-attention
        // (mean over heads) puts its largest weight on exactly that source character for most positions
        var source = "wxyzab";
        var inspection = run.Model.Inspect(source);
        int n = source.Length;
        int best = inspection.OfKind(AttentionLab.Inspection.AttentionKinds.Cross).Max(map =>
        {
            var mean = map.MeanOverHeads();
            return Enumerable.Range(0, n).Count(i => System.Numerics.Tensors.TensorPrimitives.IndexOfMax(mean.AsSpan(i * n, n)) == n - 1 - i);
        });
        Assert.True(best >= n / 2, $"only {best} of {n} rows peak on the anti-diagonal");
    }

    [Fact]
    public void BertBeatsTheUnigramBaseline()
    {
        var text = File.ReadAllText(Path.Combine(RepoRoot.Path, "data", "tinyshakespeare.txt"))[..200_000];
        var corpus = Corpus.FromText(text, CharTokenizer.FromCorpus(text));
        var run = new BertTrainingRun(corpus, new BertConfig { Channels = 32, Heads = 2, Layers = 1, MaxLength = 32 },
            Options(200) with { LearningRate = 5e-3 }, batchSize: 32, heldOutBatches: 8);
        while (!run.Trainer.IsFinished) run.Trainer.Step();
        double accuracy = run.Evaluate();
        Assert.InRange(run.UnigramAccuracy, 0.1, 0.25); // ' ' is about 1 character in 6
        // 200 tiny steps are the start of the climb (the full model reaches about twice the baseline, docs/bert.md);
        // the run is seeded, so this margin (about 3 standard errors of ~900 held-out targets) is deterministic
        Assert.True(accuracy > run.UnigramAccuracy + 0.025, $"masked accuracy {accuracy} vs unigram {run.UnigramAccuracy}");
    }

    [Fact]
    public void VitLearnsShapesFarAboveChance()
    {
        var run = new VitTrainingRun(new VitConfig { Channels = 32, Heads = 2, Layers = 1 }, Options(120), batchSize: 32, heldOut: 300);
        while (!run.Trainer.IsFinished) run.Trainer.Step();
        double accuracy = run.Evaluate();
        Assert.True(accuracy > 0.6, $"accuracy {accuracy} (chance 1/6)");
    }

    [Fact]
    public void Seq2SeqSavesAndReloadsExactly()
    {
        var model = new Seq2SeqModel(new Seq2SeqConfig { Channels = 16, Heads = 2, EncoderLayers = 1, DecoderLayers = 2, Seed = 4 });
        var dir = TempDir();
        model.Save(dir);
        var loaded = Seq2SeqModel.Load(dir);
        var batch = Seq2SeqBatch.From([("hello", "olleh"), ("ab", "ba")], model.Vocabulary);
        Assert.Equal(model.Forward(batch), loaded.Forward(batch));
        Assert.Equal(model.Generate(["attention"]), loaded.Generate(["attention"]));
        Assert.Equal(model.Config, loaded.Config);
    }

    [Fact]
    public void BertSavesAndReloadsExactly()
    {
        var model = new BertModel(new BertConfig { Characters = "abc ,.", Channels = 16, Heads = 2, Layers = 2, MaxLength = 16, Seed = 3 });
        var dir = TempDir();
        model.Save(dir);
        var loaded = BertModel.Load(dir);
        var a = model.Inspect("ab_ c,_.");
        var b = loaded.Inspect("ab_ c,_.");
        Assert.Equal(a.Output, b.Output);
        Assert.Equal(a.Maps[1].Weights, b.Maps[1].Weights);
    }

    [Fact]
    public void VitSavesAndReloadsExactly()
    {
        var model = new VisionTransformer(new VitConfig { Channels = 16, Heads = 2, Layers = 1, Seed = 9 });
        var dir = TempDir();
        model.Save(dir);
        var loaded = VisionTransformer.Load(dir);
        var (images, _) = VitTrainingRun.HeldOutImages(16, 4, 1);
        Assert.Equal(model.Logits(images, 4).Data, loaded.Logits(images, 4).Data);
    }

    [Fact]
    public void VitLoadsAFolderOfTheOldStackAndDrawsItsInitialWeights()
    {
        // a folder the Tensor-module ViT saved (fixtures/vit_tensor_module: (out, in) Linear weights, separate
        // query/key/value) loads into the arena, equals a fresh model of the same seed, and the one stack's logits
        // equal the old forward's (expected_logits.json, written by that code)
        var dir = Path.Combine(Fixtures.Directory, "vit_tensor_module");
        var config = new VitConfig { Channels = 16, Heads = 2, Layers = 2, Seed = 3 };
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "expected_logits.json")));
        int batch = doc.RootElement.GetProperty("batch").GetInt32();
        var expected = doc.RootElement.GetProperty("logits").EnumerateArray().Select(e => e.GetDouble()).ToArray();

        var loaded = VisionTransformer.Load(dir);
        Assert.Equal(new VisionTransformer(config).Parameters.Data, loaded.Parameters.Data);
        var (images, _) = VitTrainingRun.HeldOutImages(16, batch, 1);
        Close.Assert(loaded.Logits(images, batch).Data, expected, 1e-5, 1e-5, "logits");

        // and the one stack saves the same format back: the same tensors, names and shapes
        var again = TempDir();
        loaded.Save(again);
        var (old, _) = AttentionLab.IO.SafeTensors.Read(Path.Combine(dir, AttentionLab.IO.ModelFolder.WeightsFile));
        var (saved, _) = AttentionLab.IO.SafeTensors.Read(Path.Combine(again, AttentionLab.IO.ModelFolder.WeightsFile));
        Assert.Equal(old.Keys.Order(), saved.Keys.Order());
        foreach (var (name, tensor) in old)
        {
            Assert.Equal(tensor.Shape, saved[name].Shape);
            Assert.Equal(tensor.Data, saved[name].Data);
        }
    }

    [Fact]
    public void LoadingAnotherModelTypeOrADamagedFolderFailsClearly()
    {
        var dir = TempDir();
        new VisionTransformer(new VitConfig { Channels = 8, Heads = 2, Layers = 1 }).Save(dir);
        var e = Assert.Throws<InvalidDataException>(() => BertModel.Load(dir));
        Assert.Contains("'vit' model, not a 'bert' model", e.Message);
        File.WriteAllText(Path.Combine(dir, "config.json"), "{\"model_type\": \"vit\", \"channels\": 12, \"heads\": 2, \"layers\": 1}");
        e = Assert.Throws<InvalidDataException>(() => VisionTransformer.Load(dir));
        Assert.Contains("cls_token", e.Message); // (8) saved, (12) expected
    }

    [Fact]
    public void BertPaddingDoesNotLeakIntoShorterSequences()
    {
        // the same 5-character sequence alone and batched with a 12-character one: identical logits at its positions
        var model = new BertModel(new BertConfig { Characters = "abcdefgh", Channels = 16, Heads = 2, Layers = 2, MaxLength = 12 });
        int[] shortIds = [2, 3, 1, 5, 6];
        var alone = model.Logits(shortIds, [true, true, true, true, true], 1, 5).Data.ToArray();
        var input = new int[2 * 12];
        var padding = new bool[2 * 12];
        for (int t = 0; t < 12; t++) { input[t] = 2 + t % 8; padding[t] = true; }
        for (int t = 0; t < 5; t++) { input[12 + t] = shortIds[t]; padding[12 + t] = true; }
        for (int t = 5; t < 12; t++) input[12 + t] = 2 + t % 8; // garbage in the padded positions must not matter
        var batched = model.Logits(input, padding, 2, 12).Data;
        int V = model.Config.VocabSize;
        Close.Assert(batched.AsSpan(12 * V, 5 * V), alone, 1e-5, 1e-5, "logits of the short sequence");
    }

    [Fact]
    public void Seq2SeqBatchedDecodingEqualsOneByOne()
    {
        var model = new Seq2SeqModel(new Seq2SeqConfig { Channels = 16, Heads = 2, EncoderLayers = 1, DecoderLayers = 1, Seed = 2 });
        string[] sources = ["abcdefghij", "xy", "hello"];
        var batched = model.Generate(sources);
        Assert.Equal(sources.Select(s => model.Generate([s])[0]), batched);
    }

    [Theory]
    [InlineData("fast")]
    [InlineData("flash")]
    [InlineData("flash,tile:2")]
    public void EveryExactKernelGivesTheSameLossAndGradients(string kernel)
    {
        // the models take any IAttentionKernel by name; an exact one must agree with the plain reference to float
        // rounding (1e-5 on the loss, 1e-4 on gradients), padding masks included
        var config = new Seq2SeqConfig { Channels = 16, Heads = 2, EncoderLayers = 1, DecoderLayers = 1, Seed = 5 };
        var reference = new Seq2SeqModel(config, AttentionLab.Attention.AttentionKernels.Parse("naive"));
        var other = new Seq2SeqModel(config, AttentionLab.Attention.AttentionKernels.Parse(kernel));
        var batch = Seq2SeqBatch.From([("abcdefgh", "hgfedcba"), ("xyz", "zyx")], reference.Vocabulary);
        float expected = reference.Forward(batch), actual = other.Forward(batch);
        Assert.True(Math.Abs(expected - actual) <= 1e-5, $"{kernel}: loss {actual} vs naive {expected}");
        reference.Backward();
        other.Backward();
        foreach (var p in reference.Layout.All)
            Close.Assert(other.Gradients[p.Name].ToArray(), reference.Gradients[p].ToArray(), 1e-4, 1e-4, $"{kernel} d{p.Name}");
    }

    [Fact]
    public void DateTaskTargetsAreTheIsoDatesOfTheirSources()
    {
        var task = new DateTask();
        var random = new SplitMix64(7);
        for (int i = 0; i < 300; i++)
        {
            var (source, target) = task.Sample(ref random);
            Assert.True(source.Length <= task.MaxSourceLength, source);
            Assert.Equal(target, task.Solve(source));
        }
    }

    private static string TempDir() => Path.Combine(Path.GetTempPath(), "attnlab-models-" + Guid.NewGuid().ToString("N"));
}
